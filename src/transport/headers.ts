import type { Context } from 'koa';

// The response headers koa-messages sets. They are constants, so they go straight to Node's
// response: Koa's ctx.set() builds and normalizes an entries array on every call, and these run
// on every response that shows messages.

export const CACHE_PRIVATE = 'private, no-store';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Mark a response that shows or writes messages as one visitor's: `Cache-Control: private, no-store`
 * (replacing the handler's, because a shared cache must never hand one visitor's messages to
 * another) and `Cookie` merged into `Vary`. Called by `ctx.ajax()` and again at the end of the
 * request, so the second call returns early when the first one's headers are still there.
 */
export function markPrivate(ctx: Context): void {
  if (ctx.headerSent) return;
  const res = ctx.res;
  if (res.getHeader('cache-control') !== CACHE_PRIVATE)
    res.setHeader('Cache-Control', CACHE_PRIVATE);
  varyCookie(ctx);
}

/**
 * Merge `Cookie` into `Vary`: the response depends on the visitor's messages (it loaded them)
 * without showing or writing any, so a cache may keep it, but per cookie.
 */
export function varyCookie(ctx: Context): void {
  if (ctx.headerSent) return;
  const vary = ctx.res.getHeader('vary');
  if (vary === undefined) ctx.res.setHeader('Vary', 'Cookie');
  else if (vary !== 'Cookie') ctx.vary('Cookie'); // merged by Koa's `vary`, which parses the list
}

/**
 * The headers of a `ctx.ajax()` answer, set before its body so Koa's body setter finds a
 * Content-Type and does not look one up for a string body only to have it replaced.
 */
export function markJson(ctx: Context): void {
  if (ctx.headerSent) return;
  const res = ctx.res;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('X-Content-Type-Options', 'nosniff');
}
