import type { MessageStorage, StorageHandle } from './types.js';

/** The one handle every request shares: it holds nothing. */
const NOTHING: StorageHandle = Object.freeze({
  load: () => [],
  save: () => undefined,
});

/**
 * `storage: 'memory'`: messages live for this request only (djem's MemoryStorage). Nothing is read
 * or written; what is not read before the response is gone. For tests, and for requests that must
 * not touch the session (an API called by `fetch` that adds and answers in one go).
 */
export function memoryStorage(): MessageStorage {
  return { name: 'memory', open: () => NOTHING };
}
