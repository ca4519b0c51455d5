import type { Context } from 'koa';

import type { MessageDescriptor } from '../message/descriptor.js';

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
   * The response has started (its headers were sent, or the app took it over with
   * `ctx.respond = false`): no header or cookie can be set any more. A storage that needs a cookie
   * to find messages again must not write, and reports what it cannot keep as `'headers-sent'`.
   */
  readonly headersSent: boolean;
  /**
   * The handler threw: Koa's error handler will drop every response header but those on the
   * error, where koa-messages carries the cookies the storage sets now.
   */
  readonly failed: boolean;
  /**
   * The app's `maxMessages`: a storage shared by parallel requests (Redis) keeps at most this
   * many pending in total, dropping the oldest and reporting them as `'max-messages'`.
   */
  readonly maxMessages?: number | undefined;
}

/**
 * Why messages were dropped instead of stored:
 * - `'max-messages'`: more than `maxMessages` pending (the oldest go);
 * - `'cookie-size'`: no room left in the cookie that carries them;
 * - `'storage-error'`: the storage failed or did not answer in time;
 * - `'expired'`: older than their `maxAge` when loaded, unread;
 * - `'headers-sent'`: added by a request whose response had already started (streamed, or
 *   `ctx.respond = false`), so no cookie could lead the next request to them.
 */
export type DropReason =
  'max-messages' | 'cookie-size' | 'storage-error' | 'expired' | 'headers-sent';

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
 * A storage opens one {@link StorageHandle} per request that uses messages (as Django's
 * `BaseStorage(request)` and koa-session's `ContextSession` do), and keeps that request's state
 * in it. A request that never touches messages opens none.
 *
 * - `enter(ctx)`, when the storage has it, runs for every request as it enters `messages()`, so it
 *   must be cheap: it returns `null` when nothing has to happen before the handler (the handle is
 *   then opened on first use), or the handle, or a promise of it for a storage that fetches
 *   asynchronously (`ctx.messages` is synchronous, so anything remote happens here, and only when
 *   something may be pending).
 * - `open(ctx)` opens the handle on first use: reading, adding, or the end of a request that needs
 *   the storage.
 */
export interface MessageStorage {
  /**
   * The storage's name in diagnostics (the `koa-messages:storage` tracing channel,
   * docs/observability.md): the built-in ones are `'session'`, `'cookie'`, `'fallback'`,
   * `'memory'` and `'redis'`.
   * @default 'custom'
   */
  readonly name?: string;
  enter?(ctx: Context): StorageHandle | Promise<StorageHandle> | null;
  open(ctx: Context): StorageHandle;
}

/**
 * One request's view of a storage (see {@link MessageStorage}).
 *
 * - `preloaded`: the messages `enter()` fetched; when set, `load()` is not called.
 * - `load()` runs synchronously the first time the request needs the stored messages (iterating,
 *   `size`, or saving after an add), and never on a request that does not touch them.
 * - `save(request)` runs after the handler (and is awaited) when messages were loaded or added,
 *   with what remains pending. It returns a {@link DropReport} for messages it could not keep. It
 *   runs on every exit of the request: a thrown error (`request.failed`), a response whose headers
 *   are already out (`request.headersSent`: no cookie can be set), a normal answer.
 */
export interface StorageHandle {
  readonly preloaded?: readonly StoredMessage[] | undefined;
  load(): readonly StoredMessage[];
  save(request: SaveRequest): DropReport | void | Promise<DropReport | void>;
}
