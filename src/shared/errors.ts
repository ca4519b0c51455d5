/**
 * The one error class koa-messages throws, shared by the server and the browser entry (so it
 * imports nothing). It extends `TypeError`, as every koa-messages error is a programmer's or an
 * operator's mistake, so `instanceof TypeError` and `String(error)` (`TypeError: koa-messages: …`)
 * read as before; `code` is what a caller matches on, as with Node's own `ERR_*` codes.
 */

/**
 * What went wrong, stable across releases:
 * - `ERR_KOA_MESSAGES_OPTION`: an option of `messages()` or a storage factory is unknown, malformed
 *   or does not apply (thrown by the factory), or misbehaves at run time (`cookie.secure` on HTTP).
 * - `ERR_KOA_MESSAGES_ARGUMENT`: a bad argument to `ctx.messages.add()`, `ctx.ajax()`, … (nothing
 *   was added or consumed).
 * - `ERR_KOA_MESSAGES_NOT_INSTALLED`: `ctx.messages` or `ctx.ajax()` used where `messages()` has
 *   not run.
 * - `ERR_KOA_MESSAGES_NO_SESSION`: the storage needs koa-session, which is missing or installed
 *   after `messages()`.
 * - `ERR_KOA_MESSAGES_NO_KEYS`: the storage signs a cookie and `app.keys` is not set.
 */
export type MessagesErrorCode =
  | 'ERR_KOA_MESSAGES_OPTION'
  | 'ERR_KOA_MESSAGES_ARGUMENT'
  | 'ERR_KOA_MESSAGES_NOT_INSTALLED'
  | 'ERR_KOA_MESSAGES_NO_SESSION'
  | 'ERR_KOA_MESSAGES_NO_KEYS';

/** Every {@link MessagesErrorCode}, for documentation and tests. */
export const MESSAGES_ERROR_CODES: readonly MessagesErrorCode[] = Object.freeze([
  'ERR_KOA_MESSAGES_OPTION',
  'ERR_KOA_MESSAGES_ARGUMENT',
  'ERR_KOA_MESSAGES_NOT_INSTALLED',
  'ERR_KOA_MESSAGES_NO_SESSION',
  'ERR_KOA_MESSAGES_NO_KEYS',
]);

/**
 * A koa-messages error: `message` starts with `koa-messages: `, `code` says which kind.
 *
 * @example
 * try { messages({ level: 'verbose' }); }
 * catch (error) { if (isMessagesError(error, 'ERR_KOA_MESSAGES_OPTION')) console.error(error.message); }
 */
export class MessagesError extends TypeError {
  readonly code: MessagesErrorCode;

  /**
   * @param code - the kind of mistake.
   * @param message - the sentence after the `koa-messages: ` prefix, naming the option or argument.
   */
  constructor(code: MessagesErrorCode, message: string, options?: { cause?: unknown }) {
    super(`koa-messages: ${message}`, options);
    this.code = code;
  }
}

/** Whether `error` is a {@link MessagesError}, of `code` when given. */
export function isMessagesError(error: unknown, code?: MessagesErrorCode): error is MessagesError {
  return error instanceof MessagesError && (code === undefined || error.code === code);
}

/** A short, safe description of a value for error messages ("an array", "an instance of Date"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    const name =
      proto && typeof proto === 'object' && 'constructor' in proto
        ? (proto.constructor as { name?: unknown }).name
        : undefined;
    return typeof name === 'string' && name !== '' && name !== 'Object'
      ? `an instance of ${name}`
      : 'an object';
  }
  return typeof value;
}
