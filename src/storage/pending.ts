import type { SaveRequest, StoredMessage } from './types.js';

/**
 * The full pending list, `kept` then `added`, without copying when one side is empty (the common
 * case: a request either reads or adds).
 */
export const pendingOf = <T extends StoredMessage>(
  kept: readonly T[],
  added: readonly T[],
): readonly T[] => (kept.length === 0 ? added : added.length === 0 ? kept : [...kept, ...added]);

/** How the request ends, as a storage's save needs to know it. */
export interface SaveExit {
  readonly headersSent: boolean;
  readonly failed: boolean;
  /** The app's `maxMessages`, for storages that bound a list shared by parallel requests. */
  readonly maxMessages?: number | undefined;
}

const NORMAL: SaveExit = Object.freeze({ headersSent: false, failed: false });

/** A {@link SaveRequest}, its `pending` list made once for every storage that needs it. */
export function saveRequest(
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
  changed: boolean,
  exit: SaveExit = NORMAL,
): SaveRequest {
  return {
    kept,
    added,
    pending: pendingOf(kept, added),
    changed,
    headersSent: exit.headersSent,
    failed: exit.failed,
    maxMessages: exit.maxMessages,
  };
}
