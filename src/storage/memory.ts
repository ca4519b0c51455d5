import type { MessageStorage } from './types.js';

/**
 * `storage: 'memory'`: messages live for this request only (djem's MemoryStorage). Nothing is read
 * or written; what is not read before the response is gone. For tests, and for requests that must
 * not touch the session (an API called by `fetch` that adds and answers in one go).
 */
export function memoryStorage(): MessageStorage {
  return {
    load: () => [],
    save: () => undefined,
  };
}
