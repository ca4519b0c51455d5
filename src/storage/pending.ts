import type { StoredMessage } from './types.js';

/**
 * The full pending list of a save, `kept` then `added`, without copying when one side is empty
 * (the common case: a request either reads or adds). Shared by the storages that rewrite their list.
 */
export const pendingOf = (
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
): readonly StoredMessage[] =>
  kept.length === 0 ? added : added.length === 0 ? kept : [...kept, ...added];
