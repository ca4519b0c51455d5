import type { Context } from 'koa';

import { describe } from '../level.js';
import { decodeMessages, encodeMessages } from './codec.js';
import { pendingOf } from './pending.js';
import type { MessageStorage } from './types.js';

type SessionData = Record<string, unknown>;

/**
 * The koa-session session of this request. koa-session 7 gives `ctx.session` no type, so it is
 * read here and nowhere else.
 *
 * @returns the session, or `null` when the app destroyed it in this request (`ctx.session = null`).
 * @throws {TypeError} when koa-session is not installed.
 */
export function sessionOf(ctx: Context): SessionData | null {
  const session = (ctx as { session?: unknown }).session;
  if (session === undefined) {
    throw new TypeError(
      'koa-messages: storage `session` needs koa-session, and ctx.session is undefined. ' +
        'Install it before messages(): app.use(session(app)); app.use(messages());',
    );
  }
  return session as SessionData | null;
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
    throw new TypeError(
      `koa-messages: sessionStorage(key) needs a non-empty string key, got ${key === '' ? "''" : describe(key)}.`,
    );
  }
  const problem = sessionKeyProblem(key);
  if (problem !== undefined)
    throw new TypeError(`koa-messages: sessionStorage(key) key ${problem}.`);
  // Requests whose stored value held invalid entries: rewrite (clean) it even if nothing changed.
  const unclean = new WeakSet<Context>();

  return {
    load(ctx) {
      const session = sessionOf(ctx);
      if (session === null) return [];
      const { messages, clean } = decodeMessages(session[key]);
      if (!clean) unclean.add(ctx);
      return messages;
    },

    save(ctx, { kept, added, changed }) {
      if (!changed && !unclean.has(ctx)) return;
      const pending = pendingOf(kept, added);
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
