import type { Context } from 'koa';

import type { KeptReason } from '../diagnostics.js';

/**
 * How a request ends, for its messages: the one place that decides whether what the request read
 * counts as shown (docs/contributing/architecture.md). Every exit of a request goes through it: a normal
 * answer, a thrown error, a response whose headers went out before the end (streaming), an htmx
 * answer that navigates the browser elsewhere.
 */
export interface Delivery {
  /**
   * What this request read (iterated, `ctx.ajax()`, a header transport, `ctx.flash`) leaves the
   * storage. When `false`, everything read stays pending for the next response.
   */
  readonly consume: boolean;
  /** Response headers, cookies among them, can still be set. */
  readonly writable: boolean;
  /** The handler threw. */
  readonly failed: boolean;
  /** Why nothing read counts as shown, when `consume` is `false` (the `koa-messages:kept` event). */
  readonly kept: KeptReason | undefined;
}

/**
 * Decide {@link Delivery} at the end of the request. A message counts as shown only by a response
 * a person can see:
 * - not after a thrown error, nor with a 5xx status (an error page);
 * - not for HEAD and OPTIONS (no body reaches a person), nor a browser's prefetch or prerender,
 *   which the person may never look at;
 * - not when the response had started before the end (streamed after `ctx.flushHeaders()`, or
 *   `ctx.respond = false`): no cookie can record the consumption any more, so nothing read may
 *   leave a storage that needs one;
 * - not for an htmx request answered with `HX-Redirect`, `HX-Location` or `HX-Refresh`: htmx
 *   navigates at once, and whatever this response carried is never seen.
 */
export function deliveryOf(ctx: Context, failed: boolean): Delivery {
  const writable = !ctx.headerSent && ctx.respond !== false;
  const kept = failed
    ? 'failed'
    : !writable
      ? 'streamed'
      : ctx.status >= 500
        ? 'error-status'
        : unseenBecause(ctx);
  return { consume: kept === undefined, writable, failed, kept };
}

/** Why no person sees this response, or `undefined` when one does. */
function unseenBecause(ctx: Context): KeptReason | undefined {
  if (ctx.method === 'HEAD') return 'head';
  if (ctx.method === 'OPTIONS') return 'options';
  const h = ctx.headers;
  const purpose = h['sec-purpose'] ?? h['purpose'] ?? h['x-purpose'] ?? h['x-moz'];
  if (typeof purpose === 'string' && /prefetch|prerender|preview/i.test(purpose)) return 'prefetch';
  return h['hx-request'] === 'true' && navigatesAway(ctx) ? 'htmx-navigation' : undefined;
}

/** The htmx response headers that make the browser leave the page this response would update. */
function navigatesAway(ctx: Context): boolean {
  const res = ctx.res;
  if (res.hasHeader('hx-redirect') || res.hasHeader('hx-location')) return true;
  return String(res.getHeader('hx-refresh') ?? '').trim() === 'true';
}
