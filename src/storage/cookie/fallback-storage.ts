import type { Context } from 'koa';
import { z } from 'zod';

import { parseOptions, type Same } from '../../config/parse.js';
import { saveRequest } from '../pending.js';
import { requireSession, SessionHandle, sessionKeySchema, sessionRunsOutside } from '../session.js';
import type {
  DropReport,
  MessageStorage,
  SaveRequest,
  StorageHandle,
  StoredMessage,
} from '../types.js';
import { type CookieOptions, cookieOptionsSchema, MessagesCookie } from './messages-cookie.js';

/** Options of {@link fallbackStorage}. */
export interface FallbackOptions {
  /**
   * Session key for the messages that do not fit in the cookie.
   * @default 'messages'
   */
  sessionKey?: string | undefined;
  /** The messages cookie, as for `cookieStorage()`. */
  cookie?: CookieOptions | undefined;
}

const fallbackOptionsSchema = z.strictObject({
  sessionKey: sessionKeySchema.default('messages'),
  cookie: cookieOptionsSchema.prefault({}),
});
const exact: Same<z.input<typeof fallbackOptionsSchema>, FallbackOptions> = true;
void exact;

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
 * Needs koa-session installed before `messages()` (as Django's needs its session middleware),
 * checked on every request that uses messages, even when they all fit in the cookie.
 *
 * @param options - `sessionKey` (`'messages'`), `cookie` (see `cookieStorage()`).
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for bad options; on first use,
 *   `ERR_KOA_MESSAGES_NO_KEYS` when `app.keys` is not set and `ERR_KOA_MESSAGES_NO_SESSION` when
 *   koa-session is not installed before `messages()`.
 * @example
 * app.keys = [process.env.COOKIE_SECRET];
 * app.use(session({ store }, app));
 * app.use(messages({ storage: 'fallback' }));
 */
export function fallbackStorage(options?: FallbackOptions): MessageStorage {
  const { sessionKey, cookie: cookieConfig } = parseOptions(
    fallbackOptionsSchema,
    options,
    'fallbackStorage()',
  );
  const cookie = new MessagesCookie(cookieConfig, 'fallback');
  return {
    name: 'fallback',
    enter: (ctx) =>
      sessionRunsOutside(ctx) ? null : new FallbackHandle(ctx, cookie, sessionKey, false),
    open: (ctx) => new FallbackHandle(ctx, cookie, sessionKey, true),
  };
}

/** One request's view of the fallback storage: its cookie, and its session half. */
class FallbackHandle implements StorageHandle {
  /** The session half is the session storage itself, so both keep the same format and checks. */
  readonly session: SessionHandle;
  /** What load() found: as for the cookie storage, plus whether the session may hold messages. */
  #seen:
    { readonly present: boolean; readonly cleanup: boolean; readonly session: boolean } | undefined;

  constructor(
    readonly ctx: Context,
    readonly cookie: MessagesCookie,
    sessionKey: string,
    readonly outside: boolean,
  ) {
    this.session = new SessionHandle(ctx, sessionKey, outside, 'fallback');
  }

  // Checked even when every message fits in the cookie: a set-up that works only until the first
  // overflow would fail far from its cause.
  load(): readonly StoredMessage[] {
    requireSession(this.ctx, 'fallback', this.outside);
    const read = this.cookie.read(this.ctx);
    const overflow = read.more ? this.session.load() : [];
    const all =
      overflow.length === 0
        ? read.messages
        : read.messages.length === 0
          ? overflow
          : [...read.messages, ...overflow];
    // A cookie that leads to no messages at all (bad, or a marker whose session part is gone) is deleted.
    this.#seen = {
      present: read.present,
      cleanup: read.bad || (read.present && all.length === 0),
      session: read.more,
    };
    return all;
  }

  async save(request: SaveRequest): Promise<DropReport | void> {
    const { ctx, cookie } = this;
    const { pending, added, changed, headersSent } = request;
    requireSession(ctx, 'fallback', this.outside);
    const seen = this.#seen ?? { present: cookie.present(ctx), cleanup: false, session: false };
    if (!changed && !seen.cleanup) return;
    // Neither the cookie nor koa-session's can be sent any more: nothing is written.
    if (headersSent)
      return added.length > 0 ? { reason: 'headers-sent', messages: added } : undefined;
    const overflow = pending.length === 0 ? [] : cookie.write(ctx, pending, 'oldest');
    if (pending.length === 0 && seen.present) cookie.clear(ctx);
    // Written only on overflow; otherwise emptied only if this request read messages from it.
    // The session storage skips the write when the key is absent, so koa-session saves nothing.
    if (overflow.length > 0 || seen.session)
      return this.session.save(saveRequest([], overflow, true, request));
  }
}
