import type { Context } from 'koa';

/**
 * Read an `application/x-www-form-urlencoded` body, as a plain HTML form sends it. The demo has one
 * small form, so this stands in for a body-parser dependency; an app with more forms would use
 * `@koa/bodyparser`.
 *
 * @param limit - the largest body accepted, in bytes; default 4 KiB.
 * @throws a 413 (too large) or 415 (not a form) HTTP error.
 */
export async function readForm(ctx: Context, limit = 4096): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'Expected a form.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'Form too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
