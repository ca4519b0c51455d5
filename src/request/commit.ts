import { debuglog } from 'node:util';

import type { Context } from 'koa';

import { keptChannel, shownChannel, storageChannel, traceStorage } from '../diagnostics.js';
import { settleClaim } from '../sending/settle.js';
import type { DropReport, SaveRequest, StorageHandle } from '../storage/types.js';
import { deliverInHeader } from '../transport/deliver.js';
import { CACHE_PRIVATE, markPrivate, varyCookie } from '../transport/headers.js';
import { type Delivery, deliveryOf } from './delivery.js';
import { appError, keepNewest, report } from './drops.js';
import type { RequestMessages } from './request-messages.js';

const debug = debuglog('koa-messages');

/**
 * End of request (Django's `MessageMiddleware.process_response` + `storage.update`), for every exit
 * of the request: deliver in a header if asked, save what stays pending, report what could not be
 * kept, and mark the response as one visitor's.
 *
 * Caching: a response whose body, headers or cookies depend on this visitor's messages (they were
 * loaded, read or written) varies by `Cookie`; one that shows messages or writes the storage (a
 * changed list, or a cookie the storage set) is `private, no-store`, so no shared cache hands it,
 * or its `Set-Cookie`, to another visitor. On a thrown error the same headers travel on the error
 * (Koa's error handler keeps only those). A request that never touched messages is left alone.
 *
 * @param failed - the handler threw `error`: nothing read counts as delivered.
 * @throws the storage's error on a normal exit (the request fails with it); never on a failed
 *   exit or once the response has started, where it is logged and reported to `onDrop`.
 */
export async function commit(
  request: RequestMessages,
  failed: boolean,
  error?: unknown,
): Promise<void> {
  const { ctx, config } = request;
  const delivery = deliveryOf(ctx, failed);
  if (delivery.consume) deliverInHeader(request);
  if (!request.touched) return;
  if (request.reads !== undefined) publishReads(request, delivery);

  const before = delivery.writable ? setCookies(ctx) : undefined;
  // `maxMessages` travels with the plan: a storage shared by parallel requests (Redis) bounds the
  // visitor's whole list with it.
  const planned = request.plan(delivery.consume, {
    headersSent: !delivery.writable,
    failed,
    maxMessages: config.maxMessages,
  });
  // The user's messages (docs/sending.md) go back to their outbox, never to the visitor's storage.
  const settling = request.claimOutcome === undefined ? undefined : settleClaim(request);
  if (planned === null) return settling;
  if (request.expired !== undefined)
    report(ctx, config, { ctx, reason: 'expired', messages: request.expired });
  const { plan, dropped } = keepNewest(planned, config.maxMessages);
  report(ctx, config, { ctx, reason: 'max-messages', messages: dropped });

  let result: DropReport | void = undefined;
  let saveError: unknown;
  let saveFailed = false;
  try {
    result = await (storageChannel.start.hasSubscribers
      ? traceStorage(ctx, config.storage, 'save', saveTo, request.handle, plan)
      : request.handle.save(plan));
  } catch (caught) {
    saveFailed = true;
    saveError = caught;
    report(ctx, config, { ctx, reason: 'storage-error', messages: plan.added, error: caught });
  }
  if (result) report(ctx, config, { ctx, ...result });
  if (settling !== undefined) await settling;

  // Whether or not they count as consumed: a prefetch, HEAD or 503 that showed messages is one
  // visitor's too; and a save that failed halfway may have set a cookie.
  if (before !== undefined && !ctx.headerSent) {
    const after = setCookies(ctx);
    const isPrivate = request.delivered || plan.changed || after.length !== before.length;
    if (isPrivate) markPrivate(ctx);
    else varyCookie(ctx);
    if (failed) carryOntoError(error, before, after, isPrivate);
  }

  if (!saveFailed) return;
  if (!failed && delivery.writable) throw saveError;
  // The request already failed, or its response is on its way: it cannot fail again.
  if (failed) debug('saving messages after a failed request failed too: %O', saveError);
  else appError(ctx, saveError);
}

const saveTo = (handle: StorageHandle, plan: SaveRequest) => handle.save(plan);

/** The `shown` or `kept` events: what each transport read, and whether the response showed it. */
function publishReads(request: RequestMessages, delivery: Delivery): void {
  const { ctx } = request;
  for (const [transport, read] of request.reads!) {
    const messages = [...read];
    if (delivery.kept === undefined) {
      if (shownChannel.hasSubscribers) shownChannel.publish({ ctx, transport, messages });
    } else if (keptChannel.hasSubscribers) {
      keptChannel.publish({ ctx, transport, reason: delivery.kept, messages });
    }
  }
}

export const setCookies = (ctx: Context): string[] => {
  const value = ctx.res.getHeader('set-cookie');
  return Array.isArray(value) ? value.slice() : value === undefined ? [] : [String(value)];
};

/**
 * Carry what makes a failed request's response safe onto the error: Koa's error handler removes
 * every header set before the error and then sets `err.headers`. The `Set-Cookie` headers the
 * storage set (the messages kept or added), and `Vary: Cookie` with `Cache-Control: private,
 * no-store` when they show or write messages, replacing an error's own caching headers, so no
 * shared cache stores one visitor's error page with their cookies.
 */
function carryOntoError(
  error: unknown,
  before: readonly string[],
  after: readonly string[],
  isPrivate: boolean,
): void {
  if (typeof error !== 'object' || error === null) return;
  const target = error as { headers?: Record<string, unknown> };
  const own = target.headers;
  const headers: Record<string, unknown> = {};
  let vary: string[] = [];
  let cookies: string[] = [];
  if (typeof own === 'object' && own !== null) {
    for (const [name, value] of Object.entries(own)) {
      const lower = name.toLowerCase();
      if (lower === 'set-cookie') cookies = cookies.concat(listOf(value));
      else if (lower === 'vary') vary = vary.concat(listOf(value).flatMap((v) => v.split(',')));
      else if (lower === 'cache-control' && isPrivate) continue;
      else headers[name] = value;
    }
  }
  const added = after.filter((cookie) => !before.includes(cookie));
  if (added.length > 0) cookies = cookies.concat(added);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  vary = vary.map((v) => v.trim()).filter((v) => v !== '');
  if (!vary.some((v) => v === '*' || v.toLowerCase() === 'cookie')) vary.push('Cookie');
  headers['vary'] = vary.join(', ');
  if (isPrivate) headers['cache-control'] = CACHE_PRIVATE;
  // A frozen error, or one whose `headers` is a getter, cannot take them: the app's own error (and
  // its status) must reach Koa unchanged, so they are given up rather than the error replaced.
  if (!Reflect.set(target, 'headers', headers))
    debug('could not carry Set-Cookie and caching headers onto a read-only error');
}

const listOf = (value: unknown): string[] => {
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(String);
};
