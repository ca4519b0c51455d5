import type { MessagesOptions } from '../../src/index.js';

/**
 * The persistent storages that the shared behaviour suite (test/core/storage-behaviour.test.ts)
 * runs against: each must give Django's BaseTests results through real HTTP.
 */
export const PERSISTENT_STORAGES: { name: string; options: MessagesOptions }[] = [
  { name: 'session', options: { storage: 'session' } },
  { name: 'cookie', options: { storage: 'cookie' } },
  { name: 'fallback', options: { storage: 'fallback' } },
];
