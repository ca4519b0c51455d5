import { debuglog } from 'node:util';

import type { Context } from 'koa';

import { markPrivate, varyCookie } from './headers.js';
import type { Config, DropEvent } from './options.js';
import { saveRequest } from './storage/pending.js';
import type { DropReport, SaveRequest, StoredMessage } from './storage/types.js';
import { internals, type MessageStore } from './store.js';
import { deliverInHeader } from './transport/deliver.js';

const debug = debuglog('koa-messages');

/**
 * Whether delivering messages in this response counts: never for HEAD and OPTIONS (no body reaches
 * a person) nor for a browser's prefetch or prerender, which the person may never look at.
 */
function mayConsume(ctx: Context): boolean {
  if (ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return false;
  const h = ctx.headers;
  const purpose = h['sec-purpose'] ?? h['purpose'] ?? h['x-purpose'] ?? h['x-moz'];
  return !(typeof purpose === 'string' && /prefetch|prerender|preview/i.test(purpose));
}

function report(config: Config, event: DropEvent): void {
  if (event.messages.length === 0) return;
  if (config.onDrop !== undefined) config.onDrop(event);
  else debug('dropped %d message(s): %s', event.messages.length, event.reason);
}

const NONE: readonly StoredMessage[] = Object.freeze([]);

/** Keep the newest `max` pending messages; the older ones (stored ones first) are dropped. */
function keepNewest(
  plan: SaveRequest,
  max: number,
): { plan: SaveRequest; dropped: readonly StoredMessage[] } {
  const excess = plan.pending.length - max;
  if (excess <= 0) return { plan, dropped: NONE };
  const fromKept = Math.min(excess, plan.kept.length);
  return {
    plan: saveRequest(plan.kept.slice(fromKept), plan.added.slice(excess - fromKept), true),
    dropped: plan.pending.slice(0, excess),
  };
}

const setCookieCount = (ctx: Context): number => {
  const value = ctx.res.getHeader('set-cookie');
  return Array.isArray(value) ? value.length : value === undefined ? 0 : 1;
};

/**
 * End of request (Django's `MessageMiddleware.process_response` + `storage.update`): save what
 * stays pending, report what could not be kept, and mark the response as one visitor's.
 *
 * Caching: a response whose body, headers or cookies depend on this visitor's messages (the store
 * was loaded, read or written) varies by `Cookie`; one that shows messages or writes the storage
 * (a changed list, or a cookie the storage set) is `private, no-store`, so no shared cache hands
 * it, or its `Set-Cookie`, to another visitor. A request that never touched messages is left alone.
 *
 * @param failed - the handler threw: nothing read counts as delivered.
 */
export async function commit(ctx: Context, store: MessageStore, failed: boolean): Promise<void> {
  const config = internals.config(store);
  const consume = !failed && ctx.status < 500 && mayConsume(ctx);
  if (consume) deliverInHeader(ctx, store, config);
  const planned = internals.plan(store, consume);
  if (planned === null) return;
  const expired = internals.expired(store);
  if (expired !== undefined) report(config, { ctx, reason: 'expired', messages: expired });
  const { plan, dropped } = keepNewest(planned, config.maxMessages);
  if (dropped.length > 0) report(config, { ctx, reason: 'max-messages', messages: dropped });
  const cookiesBefore = setCookieCount(ctx);
  let result: DropReport | void;
  try {
    result = await config.storage.save(ctx, { ...plan, maxMessages: config.maxMessages });
  } catch (error) {
    report(config, { ctx, reason: 'storage-error', messages: plan.added, error });
    throw error;
  } finally {
    // Whether or not they count as consumed: a prefetch, HEAD or 503 that showed messages is one
    // visitor's too; and a save that failed halfway may have set a cookie.
    if (internals.delivered(store) || plan.changed || setCookieCount(ctx) !== cookiesBefore) {
      markPrivate(ctx);
    } else {
      varyCookie(ctx);
    }
  }
  if (result) report(config, { ctx, ...result });
}

/**
 * Carry the `Set-Cookie` headers a storage set while finishing a failed request onto the error:
 * Koa's error handler removes every header set before the error and then sets `err.headers`.
 */
export function carryCookies(error: unknown, before: string[], after: string[]): void {
  if (typeof error !== 'object' || error === null) return;
  const added = after.filter((cookie) => !before.includes(cookie));
  if (added.length === 0) return;
  const target = error as { headers?: Record<string, unknown> };
  const headers = { ...target.headers };
  const existing = headers['set-cookie'] ?? headers['Set-Cookie'];
  delete headers['Set-Cookie'];
  headers['set-cookie'] = [
    ...(Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]),
    ...added,
  ];
  // A frozen error, or one whose `headers` is a getter, cannot take them: the app's own error (and
  // its status) must reach Koa unchanged, so the cookie is given up rather than the error replaced.
  if (!Reflect.set(target, 'headers', headers))
    debug('could not carry Set-Cookie onto a read-only error');
}

export const setCookies = (ctx: Context): string[] => {
  const value = ctx.response.headers['set-cookie'];
  return Array.isArray(value) ? value.slice() : value === undefined ? [] : [String(value)];
};
