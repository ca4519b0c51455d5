import { types } from 'node:util';
import { debuglog } from 'node:util';

import type { Context } from 'koa';

import type { Config } from '../config/messages-config.js';
import type { DropEvent } from '../config/messages-options.js';
import { droppedChannel } from '../diagnostics.js';
import { saveRequest } from '../storage/pending.js';
import type { SaveRequest, StoredMessage } from '../storage/types.js';

const debug = debuglog('koa-messages');

/**
 * Hand an error that is the app's (its `onDrop` hook, its `translate`) to the app's `'error'`
 * event, where its logger is, without failing the request: the messages are already safe.
 */
export function appError(ctx: Context, error: unknown): void {
  // Koa's default listener throws on anything that is not an Error.
  const err =
    types.isNativeError(error) || error instanceof Error ? error : new Error(String(error));
  try {
    ctx.app.emit('error', err, ctx);
  } catch (listenerError) {
    debug('the app error listener threw: %O', listenerError);
  }
}

/**
 * Tell `onDrop` (or the debug log) about messages that could not be kept. The hook's failure, a
 * throw or a rejected promise, is the app's bug: it goes to the app's `'error'` event and never
 * fails the request nor stops what comes after (the save).
 */
export function report(ctx: Context, config: Config, event: DropEvent): void {
  if (event.messages.length === 0) return;
  if (droppedChannel.hasSubscribers) droppedChannel.publish(event);
  const onDrop = config.onDrop;
  if (onDrop === undefined) {
    debug('dropped %d message(s): %s', event.messages.length, event.reason);
    return;
  }
  try {
    const result: unknown = onDrop(event);
    if (isThenable(result)) result.then(undefined, (error: unknown) => appError(ctx, error));
  } catch (error) {
    appError(ctx, error);
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function';

const NONE: readonly StoredMessage[] = Object.freeze([]);

/** Keep the newest `max` pending messages; the older ones (stored ones first) are dropped. */
export function keepNewest(
  plan: SaveRequest,
  max: number,
): { plan: SaveRequest; dropped: readonly StoredMessage[] } {
  const excess = plan.pending.length - max;
  if (excess <= 0) return { plan, dropped: NONE };
  const fromKept = Math.min(excess, plan.kept.length);
  return {
    plan: saveRequest(plan.kept.slice(fromKept), plan.added.slice(excess - fromKept), true, plan),
    dropped: plan.pending.slice(0, excess),
  };
}
