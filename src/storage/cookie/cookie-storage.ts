import type { Context } from 'koa';

import { parseOptions } from '../../config/parse.js';
import type {
  DropReport,
  MessageStorage,
  SaveRequest,
  StorageHandle,
  StoredMessage,
} from '../types.js';
import { type CookieOptions, cookieOptionsSchema, MessagesCookie } from './messages-cookie.js';

export type { CookieOptions } from './messages-cookie.js';

/**
 * `storage: 'cookie'` (Django's `CookieStorage`): messages in one signed cookie, no session needed,
 * only `app.keys`.
 *
 * - The value is signed with HMAC-SHA256 (128-bit tag) using `app.keys[0]`; any key of `app.keys`
 *   verifies, so keys can be rotated.
 * - At most `maxSize` bytes of value (default 2048): when the pending messages do not fit, the newest
 *   that fit are kept, the list ends with a not-finished marker, and the dropped ones are reported to
 *   `onDrop` with reason `'cookie-size'`.
 * - A cookie that fails any check (signature, size, encoding, shape) counts as no messages and is
 *   deleted at the end of the request; it never raises.
 * - Emptied, the cookie is deleted, and only if the request had one.
 *
 * @param options - the cookie: `name` (`'messages'`), `maxSize` (`2048`), `path` (`'/'`), `domain`,
 *   `secure` (default: when the request is HTTPS), `httpOnly` (`true`), `sameSite` (`'lax'`).
 * @throws {TypeError} `koa-messages: …` for bad options; at first use when `app.keys` is not set.
 * @example
 * app.keys = [process.env.COOKIE_SECRET];
 * app.use(messages({ storage: cookieStorage({ maxSize: 1024 }) }));
 */
export function cookieStorage(options?: CookieOptions): MessageStorage {
  const config = parseOptions(cookieOptionsSchema, options, 'cookieStorage()');
  const cookie = new MessagesCookie(config, 'cookie');
  return { name: 'cookie', open: (ctx) => new CookieHandle(ctx, cookie) };
}

/** One request's messages cookie. */
class CookieHandle implements StorageHandle {
  /** What load() found: whether a cookie came in, and whether it must go whatever the core says. */
  #seen: { readonly present: boolean; readonly cleanup: boolean } | undefined;

  constructor(
    readonly ctx: Context,
    readonly cookie: MessagesCookie,
  ) {}

  load(): readonly StoredMessage[] {
    const read = this.cookie.read(this.ctx);
    // A bad cookie, or one holding no messages (only the not-finished marker), is deleted even
    // though the core says nothing changed (`changed: false` when nothing was consumed or added).
    this.#seen = {
      present: read.present,
      cleanup: read.bad || (read.present && read.messages.length === 0),
    };
    return read.messages;
  }

  save({ pending, added, changed, headersSent }: SaveRequest): DropReport | void {
    const { ctx, cookie } = this;
    // The core may save without loading (`used = true` set by hand, then add): look at the header only.
    const seen = this.#seen ?? { present: cookie.present(ctx), cleanup: false };
    if (!changed && !seen.cleanup) return;
    // The cookie can no longer be sent: what it held stays as it was, what was added is lost.
    if (headersSent)
      return added.length > 0 ? { reason: 'headers-sent', messages: added } : undefined;
    if (pending.length === 0) {
      if (seen.present) cookie.clear(ctx);
      return;
    }
    const dropped = cookie.write(ctx, pending, 'newest');
    return dropped.length > 0 ? { reason: 'cookie-size', messages: dropped } : undefined;
  }
}
