import type { StorageChoice } from '../options.js';
import { createCookieStorage } from './cookie/cookie-storage.js';
import { createFallbackStorage } from './cookie/fallback-storage.js';
import { parseCookieOptions } from './cookie/messages-cookie.js';
import { memoryStorage } from './memory.js';
import { checkSessionKey, sessionStorage } from './session.js';
import type { MessageStorage } from './types.js';

/**
 * The storage `messages({ storage })` names: the built-in names are sugar for the factories, and
 * each storage checks the options that are its own (`sessionKey`, `cookie`), so the options of
 * `messages()` know nothing of how a storage works.
 *
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` from the storage's own checks, naming the option.
 */
export function resolveStorage(choice: StorageChoice): MessageStorage {
  if ('storage' in choice) return choice.storage;
  switch (choice.name) {
    case 'session':
      return sessionStorage(checkSessionKey(choice.sessionKey, 'messages()'));
    case 'cookie':
      return createCookieStorage(parseCookieOptions(choice.cookie, 'messages()'));
    case 'fallback':
      return createFallbackStorage(
        checkSessionKey(choice.sessionKey, 'messages()'),
        parseCookieOptions(choice.cookie, 'messages()'),
      );
    case 'memory':
      return memoryStorage();
  }
}
