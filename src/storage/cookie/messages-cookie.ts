import { debuglog } from 'node:util';

import type { Context } from 'koa';
import { z } from 'zod';

import type { Same } from '../../config/parse.js';
import { MessagesError } from '../../errors.js';
import { decodeMessages, encodeMessage } from '../codec.js';
import type { StoredMessage } from '../types.js';
import { type Signer, signerFor } from './signing.js';

const debug = debuglog('koa-messages');

// RFC 6265 section 4.1.1: a cookie name is an RFC 2616 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The `cookies` package's own checks, so a bad value fails when the app starts, not on a request.
const DOMAIN =
  /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const PATH = /^\/[!-:=-~]*$/;

/**
 * Smallest budget: room for the signature of any keygrip algorithm (sha512: 86 characters) and the
 * not-finished marker. Largest: 4096 bytes, what browsers keep for a whole cookie (RFC 6265
 * section 6.1); a larger value would be dropped by the browser without a word.
 */
const MIN_COOKIE_SIZE = 128;
const MAX_COOKIE_SIZE = 4096;

const SIZE_ERROR = `must be an integer from ${MIN_COOKIE_SIZE} to ${MAX_COOKIE_SIZE} (bytes of cookie value)`;

/** The runtime check of {@link CookieOptions}. */
export const cookieOptionsSchema = z
  .strictObject({
    name: z
      .string()
      .regex(TOKEN, { message: 'must be a cookie name (an RFC 6265 token)' })
      .default('messages'),
    maxSize: z
      .int({ error: SIZE_ERROR })
      .min(MIN_COOKIE_SIZE, { error: SIZE_ERROR })
      .max(MAX_COOKIE_SIZE, { error: SIZE_ERROR })
      .default(2048),
    domain: z.string().regex(DOMAIN, { message: 'must be a domain name' }).optional(),
    path: z
      .string()
      .regex(PATH, { message: "must start with '/' and hold no space, ';' or '<'" })
      .default('/'),
    secure: z.boolean().optional(),
    httpOnly: z.boolean().default(true),
    sameSite: z
      .union([z.literal('lax'), z.literal('strict'), z.literal('none'), z.literal(false)], {
        error: "must be 'lax', 'strict', 'none' or false",
      })
      .default('lax'),
  })
  .refine((o) => !(o.sameSite === 'none' && o.secure === false), {
    message:
      "must not be 'none' when `secure` is false: browsers reject SameSite=None cookies that are not Secure",
    path: ['sameSite'],
  });

/** Options of the messages cookie (storages `'cookie'` and `'fallback'`); every key is optional. */
export interface CookieOptions {
  /**
   * The cookie's name (an RFC 6265 token).
   * @default 'messages'
   */
  name?: string | undefined;
  /**
   * Bytes of cookie value at most, 128 to 4096: when the pending messages do not fit, the newest
   * that fit are kept (`'cookie'`) or the rest overflow into the session (`'fallback'`).
   * @default 2048
   */
  maxSize?: number | undefined;
  /**
   * The cookie's `Domain`.
   * @default undefined (this host only)
   */
  domain?: string | undefined;
  /**
   * The cookie's `Path`.
   * @default '/'
   */
  path?: string | undefined;
  /**
   * Send the cookie over HTTPS only. `true` on a request that is not HTTPS (behind a TLS proxy,
   * set `app.proxy = true`) is an error, not a cookie silently not sent.
   * @default whether the request is HTTPS
   */
  secure?: boolean | undefined;
  /**
   * Keep the cookie from page scripts.
   * @default true
   */
  httpOnly?: boolean | undefined;
  /**
   * The cookie's `SameSite`; `'none'` needs `secure`.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none' | false | undefined;
}

const exact: Same<z.input<typeof cookieOptionsSchema>, CookieOptions> = true;
void exact;

export type CookieConfig = z.output<typeof cookieOptionsSchema>;

/**
 * The not-finished marker: a bare `0` as the last element of the list. Entries are arrays, so a
 * number cannot be mistaken for one; it costs 2 bytes of JSON where Django's
 * `"__messagesnotfinished__"` costs 26.
 */
const MORE = 0;

/** What the request's messages cookie held. */
interface CookieRead {
  /** A non-empty messages cookie came with the request (valid or not): emptying must delete it. */
  readonly present: boolean;
  /** It was invalid and must be deleted or replaced at the end of the request. */
  readonly bad: boolean;
  readonly messages: StoredMessage[];
  /** The list ended with the not-finished marker: more messages were kept elsewhere or dropped. */
  readonly more: boolean;
}

const ABSENT: CookieRead = Object.freeze({ present: false, bad: false, messages: [], more: false });
const BAD: CookieRead = Object.freeze({ present: true, bad: true, messages: [], more: false });

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** base64url length of `bytes` bytes, without padding. */
const base64Length = (bytes: number): number => Math.ceil((bytes * 4) / 3);

/**
 * The messages cookie: one cookie whose value is `base64url(JSON list of tuples).tag`.
 *
 * JSON of the codec's tuples, `[[25,"Saved."],[30,"Low disk","sticky"]]`, base64url-encoded as
 * UTF-8: about 4/3 of the text plus 11 bytes per message, and 25 bytes per cookie (brackets and
 * the 22-character tag). No compression: see README, "Encoding" (typical payloads of one to three
 * messages do not shrink, and compressing text an attacker partly chooses next to text the site
 * chose leaks the latter through the cookie's length, as in BREACH).
 */
export class MessagesCookie {
  readonly config: CookieConfig;
  readonly #storage: string;

  /** @param storage - the storage name for error messages (`cookie`, `fallback`). */
  constructor(config: CookieConfig, storage: string) {
    this.config = config;
    this.#storage = storage;
  }

  /** The signer for this app; throws the `app.keys` TypeError at first use. */
  #signer(ctx: Context): Signer {
    const signer = signerFor(ctx.app, this.#storage);
    // Only a Keygrip with a very long digest can get here (the schema's minimum fits sha512).
    if (base64Length(3) + 1 + signer.tagLength > this.config.maxSize) {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_OPTION',
        `option \`maxSize\` (${this.config.maxSize}) has no room for the cookie's ` +
          `${signer.tagLength}-character signature; raise it.`,
      );
    }
    return signer;
  }

  /** Whether the request carries a non-empty messages cookie; does not parse it. */
  present(ctx: Context): boolean {
    return Boolean(ctx.cookies.get(this.config.name, { signed: false }));
  }

  /**
   * Read and verify the request's cookie. Anything wrong with it (tag, size, encoding, JSON, shape)
   * gives no messages and `bad: true`, never an exception: it came from the client.
   *
   * @throws {TypeError} only when `app.keys` is missing (a setup error, even with no cookie).
   */
  read(ctx: Context): CookieRead {
    const signer = this.#signer(ctx);
    const value = ctx.cookies.get(this.config.name, { signed: false });
    if (!value) return ABSENT;
    // We never send more than maxSize: a longer value is not ours (or from a larger old setting).
    if (value.length > this.config.maxSize) return reject('longer than cookie.maxSize', value);
    return parseCookieValue(signer, this.config.name, value);
  }

  /**
   * Set the cookie to as many of `list` as fit in `maxSize`, keeping a contiguous run: the newest
   * (`keep: 'newest'`, the cookie storage, which drops the rest) or the oldest (`'oldest'`, the
   * fallback storage, which puts the rest in the session). When something is left out, the list
   * ends with the not-finished marker; when nothing fits, the cookie holds only the marker.
   *
   * Sizes are computed, not measured by trial: JSON pieces joined by commas, base64url is
   * `ceil(4n/3)` characters, plus the dot and the tag. So the value never exceeds the budget.
   *
   * @returns the messages left out, oldest first.
   */
  write(ctx: Context, list: readonly StoredMessage[], keep: 'newest' | 'oldest'): StoredMessage[] {
    const signer = this.#signer(ctx);
    const pieces = list.map((m) => JSON.stringify(encodeMessage(m)));
    const bytes = pieces.map((piece) => Buffer.byteLength(piece));
    const room = this.config.maxSize - 1 - signer.tagLength;
    // JSON bytes of `count` pieces totalling `sum` bytes, with the marker or not.
    const json = (count: number, sum: number, more: boolean): number =>
      2 + sum + Math.max(count + (more ? 1 : 0) - 1, 0) + (more ? 1 : 0);

    let total = bytes.reduce((a, b) => a + b, 0);
    let count = list.length;
    let more = false;
    if (base64Length(json(count, total, false)) > room) {
      more = true;
      count = 0;
      total = 0;
      for (let i = 0; i < list.length; i++) {
        const next = bytes[keep === 'newest' ? list.length - 1 - i : i]!;
        if (base64Length(json(count + 1, total + next, true)) > room) break;
        count++;
        total += next;
      }
    }
    const start = keep === 'newest' ? list.length - count : 0;
    const kept = pieces.slice(start, start + count);
    if (more) kept.push(String(MORE));
    const value = signer.sign(
      this.config.name,
      Buffer.from(`[${kept.join(',')}]`).toString('base64url'),
    );
    this.#set(ctx, value);
    return keep === 'newest' ? list.slice(0, start) : list.slice(count);
  }

  /** Delete the cookie in the browser (empty value, expired), with the attributes it was set with. */
  clear(ctx: Context): void {
    this.#set(ctx, null);
  }

  #set(ctx: Context, value: string | null): void {
    const { name, path, domain, secure, httpOnly, sameSite } = this.config;
    if (secure === true && !ctx.secure) {
      // The `cookies` package would throw a bare Error here; say what to change.
      throw new MessagesError(
        'ERR_KOA_MESSAGES_OPTION',
        `option \`secure\` is true but this request is not HTTPS (behind a TLS proxy, ` +
          'set app.proxy = true so Koa trusts X-Forwarded-Proto).',
      );
    }
    ctx.cookies.set(name, value, {
      // The tag is in the value: no keygrip `.sig` cookie.
      signed: false,
      overwrite: true,
      path,
      httpOnly,
      sameSite,
      ...(domain === undefined ? {} : { domain }),
      // Left out, `cookies` marks it Secure exactly when the request is HTTPS.
      ...(secure === undefined ? {} : { secure }),
    });
  }
}

/**
 * Verify and decode one messages cookie value (also used by `koa-messages/testing` on a response's
 * `Set-Cookie`). Anything wrong with it gives `bad: true` and no messages, never an exception.
 */
export function parseCookieValue(signer: Signer, name: string, value: string): CookieRead {
  const payload = signer.unsign(name, value);
  if (payload === undefined) return reject('bad signature', value);
  // Buffer's base64 decoder skips characters outside the alphabet; check it ourselves.
  if (!BASE64URL.test(payload) || payload.length % 4 === 1) return reject('not base64url', value);
  let data: unknown;
  try {
    data = JSON.parse(utf8.decode(Buffer.from(payload, 'base64url')));
  } catch {
    return reject('not UTF-8 JSON', value);
  }
  if (!Array.isArray(data)) return reject('not a list', value);
  const more = data.length > 0 && data[data.length - 1] === MORE;
  const { messages, clean } = decodeMessages(more ? data.slice(0, -1) : data);
  // Signed but malformed means a bug or another format: distrust the whole cookie, not just entries.
  if (!clean) return reject('not a list of messages', value);
  return { present: true, bad: false, messages, more };
}

function reject(reason: string, value: string): CookieRead {
  debug('ignoring the messages cookie (%s): %d characters', reason, value.length);
  return BAD;
}
