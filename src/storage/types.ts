import type { Context } from 'koa';

import type { MessageDescriptor } from '../descriptor.js';

/**
 * A message as storages keep it: plain data, no behaviour. Storages receive and return these.
 */
export interface StoredMessage {
  readonly level: number;
  readonly message: string;
  /** Space-separated extra tags, `''` when none. */
  readonly extraTags: string;
  /** Trusted HTML: not escaped by `ctx.ajax()`. */
  readonly html: boolean;
  /** The key given at `add(…, { key })`: at most one pending message per key. Absent when none. */
  readonly key?: string | undefined;
  /**
   * When it was added (ms since the epoch), kept only when a `maxAge` applies to it, so apps
   * without `maxAge` store the same bytes as before (docs/expiry.md). Absent when none.
   */
  readonly addedAt?: number | undefined;
  /** Its own `add(…, { maxAge })` in milliseconds, overriding the option; absent when none. */
  readonly maxAge?: number | undefined;
  /**
   * A message added as a descriptor (`{ id, values }`), turned into text by the `translate`
   * option when it is shown (docs/translation.md). `message` then holds the descriptor's `id`.
   */
  readonly descriptor?: MessageDescriptor | undefined;
}

/**
 * What remains pending at the end of a request, handed to {@link MessageStorage.save}.
 * `kept` then `added` is the full pending list, oldest first.
 */
export interface SaveRequest {
  /** Messages that came from the storage and were not consumed, in their stored order. */
  readonly kept: readonly StoredMessage[];
  /** Messages added during this request and not consumed, in the order they were added. */
  readonly added: readonly StoredMessage[];
  /** `kept` then `added`: everything that stays pending, oldest first. */
  readonly pending: readonly StoredMessage[];
  /**
   * `false` when the pending list is exactly what the storage returned (nothing consumed,
   * nothing added): a storage that rewrites its whole list can skip writing.
   */
  readonly changed: boolean;
  /**
   * The app's `maxMessages`: a storage shared by parallel requests (Redis) keeps at most this
   * many pending in total, dropping the oldest and reporting them as `'max-messages'`.
   */
  readonly maxMessages?: number | undefined;
}

/** Why messages were dropped instead of stored. */
export type DropReason =
  | 'max-messages'
  | 'cookie-size'
  | 'storage-error'
  | 'expired'
  /** The response's headers were sent (streaming) before the messages could be given a cookie. */
  | 'headers-sent';

/** Messages a storage could not keep, reported to the `onDrop` hook. */
export interface DropReport {
  readonly reason: DropReason;
  readonly messages: readonly StoredMessage[];
  /** The underlying error, for `'storage-error'`. */
  readonly error?: unknown;
}

/**
 * A messages backend. `messages({ storage })` takes one of these (or a built-in name), so more
 * backends can plug in; the built-in ones implement it too.
 *
 * Life of a request:
 * 1. `preload(ctx)`, if the storage has it, runs before the handler. It returns `null` when it can
 *    tell (cheaply, without I/O) that nothing is pending, else a promise of the pending messages.
 *    This is for remote storages: `ctx.messages` is synchronous, so anything asynchronous happens here.
 * 2. Otherwise `load(ctx)` runs synchronously the first time the request needs the stored messages
 *    (iterating, `size`, or saving after an add), and never on a request that does not touch them.
 * 3. `save(ctx, request)` runs after the handler (and is awaited) when messages were loaded or
 *    added, with what remains pending. It returns a {@link DropReport} for messages it could not keep.
 */
export interface MessageStorage {
  preload?(ctx: Context): Promise<readonly StoredMessage[]> | null;
  load(ctx: Context): readonly StoredMessage[];
  save(ctx: Context, request: SaveRequest): DropReport | void | Promise<DropReport | void>;
}
