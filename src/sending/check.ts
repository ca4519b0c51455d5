import { describeValue, MessagesError } from '../errors.js';
import { type Level, toLevel } from '../message/level.js';
import { checkAddOptions, checkMessage } from '../request/add-options.js';
import type { MessageText } from '../request/store.js';
import type { StoredMessage } from '../storage/types.js';
import type { SendOptions, UserId } from './types.js';

/** The longest user id an outbox takes. */
export const MAX_USER_ID = 256;

// C0 and C1 control characters and DEL: never in an id that ends up in logs and Redis keys.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A user id as outboxes key it: a string of 1 to 256 characters without control characters; a
 * safe integer becomes its decimal string.
 *
 * @param what - who is asking, for the error (`'outbox.send() user'`).
 * @throws {MessagesError} `ERR_KOA_MESSAGES_ARGUMENT` for anything else.
 */
export function checkUserId(user: unknown, what: string): UserId {
  const id = typeof user === 'number' && Number.isSafeInteger(user) ? String(user) : user;
  if (typeof id !== 'string') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `${what} must be a string or an integer, got ${describeValue(user)}.`,
    );
  }
  if (id === '' || id.length > MAX_USER_ID || CONTROL.test(id)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `${what} must be 1 to ${MAX_USER_ID} characters without control characters, got ` +
        `${id === '' ? "''" : `a string of ${id.length} characters`}${CONTROL.test(id) ? ' with a control character' : ''}.`,
    );
  }
  return id;
}

/**
 * A sent message as outboxes store it, checked as `ctx.messages.add()` checks (descriptors are
 * accepted: the showing app translates them); `undefined` for an empty text, which, as with
 * `add()`, is not sent. Always dated (`addedAt`), so the app's `maxAge` and the outbox's `ttl`
 * count from the send.
 *
 * @throws {MessagesError} before anything is written.
 */
export function checkSend(
  level: Level,
  message: MessageText,
  options: SendOptions | undefined,
  now: number,
): StoredMessage | undefined {
  const numeric = toLevel(level, 'outbox.send() level');
  const descriptor = checkMessage(message, true);
  const { extraTags, html, key, maxAge } = checkAddOptions(options);
  if (message === '') return undefined;
  const stored: {
    level: number;
    message: string;
    extraTags: string;
    html: boolean;
    key?: string;
    addedAt: number;
    maxAge?: number;
    descriptor?: StoredMessage['descriptor'];
  } = {
    level: numeric,
    message: descriptor === undefined ? (message as string) : descriptor.id,
    extraTags,
    html,
    addedAt: now,
  };
  if (key !== undefined) stored.key = key;
  if (maxAge !== undefined) stored.maxAge = maxAge;
  if (descriptor !== undefined) stored.descriptor = descriptor;
  return stored;
}
