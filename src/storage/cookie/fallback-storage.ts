import type { Context } from 'koa';

import { describe } from '../../level.js';
import { pendingOf } from '../pending.js';
import { sessionKeyProblem, sessionStorage } from '../session.js';
import type { MessageStorage } from '../types.js';
import type { Seen } from './cookie-storage.js';
import { type CookieOptions, MessagesCookie, parseCookieOptions } from './messages-cookie.js';

/** Options of {@link fallbackStorage}. */
export interface FallbackOptions {
  /** Session key for the messages that do not fit in the cookie (default `'messages'`). */
  sessionKey?: string;
  /** The messages cookie, as for `cookieStorage()`. */
  cookie?: CookieOptions;
}

/** Per request: as for the cookie storage, plus whether the session was read (and so may hold messages). */
interface FallbackSeen extends Seen {
  readonly session: boolean;
}

/**
 * `storage: 'fallback'` (Django's `FallbackStorage`, its default): the signed messages cookie first,
 * the koa-session session for what does not fit.
 *
 * - Writing: the cookie keeps the oldest messages that fit and ends with the not-finished marker;
 *   the newest go to the session. When everything fits, the session is not touched.
 * - Reading: the cookie, then, only when it ends with the marker, the session: original order.
 *   A request without the marker never reads the session.
 * - Once consumed, every backend that held messages is cleared (the cookie deleted, the session
 *   key removed). A bad cookie counts as no messages, is deleted, and the session is not read.
 *
 * Overflow lands in the session: with koa-session's default cookie store that is a cookie too, so
 * this pays off with an external session store (`session({ store }, app)`).
 *
 * @param options - `sessionKey` (`'messages'`), `cookie` (see `cookieStorage()`).
 * @throws {TypeError} `koa-messages: …` for bad options; at first use when `app.keys` is not set
 *   or koa-session is not installed.
 * @example
 * app.keys = [process.env.COOKIE_SECRET];
 * app.use(session({ store }, app));
 * app.use(messages({ storage: 'fallback' }));
 */
export function fallbackStorage(options: FallbackOptions = {}): MessageStorage {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `koa-messages: fallbackStorage(options) takes an options object, got ${describe(options)}.`,
    );
  }
  const { sessionKey = 'messages', cookie: cookieOptions, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new TypeError(
      `koa-messages: unknown fallbackStorage() option ${unknown.map((k) => `\`${k}\``).join(', ')}.`,
    );
  }
  // Same rule as messages({ sessionKey }): koa-session would silently not save such a key.
  if (typeof sessionKey !== 'string' || sessionKey === '' || sessionKey.startsWith('_')) {
    throw new TypeError(
      "koa-messages: fallbackStorage() option `sessionKey` must be a non-empty string that does not start with '_' " +
        '(koa-session does not save such keys).',
    );
  }
  const problem = sessionKeyProblem(sessionKey);
  if (problem !== undefined)
    throw new TypeError(`koa-messages: fallbackStorage() option \`sessionKey\` ${problem}.`);
  const cookie = new MessagesCookie(
    parseCookieOptions(cookieOptions, 'fallbackStorage()'),
    'fallback',
  );
  // The session half is the session storage itself, so both keep the same format and checks.
  const session = sessionStorage(sessionKey);
  const seen = new WeakMap<Context, FallbackSeen>();

  const requireSession = (ctx: Context): void => {
    // `in`, not a read: koa-session's getter would parse its cookie, and the session must stay
    // untouched on requests whose messages all fit in the cookie.
    if (!('session' in ctx)) {
      throw new TypeError(
        'koa-messages: storage `fallback` needs koa-session for the messages that do not fit in the cookie. ' +
          'Install it before messages(): app.use(session(app)); app.use(messages({ storage: "fallback" }));',
      );
    }
  };

  return {
    load(ctx) {
      requireSession(ctx);
      const read = cookie.read(ctx);
      const overflow = read.more ? session.load(ctx) : [];
      const all =
        overflow.length === 0
          ? read.messages
          : read.messages.length === 0
            ? overflow
            : [...read.messages, ...overflow];
      // A cookie that leads to no messages at all (bad, or a marker whose session part is gone) is deleted.
      seen.set(ctx, {
        present: read.present,
        cleanup: read.bad || (read.present && all.length === 0),
        session: read.more,
      });
      return all;
    },

    save(ctx, { kept, added, changed }) {
      requireSession(ctx);
      const state = seen.get(ctx) ?? {
        present: cookie.present(ctx),
        cleanup: false,
        session: false,
      };
      if (!changed && !state.cleanup) return;
      const pending = pendingOf(kept, added);
      const overflow = pending.length === 0 ? [] : cookie.write(ctx, pending, 'oldest');
      if (pending.length === 0 && state.present) cookie.clear(ctx);
      // Written only on overflow; otherwise emptied only if this request read messages from it.
      // The session storage skips the write when the key is absent, so koa-session saves nothing.
      if (overflow.length > 0 || state.session)
        session.save(ctx, { kept: [], added: overflow, changed: true });
    },
  };
}
