import { createHash } from 'node:crypto';

import type { Context } from 'koa';

import { MessagesError } from '../../errors.js';
import { isKeygrip } from '../cookie/signing.js';
import { hintValue, idCookie, requestCookies } from './request-cookies.js';

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
export const ALWAYS = 'all';
const TOKEN = /^[A-Za-z0-9_-]{8}$/;

/** A short digest of a `key(ctx)` value: hints say whose they are without showing the key. */
export const tag = (key: string): string =>
  createHash('sha256').update(key).digest('base64url').slice(0, 16);

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
