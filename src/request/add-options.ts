import { describeValue, MessagesError } from '../errors.js';
import { checkDescriptor, type MessageDescriptor } from '../message/descriptor.js';
import { isPlainObject } from '../message/plain-object.js';

/** Options of `ctx.messages.add()` and the level shortcuts. */
export interface AddOptions {
  /**
   * Space-separated tags put before the level tag in `tags` (Django's `extra_tags`); `null` (Django's
   * `None`) means none.
   * @default ''
   */
  extraTags?: string | null;
  /**
   * The text is trusted HTML: `ctx.ajax()` sends it unescaped. Never set this for text with user input.
   * @default false
   */
  html?: boolean;
  /**
   * At most one pending message per key: a later add with the same key removes the pending one and
   * appends the new one ("3 items saved" becomes "4 items saved"). Stored with the message, so it
   * holds across requests; a message already read in this request is no longer pending
   * (docs/dedupe.md).
   * @default undefined
   */
  key?: string;
  /**
   * Milliseconds this message stays pending, overriding the `maxAge` option: a request that loads
   * it later drops it and reports it to `onDrop` as `'expired'` (docs/expiry.md).
   * @default the `maxAge` option
   */
  maxAge?: number;
}

/** {@link AddOptions} checked, with their defaults. */
export interface CheckedAddOptions {
  readonly extraTags: string;
  readonly html: boolean;
  readonly key: string | undefined;
  readonly maxAge: number | undefined;
}

const NO_OPTIONS: CheckedAddOptions = Object.freeze({
  extraTags: '',
  html: false,
  key: undefined,
  maxAge: undefined,
});

const fail = (message: string): never => {
  throw new MessagesError('ERR_KOA_MESSAGES_ARGUMENT', message);
};

/**
 * The message of `add()`: `undefined` for a text, the checked descriptor for a plain object.
 *
 * @param translates - the app has a `translate` option (a descriptor needs one).
 * @throws {MessagesError} for anything else, or a descriptor without `translate`.
 */
export function checkMessage(message: unknown, translates: boolean): MessageDescriptor | undefined {
  if (typeof message === 'string') return undefined;
  // A plain object is meant as a descriptor; an Error or a `String` is not.
  if (!isPlainObject(message)) {
    fail(
      `ctx.messages.add() message must be a string or a descriptor { id, values? }, got ${describeValue(message)}.`,
    );
  }
  const descriptor = checkDescriptor(message as Record<string, unknown>);
  if (!translates) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `ctx.messages.add() got a message descriptor ({ id: '${descriptor.id}' }), but messages() has no ` +
        '`translate` option to turn it into text; pass translate: (descriptor, ctx) => string (docs/translation.md).',
    );
  }
  return descriptor;
}

/** Check the options of `add()` completely, before anything is added. */
export function checkAddOptions(options: AddOptions | undefined): CheckedAddOptions {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail(`ctx.messages.add() options must be an object, got ${describeValue(options)}.`);
  for (const key of Object.keys(options)) {
    if (key !== 'extraTags' && key !== 'html' && key !== 'key' && key !== 'maxAge') {
      fail(
        `unknown ctx.messages.add() option \`${key}\`; use \`extraTags\`, \`html\`, \`key\` or \`maxAge\`.`,
      );
    }
  }
  const { extraTags: given, html = false, key, maxAge } = options;
  const extraTags = given ?? '';
  if (typeof extraTags !== 'string')
    fail(
      `ctx.messages.add() option \`extraTags\` must be a string or null, got ${describeValue(extraTags)}.`,
    );
  if (typeof html !== 'boolean')
    fail(`ctx.messages.add() option \`html\` must be a boolean, got ${describeValue(html)}.`);
  if (key !== undefined && (typeof key !== 'string' || key === ''))
    fail(
      `ctx.messages.add() option \`key\` must be a non-empty string, got ${key === '' ? "''" : describeValue(key)}.`,
    );
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge > 0))
    fail(
      `ctx.messages.add() option \`maxAge\` must be a positive integer of milliseconds, got ${typeof maxAge === 'number' ? String(maxAge) : describeValue(maxAge)}.`,
    );
  return { extraTags, html, key, maxAge };
}
