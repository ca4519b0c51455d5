import { createHmac, randomBytes } from 'node:crypto';

import type { Context } from 'koa';
import type { Response } from 'supertest';

import { TEST_KEYS } from './app.js';

/**
 * Helpers that read and forge messages cookies the way the format is documented
 * (README, "Cookie and fallback storage"), computed here independently of src/: base64url(JSON) "." base64url of the first
 * 16 bytes of HMAC-SHA256(key, "koa-messages\0" + name + "\0" + payload).
 */

/** The documented tag, computed without the library. */
export function tagOf(payload: string, key: string = TEST_KEYS[0]!, name = 'messages'): string {
  return createHmac('sha256', key)
    .update(`koa-messages\0${name}\0${payload}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/** A cookie value signed like the library does, around any payload text. */
export function signPayload(payload: string, key?: string, name?: string): string {
  return `${payload}.${tagOf(payload, key, name)}`;
}

/** A signed cookie value holding `json` (any text, valid JSON or not). */
export function forge(json: string, key?: string, name?: string): string {
  return signPayload(Buffer.from(json).toString('base64url'), key, name);
}

/** The JSON a cookie value carries (its signature is not checked here). */
export function payloadOf(value: string): unknown {
  return JSON.parse(
    Buffer.from(value.slice(0, value.lastIndexOf('.')), 'base64url').toString('utf8'),
  );
}

/** Every `Set-Cookie` header of a response. */
export function setCookies(res: Response): string[] {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

/** The `Set-Cookie` headers for cookie `name` (default `messages`). */
export function cookieHeaders(res: Response, name = 'messages'): string[] {
  return setCookies(res).filter((h) => h.startsWith(`${name}=`));
}

/** The value the response set for cookie `name`; fails the test unless exactly one was set. */
export function cookieValue(res: Response, name = 'messages'): string {
  const headers = cookieHeaders(res, name);
  if (headers.length !== 1)
    throw new Error(`expected one Set-Cookie for ${name}, got ${JSON.stringify(headers)}`);
  return headers[0]!.slice(name.length + 1).split(';')[0]!;
}

/** The header that deletes the default messages cookie. */
export const DELETE_COOKIE =
  'messages=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax; httponly';

/** Cookie-safe value per RFC 6265 `cookie-octet`, and more strictly the signed format. */
export const VALUE_FORMAT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/;

/** Random text that does not compress: letters and digits from random bytes. */
export function randomText(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Route: add each `m` query value at `level` (default `success`), then 303 to `/show`.
 * `tags` and `html=1` apply to all of them.
 */
export function addFromQuery(ctx: Context): void {
  const texts = ([] as string[]).concat(ctx.query.m ?? []);
  const level = (ctx.query.level as string | undefined) ?? 'success';
  const extraTags = (ctx.query.tags as string | undefined) ?? '';
  for (const text of texts)
    ctx.messages.add(/^\d+$/.test(level) ? Number(level) : (level as 'info'), text, {
      extraTags,
      html: ctx.query.html === '1',
    });
  ctx.status = 303;
  ctx.redirect('/show');
}
