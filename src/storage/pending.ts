import type { SaveRequest, StoredMessage } from './types.js';

/**
 * The full pending list, `kept` then `added`, without copying when one side is empty (the common
 * case: a request either reads or adds).
 */
export const pendingOf = <T extends StoredMessage>(
  kept: readonly T[],
  added: readonly T[],
): readonly T[] => (kept.length === 0 ? added : added.length === 0 ? kept : [...kept, ...added]);

/** A {@link SaveRequest}, its `pending` list made once for every storage that needs it. */
export function saveRequest(
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
  changed: boolean,
): SaveRequest {
  return { kept, added, pending: pendingOf(kept, added), changed };
}
