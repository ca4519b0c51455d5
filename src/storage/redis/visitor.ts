import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

import type { Context } from 'koa';

import { MessagesError } from '../../errors.js';
import { isKeygrip } from '../cookie/signing.js';

/**
 * Who a request belongs to, for the Redis storage, and the hint cookies that say whether a Redis
 * command is needed at all. Each response that may leave messages in Redis sets a hint cookie with a
 * fresh random name; a request claims only when it carries one, and deletes only the hints it
 * carried after a certain claim. Why no order of parallel responses can then hide a message:
 * docs/contributing/redis-hint-proof.md.
 */
export interface Visitor {
  /** The id new messages are stored under; `undefined` while the visitor has none. */
  id: string | undefined;
  /**
   * `id` is new or adopted from a hint: saving under it must write the id cookie. `false` when it
   * came from a valid id cookie or from `key(ctx)`.
   */
  needsIdCookie: boolean;
  /** Visitor ids to claim from, the visitor's own last. */
  claimIds: string[];
  /**
   * The hint cookies this request carried, each with the visitor id it names: a hint may be
   * deleted once the claim of its id certainly ran.
   */
  hints: Hint[];
  /**
   * The id the request's marker cookie names (`<cookie>.p.all`): a hint that is never deleted,
   * set instead of fresh hints once a visitor has many (see `ResponseCookies.always`).
   */
  always?: string | undefined;
}

export interface Hint {
  readonly name: string;
  readonly id: string;
}

export interface VisitorConfig {
  readonly cookie: string;
  readonly key?: ((ctx: Context) => string | null | undefined) | undefined;
  readonly hint: boolean;
  readonly ttl: number;
}

const ID = /^[A-Za-z0-9_-]{22}$/;
/**
 * Visitor ids claimed per request (each is a claim). Hints naming further ids stay in the
 * browser, untouched, for the next requests, so nothing is hidden.
 */
export const MAX_HINTS = 16;
/** The marker's name after `<cookie>.p.`: not a TOKEN, so never taken for a hint. */
const ALWAYS = 'all';
const TOKEN = /^[A-Za-z0-9_-]{8}$/;

/**
 * Random bytes handed out from a pool filled 4 KiB at a time: each `randomBytes()` call of a few
 * bytes costs a trip into OpenSSL (about 1 µs here), and every new visitor needs 22 bytes (id and
 * hint name). The bytes are the same CSPRNG output, each handed out once; Node's own
 * `crypto.randomUUID()` pools its entropy the same way.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function random(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const text = pool.toString('base64url', poolAt, poolAt + bytes);
  // Used bytes are zeroed, so the buffer never holds a handed-out id longer than needed.
  pool.fill(0, poolAt, (poolAt += bytes));
  return text;
}

/** 128 random bits, base64url: the visitor id of cookie mode. */
export const newId = (): string => random(16);

/** 72 random bits: the name of one script call's record in Redis (scripts.ts). */
export const newToken = (): string => random(9);

/** A short digest of a `key(ctx)` value: hints say whose they are without showing the key. */
const tag = (key: string): string =>
  createHash('sha256').update(key).digest('base64url').slice(0, 16);

/** The request's cookies by name, in header order; the first of a repeated name wins, as `cookies` reads it. */
function requestCookies(ctx: Context): Map<string, string> {
  const jar = new Map<string, string>();
  const header = ctx.get('Cookie');
  if (header === '') return jar;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (jar.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, -1);
    jar.set(name, value);
  }
  return jar;
}

interface Keys {
  sign(data: string): string;
  index(data: string, digest: string): number;
}

/**
 * Whether `signature` is Koa's `.sig` of `name=value` by the FIRST key, in one HMAC: keygrip's own
 * `index()` makes three (its compare, tsscmp, HMACs both sides again under a fresh random key) and
 * draws 32 random bytes, which was the largest single cost of a Redis storage request (see
 * docs/scaling.md). `timingSafeEqual` compares in constant time; the lengths compared first are
 * public (every signature of one algorithm has the same length).
 */
function signedByFirstKey(keys: Keys, data: string, signature: string): boolean {
  const expected = keys.sign(data);
  return (
    expected.length === signature.length &&
    timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(signature, 'latin1'))
  );
}

const keysOf = (ctx: Context): Keys | undefined => (ctx.cookies as unknown as { keys?: Keys }).keys;

/**
 * A hint cookie's value, verified as `ctx.cookies.get(name, { signed })` would (Koa's `.sig` companion,
 * any key of `app.keys`), but without calling it: the `cookies` package caches one RegExp per cookie
 * name it is asked for, forever, and hint names are random, so every hint read would grow that cache
 * for the life of the process (the soak benchmark measured about 700 bytes a request), and a client
 * could grow it at will with made-up names.
 */
function hintValue(
  ctx: Context,
  jar: Map<string, string>,
  name: string,
  signed: boolean,
): string | undefined {
  const value = jar.get(name);
  if (value === undefined || !signed) return value;
  const signature = jar.get(`${name}.sig`);
  if (signature === undefined || signature === '') return undefined;
  const keys = keysOf(ctx);
  if (keys === undefined) return undefined;
  const data = `${name}=${value}`;
  // An older key (rotation) only costs keygrip's full search.
  return signedByFirstKey(keys, data, signature) || keys.index(data, signature) >= 0
    ? value
    : undefined;
}

/**
 * The id cookie's value, as `ctx.cookies.get(cookie, { signed: true })` gives it. The common case, a
 * signature by the first key, is checked here in one HMAC; anything else (no signature, an older
 * key, a bad one) goes to `cookies`, which also re-signs under the first key or drops a bad `.sig`.
 */
function idCookie(ctx: Context, jar: Map<string, string>, name: string): string | undefined {
  const value = jar.get(name);
  const signature = jar.get(`${name}.sig`);
  const keys = keysOf(ctx);
  if (
    value !== undefined &&
    signature !== undefined &&
    keys !== undefined &&
    signedByFirstKey(keys, `${name}=${value}`, signature)
  )
    return value;
  return ctx.cookies.get(name, { signed: true });
}

function checkKeys(ctx: Context): void {
  // Koa's cookies take either form: a list of keys or a Keygrip instance (as Koa documents).
  const keys = ctx.app.keys as unknown;
  if (!isKeygrip(keys) && (!Array.isArray(keys) || keys.length === 0)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_KEYS',
      'redisStorage() signs its visitor cookie and needs app.keys (app.keys = [secret]), ' +
        'or pass the `key` option to identify visitors yourself.',
    );
  }
}

function callKey(config: VisitorConfig, ctx: Context): string | undefined {
  const value = config.key!(ctx);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `redisStorage() option \`key\` must return a string, null or undefined, got ${typeof value}.`,
    );
  }
  return value;
}

/**
 * Whether the request may carry a hint cookie, from a plain substring test of the Cookie header.
 * With hints on and none here, nothing can be pending (see above), so `enter` need not identify
 * the visitor at all: no id signature check, no `key(ctx)` call, on requests that never touch
 * messages. A false positive only costs the full look in `identify`.
 */
export function mayCarryHints(ctx: Context, config: VisitorConfig): boolean {
  return ctx.get('Cookie').includes(`${config.cookie}.p.`);
}

/**
 * Read the visitor from the request: id cookie (or `key(ctx)`) and hint cookies. Tampered or
 * malformed cookies are ignored, never thrown on.
 *
 * @throws {TypeError} when cookie mode has no `app.keys`, or `key(ctx)` returns a non-string.
 */
export function identify(ctx: Context, config: VisitorConfig): Visitor {
  const prefix = `${config.cookie}.p.`;
  const jar = requestCookies(ctx);
  const hintNames = config.hint
    ? [...jar.keys()].filter(
        (name) => name.startsWith(prefix) && TOKEN.test(name.slice(prefix.length)),
      )
    : [];
  const marker = config.hint && jar.has(prefix + ALWAYS) ? prefix + ALWAYS : undefined;

  if (config.key !== undefined) {
    const id = callKey(config, ctx);
    if (id === undefined) return { id, needsIdCookie: false, claimIds: [], hints: [] };
    // Only hints written for this key count: another user's hints on a shared browser stay put.
    const mine = tag(id);
    const hints = hintNames
      .filter((name) => hintValue(ctx, jar, name, false) === mine)
      .map((name) => ({ name, id }));
    const always = marker !== undefined && hintValue(ctx, jar, marker, false) === mine;
    return {
      id,
      needsIdCookie: false,
      claimIds: !config.hint || hints.length > 0 || always ? [id] : [],
      hints,
      always: always ? id : undefined,
    };
  }

  checkKeys(ctx);
  const fromCookie = idCookie(ctx, jar, config.cookie);
  let id = fromCookie !== undefined && ID.test(fromCookie) ? fromCookie : undefined;
  const needsIdCookie = id === undefined;
  // A hint naming the visitor's own (verified) id needs no signature check: it only asks for
  // a claim of that id, which this visitor may make anyway (`hint: false` does on every request).
  const valueOf = (name: string) => {
    const value = id !== undefined && jar.get(name) === id ? id : hintValue(ctx, jar, name, true);
    return value !== undefined && ID.test(value) ? value : undefined;
  };
  const always = marker === undefined ? undefined : valueOf(marker);
  const claimIds: string[] = always === undefined ? [] : [always];
  const hints: Hint[] = [];
  // Every hint is looked at (a response deletes all those whose id it claimed, which keeps their
  // number bounded), but at most MAX_HINTS ids are claimed.
  for (const name of hintNames) {
    const value = valueOf(name);
    if (value === undefined) continue;
    if (!claimIds.includes(value)) {
      if (claimIds.length >= MAX_HINTS) continue;
      claimIds.push(value);
    }
    hints.push({ name, id: value });
  }
  // No id cookie (yet) but hints: adopt an id the hints name, so messages stay in one place.
  id ??= claimIds[0];
  if (id !== undefined && (!config.hint || claimIds.length > 0)) {
    const own = claimIds.indexOf(id);
    if (own >= 0) claimIds.splice(own, 1);
    claimIds.push(id);
  }
  return { id, needsIdCookie, claimIds, hints, always };
}

const EPOCH = new Date(0).toUTCString();

/**
 * The cookies one response sets, written with one `setHeader` when the request ends. The lines are
 * exactly what `ctx.cookies.set()` writes for these options (`path=/`, `expires`, `samesite=lax`,
 * `secure` on HTTPS, `httponly`; a signed cookie's `.sig` from `app.keys`), and an earlier line for
 * the same name is replaced, as its `overwrite: true` does. Written here rather than through
 * `cookies`, which builds, validates and re-sets the whole header array once per cookie: about 2 µs
 * a line, and a new visitor's first add writes four (docs/scaling.md). Names and values come from
 * fixed alphabets (the `cookie` option's, base64url), so there is nothing to validate.
 */
export class ResponseCookies {
  readonly #ctx: Context;
  readonly #config: VisitorConfig;
  readonly #names: string[] = [];
  readonly #lines: string[] = [];
  #expires: string | undefined;

  constructor(ctx: Context, config: VisitorConfig) {
    this.#ctx = ctx;
    this.#config = config;
  }

  #line(name: string, value: string, expires: string): void {
    const secure = this.#ctx.secure ? '; secure' : '';
    this.#names.push(name);
    this.#lines.push(
      `${name}=${value}; path=/; expires=${expires}; samesite=lax${secure}; httponly`,
    );
  }

  #signed(name: string, value: string, expires: string): void {
    this.#line(name, value, expires);
    this.#line(`${name}.sig`, keysOf(this.#ctx)!.sign(`${name}=${value}`), expires);
  }

  get #expiry(): string {
    return (this.#expires ??= new Date(Date.now() + this.#config.ttl).toUTCString());
  }

  /** The id cookie (cookie mode, for a new or adopted id). */
  id(id: string): void {
    this.#signed(this.#config.cookie, id, this.#expiry);
  }

  /** A fresh hint cookie: something may be pending under `id` (rule 1 above). */
  hint(id: string): void {
    const config = this.#config;
    if (!config.hint) return;
    const name = `${config.cookie}.p.${random(6)}`;
    if (config.key !== undefined) this.#line(name, tag(id), this.#expiry);
    else this.#signed(name, id, this.#expiry);
  }

  /**
   * The marker `<cookie>.p.all`, set instead of a fresh hint once `id` has had many saves since
   * its last claim. No response ever deletes it (so it needs no fresh name: rule 2 cannot
   * apply to it); it expires `ttl` after the last save that set it, never before the messages it
   * covers. While it is there the visitor claims on every request, like `hint: false`.
   */
  always(id: string): void {
    const config = this.#config;
    if (!config.hint) return;
    const name = `${config.cookie}.p.${ALWAYS}`;
    if (config.key !== undefined) this.#line(name, tag(id), this.#expiry);
    else this.#signed(name, id, this.#expiry);
  }

  /**
   * Delete the hint cookies this request carried whose id's claim certainly ran (rule 2 above;
   * each id is claimed by its own script, so one may be certain while another is not). A signed
   * hint's `.sig` is deleted as a cookie of its own: signing a deletion would be an HMAC for
   * nothing, since a browser drops both either way.
   */
  clear(hints: readonly Hint[], claimed: ReadonlySet<string>): void {
    const signed = this.#config.key === undefined;
    for (const { name, id } of hints) {
      if (!claimed.has(id)) continue;
      this.#line(name, '', EPOCH);
      if (signed) this.#line(`${name}.sig`, '', EPOCH);
    }
  }

  /** Add the lines to the response's `Set-Cookie`, replacing earlier ones for the same names. */
  send(): void {
    const res = this.#ctx.res;
    // Never throw ERR_HTTP_HEADERS_SENT: the storage checks before its Redis commands, and an
    // app that takes the response over (`ctx.respond = false`) is reported as such by the core.
    if (this.#lines.length === 0 || res.headersSent) return;
    const before = res.getHeader('Set-Cookie');
    const kept = (before === undefined ? [] : Array.isArray(before) ? before : [String(before)])
      .map(String)
      .filter((line) => !this.#names.some((name) => line.startsWith(`${name}=`)));
    res.setHeader('Set-Cookie', kept.length === 0 ? this.#lines : [...kept, ...this.#lines]);
  }
}
