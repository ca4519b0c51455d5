import diagnostics from 'node:diagnostics_channel';

import type { Context } from 'koa';

import type { Message } from './message/message.js';
import type { DropReason, SaveRequest, StoredMessage } from './storage/types.js';

/**
 * The `node:diagnostics_channel` names koa-messages publishes on (docs/observability.md). Each
 * event is published only while the channel has a subscriber: nothing is recorded or allocated
 * for a process that does not listen.
 */
export const CHANNELS = Object.freeze({
  /** {@link AddedEvent}: `ctx.messages.add()` recorded a message, or skipped a duplicate. */
  added: 'koa-messages:added',
  /** {@link ShownEvent}: a response showed messages, once per transport. */
  shown: 'koa-messages:shown',
  /** {@link KeptEvent}: messages were read, but the response does not count as showing them. */
  kept: 'koa-messages:kept',
  /** {@link RequeuedEvent}: messages did not fit a header and stay pending. */
  requeued: 'koa-messages:requeued',
  /** {@link DroppedEvent}: messages were lost, as the `onDrop` hook is told. */
  dropped: 'koa-messages:dropped',
  /** A `TracingChannel` of {@link StorageOperation}s: `tracing:koa-messages:storage:start`, … */
  storage: 'koa-messages:storage',
} as const);

/**
 * How a response carried messages: `'iteration'` (a template or a loop over `ctx.messages`),
 * `'ajax'` (`ctx.ajax()`), `'hx-trigger'` and `'x-messages'` (the headers), `'flash'` (`ctx.flash`).
 */
export type Transport = 'iteration' | 'ajax' | 'hx-trigger' | 'x-messages' | 'flash';

/**
 * Why messages a request read stay pending (docs/delivery.md): `'failed'` (the handler
 * threw), `'error-status'` (a 5xx), `'head'`, `'options'`, `'prefetch'` (or prerender), `'streamed'`
 * (the response started before the end: `ctx.flushHeaders()`, `ctx.respond = false`),
 * `'htmx-navigation'` (`HX-Redirect`, `HX-Location`, `HX-Refresh`).
 */
export type KeptReason =
  'failed' | 'error-status' | 'head' | 'options' | 'prefetch' | 'streamed' | 'htmx-navigation';

/** `koa-messages:added`. */
export interface AddedEvent {
  readonly ctx: Context;
  /** The message as added (level, text, tags, key). */
  readonly message: Message;
  /** `dedupe` found the same message pending: nothing was added. */
  readonly deduplicated: boolean;
  /** Pending messages with the same key that this one replaced; `[]` when none. */
  readonly replaced: readonly Message[];
}

/** `koa-messages:shown`: published at the end of the request, once per transport that carried messages. */
export interface ShownEvent {
  readonly ctx: Context;
  readonly transport: Transport;
  readonly messages: readonly Message[];
}

/** `koa-messages:kept`: read by a transport, but still pending after this response. */
export interface KeptEvent {
  readonly ctx: Context;
  readonly transport: Transport;
  readonly reason: KeptReason;
  readonly messages: readonly Message[];
}

/** `koa-messages:requeued`: pending messages a header had no room for, in order; still pending. */
export interface RequeuedEvent {
  readonly ctx: Context;
  readonly transport: 'hx-trigger' | 'x-messages';
  readonly messages: readonly Message[];
}

/** `koa-messages:dropped`: the event the `onDrop` hook receives (the same object). */
export interface DroppedEvent {
  readonly ctx: Context;
  readonly reason: DropReason;
  readonly messages: readonly StoredMessage[];
  /** The storage's error, for `'storage-error'`. */
  readonly error?: unknown;
}

/**
 * The context of one traced storage operation (`tracing:koa-messages:storage:*`). The same object
 * goes to `start`, `end`, and for an asynchronous operation `asyncStart` and `asyncEnd`; `error`
 * when it throws or rejects. Time it by keeping the start time on it (docs/observability.md).
 */
export interface StorageOperation {
  readonly ctx: Context;
  /** The storage's `name`: `'session'`, `'cookie'`, `'fallback'`, `'memory'`, `'redis'`, or `'custom'`. */
  readonly storage: string;
  /**
   * `'enter'` (every request, before the handler; the Redis claim happens there), `'load'` (the
   * first read), `'save'` (the end of a request that loaded or added).
   */
  readonly operation: 'enter' | 'load' | 'save';
  /** For `'save'`: what stays pending. */
  readonly request?: SaveRequest;
  /** What the operation returned (for `'enter'`, `null` when nothing had to happen). */
  result?: unknown;
  error?: unknown;
}

export const addedChannel = diagnostics.channel(CHANNELS.added);
export const shownChannel = diagnostics.channel(CHANNELS.shown);
export const keptChannel = diagnostics.channel(CHANNELS.kept);
export const requeuedChannel = diagnostics.channel(CHANNELS.requeued);
export const droppedChannel = diagnostics.channel(CHANNELS.dropped);
export const storageChannel = diagnostics.tracingChannel<string, StorageOperation>(
  CHANNELS.storage,
);

/** Someone listens for what transports read: only then does a request remember it. */
export const watchingReads = (): boolean =>
  shownChannel.hasSubscribers || keptChannel.hasSubscribers;

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function';

/**
 * Run one storage operation inside the tracing channel, as `traceSync` or `tracePromise` would by
 * what it returns (`enter` and `save` may answer either way). Call only when
 * `storageChannel.start.hasSubscribers`. `run` gets `arg` and `request` rather than closing over
 * them: a closure over a caller's variable would make every call of the caller allocate, traced
 * or not. (one channel's flag: the tracing channel's own
 * `hasSubscribers` asks all five; a subscriber of the tracing channel is on `start` too).
 */
export function traceStorage<A, T>(
  ctx: Context,
  storage: { readonly name?: string | undefined },
  operation: StorageOperation['operation'],
  run: (arg: A, request: SaveRequest) => T,
  arg: A,
  request?: SaveRequest,
): T {
  const context: StorageOperation =
    request === undefined
      ? { ctx, storage: storage.name ?? 'custom', operation }
      : { ctx, storage: storage.name ?? 'custom', operation, request };
  const { start, end, asyncStart, asyncEnd, error } = storageChannel;
  return start.runStores(context, () => {
    try {
      const result = run(arg, request!);
      if (!isPromise(result)) {
        context.result = result;
        return result;
      }
      return result.then(
        (value) => {
          context.result = value;
          asyncStart.publish(context);
          asyncEnd.publish(context);
          return value;
        },
        (caught: unknown) => {
          context.error = caught;
          error.publish(context);
          asyncStart.publish(context);
          asyncEnd.publish(context);
          throw caught;
        },
      ) as T;
    } catch (caught) {
      context.error = caught;
      error.publish(context);
      throw caught;
    } finally {
      end.publish(context);
    }
  });
}
