import type { Context } from 'koa';

import { describeValue, MessagesError } from '../errors.js';
import { decodeMessages, encodeMessages } from './codec.js';
import type { MessageStorage } from './types.js';

type SessionData = Record<string, unknown>;

/**
 * Requests that began (reached `messages()`) before koa-session's middleware had run for them:
 * koa-session is installed after `messages()`, or not at all. koa-session saves the session when
 * its own middleware returns, so messages written after that, at the end of `messages()`, would be
 * lost without a word.
 */
const beforeSession = new WeakSet<Context>();

/**
 * Whether koa-session's middleware has started on this request. It creates its per-request
 * `ContextSession` (an own, symbol-keyed property of `ctx` that has `ctx` and `commit()`; so in
 * koa-session 6 and 7) before calling `next()`; nothing else does that before a handler reads
 * `ctx.session`.
 */
function sessionStarted(ctx: Context): boolean {
  for (const key of Object.getOwnPropertySymbols(ctx)) {
    const value: unknown = (ctx as unknown as Record<symbol, unknown>)[key];
    if (
      typeof value === 'object' &&
      value !== null &&
      (value as { ctx?: unknown }).ctx === ctx &&
      typeof (value as { commit?: unknown }).commit === 'function'
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Note, as a request enters `messages()`, whether koa-session's middleware runs outside it. Cheap:
 * a look at `ctx`'s own symbol keys, no session read.
 */
export function noteSessionOrder(ctx: Context): void {
  if (!sessionStarted(ctx)) beforeSession.add(ctx);
}

/**
 * Throw unless koa-session is installed before `messages()`, in this request's middleware chain.
 * `in`, not a read: koa-session's getter would parse its cookie, and the session must stay
 * untouched on requests that do not need it.
 *
 * @param storage - the storage name, for the message.
 */
export function requireSession(ctx: Context, storage: string): void {
  const usage = `app.use(session(app)); app.use(messages(${storage === 'session' ? '' : `{ storage: '${storage}' }`}));`;
  if (!('session' in ctx)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_SESSION',
      `storage \`${storage}\` needs koa-session, and ctx.session is undefined. Install it before messages(): ${usage}`,
    );
  }
  if (beforeSession.has(ctx)) {
    // koa-session's middleware had not run when the request reached messages(): it runs inside
    // (and saves before messages() writes), or not at all for this request (nothing saves).
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_SESSION',
      `storage \`${storage}\` needs koa-session's middleware to run before messages(), and it had not ` +
        `run when this request reached messages(): koa-session would save the session before messages() ` +
        `writes to it, and the messages would be lost. Install koa-session first: ${usage}`,
    );
  }
}

/**
 * The koa-session session of this request. koa-session 7 gives `ctx.session` no type, so it is
 * read here and nowhere else.
 *
 * @returns the session, or `null` when the app destroyed it in this request (`ctx.session = null`).
 * @throws {MessagesError} `ERR_KOA_MESSAGES_NO_SESSION` when koa-session is missing or installed
 *   after `messages()`.
 */
function sessionOf(ctx: Context, storage = 'session'): SessionData | null {
  requireSession(ctx, storage);
  return (ctx as { session?: unknown }).session as SessionData | null;
}

/**
 * Names a koa-session `Session` object already has (its members, and `Object.prototype`'s): messages
 * stored under one of them would throw on every save (`length`, `maxAge`), vanish (`isNew`), or
 * break the app's own `ctx.session.save()`.
 */
const SESSION_MEMBERS = new Set([
  'isNew',
  'length',
  'populated',
  'maxAge',
  'externalKey',
  'toJSON',
  'inspect',
  'save',
  'regenerate',
  'manuallyCommit',
  'commit',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/** Why `key` cannot be a session key, or `undefined` when it can. */
export function sessionKeyProblem(key: string): string | undefined {
  if (key.startsWith('_')) return "must not start with '_': koa-session does not save such keys";
  if (SESSION_MEMBERS.has(key))
    return `must not be '${key}', a name koa-session's session object already uses`;
  return undefined;
}

/**
 * A `sessionKey` option, checked: the default when omitted.
 *
 * @param caller - names the function in the error, e.g. `messages()`.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for a key koa-session would not save or that
 *   its session object already uses.
 */
export function checkSessionKey(key: unknown, caller: string): string {
  if (key === undefined) return 'messages';
  const problem =
    typeof key !== 'string' || key === '' ? 'must be a non-empty string' : sessionKeyProblem(key);
  if (problem !== undefined) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `invalid ${caller} options: option \`sessionKey\` ${problem}.`,
    );
  }
  return key as string;
}

/**
 * `storage: 'session'` (the default): messages in the koa-session session under `key`, as a
 * list of compact tuples (see `codec.ts`).
 *
 * The key is written only when the pending list changed, and removed when it becomes empty, so
 * koa-session (which saves only when the session's JSON changed) writes nothing on requests that
 * leave messages alone.
 *
 * @param key - the session key (`messages()` passes its `sessionKey` option, default `'messages'`).
 * @throws {TypeError} when `key` is not a non-empty string, starts with `_`, or is a name the
 *   session object already uses (`length`, `save`, `toString`, …).
 */
export function sessionStorage(key: string): MessageStorage {
  // messages() checks its `sessionKey` option; this factory is exported too, so it checks its own.
  if (typeof key !== 'string' || key === '') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `sessionStorage(key) needs a non-empty string key, got ${key === '' ? "''" : describeValue(key)}.`,
    );
  }
  const problem = sessionKeyProblem(key);
  if (problem !== undefined)
    throw new MessagesError('ERR_KOA_MESSAGES_OPTION', `sessionStorage(key) key ${problem}.`);
  // Requests whose stored value held invalid entries: rewrite (clean) it even if nothing changed.
  const unclean = new WeakSet<Context>();

  return {
    preload(ctx) {
      noteSessionOrder(ctx);
      return null;
    },

    load(ctx) {
      const session = sessionOf(ctx);
      if (session === null) return [];
      const value = session[key];
      const { messages, clean } = decodeMessages(value);
      // A value that holds no message (garbage, `null`, `[]`: never written by us) is removed.
      if (!clean || (value !== undefined && messages.length === 0)) unclean.add(ctx);
      return messages;
    },

    save(ctx, { pending, changed }) {
      if (!changed && !unclean.has(ctx)) return;
      const session = sessionOf(ctx);
      if (session === null) {
        // The app logged the visitor out during this request: messages added for the next
        // response ("You have been logged out.") go into a fresh session.
        if (pending.length > 0)
          (ctx as { session?: unknown }).session = { [key]: encodeMessages(pending) };
        return;
      }
      if (pending.length > 0) session[key] = encodeMessages(pending);
      else if (key in session) delete session[key];
    },
  };
}
