import type { Context } from 'koa';

import type { StoredMessage } from './types.js';

/**
 * The most a browser keeps of one cookie's name, `=` and value: 4096 bytes in Chrome and Firefox,
 * 4093 in Safari. A larger cookie is dropped whole, the session with it.
 */
const COOKIE_BYTES = 4093;

/** Room for the `_expire` and `_maxAge` fields koa-session adds when it saves (their widest values). */
const KOA_SESSION_FIELDS = { _expire: 9_999_999_999_999, _maxAge: 9_999_999_999_999 };
/** What they add to the session's JSON: `,"_expire":…,"_maxAge":…`. */
const KOA_SESSION_FIELDS_JSON = `,${JSON.stringify(KOA_SESSION_FIELDS).slice(1, -1)}`;

/** What koa-session's `ctx.sessionOptions` tells (koa-session 6 and 7). */
interface SessionOptions {
  readonly key?: unknown;
  readonly store?: unknown;
  readonly ContextStore?: unknown;
  readonly encode?: unknown;
  readonly autoCommit?: unknown;
}

function sessionOptionsOf(ctx: Context): SessionOptions | undefined {
  const options: unknown = (ctx as { sessionOptions?: unknown }).sessionOptions;
  return typeof options === 'object' && options !== null ? options : undefined;
}

const base64Json = (data: unknown): string => Buffer.from(JSON.stringify(data)).toString('base64');

const NONE: readonly StoredMessage[] = Object.freeze([]);

/** Encoders seen to be koa-session's default (base64 of the JSON), by a probe made once each. */
const base64JsonEncoders = new WeakMap<object, boolean>();
const PROBE = { probe: 'é' };

function isBase64Json(encode: (data: unknown) => string): boolean {
  let known = base64JsonEncoders.get(encode);
  if (known === undefined) {
    try {
      known = encode(PROBE) === base64Json(PROBE);
    } catch {
      known = false;
    }
    base64JsonEncoders.set(encode, known);
  }
  return known;
}

/** What {@link fitSessionCookie} keeps: the newest messages, encoded for the session, and the rest. */
export interface FittedMessages {
  readonly kept: readonly StoredMessage[];
  /** `kept` in the session's stored form (`codec.ts`). */
  readonly encoded: readonly unknown[];
  readonly dropped: readonly StoredMessage[];
}

/**
 * The newest of `pending` that fit, with the rest of the session, in koa-session's cookie when the
 * session lives in one (no external `store`); everything when it does not.
 *
 * @param session - the session, already holding `encoded` under `key`: with koa-session's own
 *   `encode` (base64 of the JSON) one `JSON.stringify` of it tells whether everything fits, the
 *   common case. Otherwise the cookie is measured with `encode` itself, as it will be written.
 * @param encoded - `pending` in the stored form.
 */
export function fitSessionCookie(
  ctx: Context,
  session: Record<string, unknown>,
  key: string,
  pending: readonly StoredMessage[],
  encoded: readonly unknown[],
): FittedMessages {
  const all = { kept: pending, encoded, dropped: NONE };
  if (pending.length === 0) return all;
  const options = sessionOptionsOf(ctx);
  if (options === undefined || options.store || options.ContextStore) return all;
  const encode =
    typeof options.encode === 'function'
      ? (options.encode as (data: unknown) => string)
      : base64Json;
  const name = typeof options.key === 'string' ? options.key : 'koa.sess';
  const limit = COOKIE_BYTES - name.length - 1;
  if (isBase64Json(encode)) {
    const bytes = Buffer.byteLength(JSON.stringify(session)) + KOA_SESSION_FIELDS_JSON.length;
    if (4 * Math.ceil(bytes / 3) <= limit) return all;
  }
  // koa-session's toJSON() makes a new object: the app's data, without koa-session's own fields.
  const rest: Record<string, unknown> =
    typeof (session as { toJSON?: unknown }).toJSON === 'function'
      ? (session as { toJSON(): Record<string, unknown> }).toJSON()
      : { ...session };
  delete rest[key];
  Object.assign(rest, KOA_SESSION_FIELDS);
  // The size of the cookie with the newest `n` messages; it grows with `n`.
  const size = (n: number): number =>
    String(encode(n === 0 ? rest : { ...rest, [key]: encoded.slice(encoded.length - n) })).length;
  if (size(pending.length) <= limit) return all;
  let fits = 0;
  let over = pending.length;
  while (over - fits > 1) {
    const mid = (fits + over) >>> 1;
    if (size(mid) <= limit) fits = mid;
    else over = mid;
  }
  const cut = pending.length - fits;
  return { kept: pending.slice(cut), encoded: encoded.slice(cut), dropped: pending.slice(0, cut) };
}

/**
 * Commit koa-session now, for a request that failed: Koa's error handler drops the `Set-Cookie`
 * koa-session would set on its way out, so the cookie is set here, while koa-messages can still
 * carry it onto the error. Left to the app when it commits by hand (`autoCommit: false`).
 */
export async function commitNow(ctx: Context): Promise<void> {
  if (sessionOptionsOf(ctx)?.autoCommit === false) return;
  const session: unknown = (ctx as { session?: unknown }).session;
  const commit = (session as { manuallyCommit?: unknown } | null)?.manuallyCommit;
  if (typeof commit === 'function') await (commit as () => Promise<void>).call(session);
}
