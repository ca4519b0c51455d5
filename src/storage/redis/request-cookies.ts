import { timingSafeEqual } from 'node:crypto';

import type { Context } from 'koa';

/*
 * Reading the request's cookies for the Redis storage: one parse of the Cookie header, and Koa's
 * `.sig` signatures checked in one HMAC where keygrip would make three.
 */

/** The request's cookies by name, in header order; the first of a repeated name wins, as `cookies` reads it. */
export function requestCookies(ctx: Context): Map<string, string> {
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

export interface Keys {
  sign(data: string): string;
  index(data: string, digest: string): number;
}

/**
 * Whether `signature` is Koa's `.sig` of `name=value` by the FIRST key, in one HMAC: keygrip's own
 * `index()` makes three (its compare, tsscmp, HMACs both sides again under a fresh random key) and
 * draws 32 random bytes: it would be the largest single cost of a Redis storage request
 * (docs/scaling.md). `timingSafeEqual` compares in constant time; the lengths compared first are
 * public (every signature of one algorithm has the same length).
 */
export function signedByFirstKey(keys: Keys, data: string, signature: string): boolean {
  const expected = keys.sign(data);
  return (
    expected.length === signature.length &&
    timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(signature, 'latin1'))
  );
}

/** The `cookies` package's keys (its `.keys`, pinned by test/core/contracts.test.ts). */
export const signingKeys = (ctx: Context): Keys | undefined =>
  (ctx.cookies as unknown as { keys?: Keys }).keys;

/**
 * A hint cookie's value, verified as `ctx.cookies.get(name, { signed })` would (Koa's `.sig` companion,
 * any key of `app.keys`), but without calling it: the `cookies` package caches one RegExp per cookie
 * name it is asked for, forever, and hint names are random, so every hint read would grow that cache
 * for the life of the process (the soak benchmark measured about 700 bytes a request), and a client
 * could grow it at will with made-up names.
 */
export function hintValue(
  ctx: Context,
  jar: Map<string, string>,
  name: string,
  signed: boolean,
): string | undefined {
  const value = jar.get(name);
  if (value === undefined || !signed) return value;
  const signature = jar.get(`${name}.sig`);
  if (signature === undefined || signature === '') return undefined;
  const keys = signingKeys(ctx);
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
export function idCookie(ctx: Context, jar: Map<string, string>, name: string): string | undefined {
  const value = jar.get(name);
  const signature = jar.get(`${name}.sig`);
  const keys = signingKeys(ctx);
  if (
    value !== undefined &&
    signature !== undefined &&
    keys !== undefined &&
    signedByFirstKey(keys, `${name}=${value}`, signature)
  )
    return value;
  return ctx.cookies.get(name, { signed: true });
}
