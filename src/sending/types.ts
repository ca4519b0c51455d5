import type { Level } from '../message/level.js';
import type { MessageText } from '../request/store.js';
import type { StoredMessage } from '../storage/types.js';

/**
 * The app's id of a user. `send()` and the `user` resolver also take a number, turned into its
 * decimal string (`42` and `'42'` are the same user). 1 to 256 characters, no control characters.
 */
export type UserId = string;

/** Options of {@link Outbox.send}: the same as `ctx.messages.add()`, with the same checks. */
export interface SendOptions {
  /** Space-separated tags put before the level tag; `null` means none. @default '' */
  extraTags?: string | null;
  /** At most one pending message per key in the user's outbox (a later send replaces it). */
  key?: string;
  /**
   * Milliseconds the message waits for the user (counted from `send()`); past it, the request that
   * claims it drops it and reports it to `onDrop` as `'expired'`. @default the app's `maxAge`, then the outbox `ttl`
   */
  maxAge?: number;
  /** The text is trusted HTML: `ctx.ajax()` sends it unescaped. @default false */
  html?: boolean;
}

/** What a send did beyond storing the message. */
export interface SendReport {
  /** Older messages of the user the outbox dropped to stay within `maxMessages` (oldest first). */
  readonly dropped: readonly StoredMessage[];
}

/**
 * Where messages sent to a user wait until a request of that user shows them (docs/sending.md).
 * `memoryOutbox()` for one process and tests, `redisOutbox()` (koa-messages/redis) across processes.
 */
export interface Outbox {
  /** `'memory'`, `'redis'` or a custom outbox's name, for diagnostics. */
  readonly name: string;
  /**
   * Stores a message for the user; resolves once it is stored, to what the send dropped.
   *
   * @throws {MessagesError} (a rejected promise, nothing written) for a bad user id, level,
   *   message or option; or the backend's error, nothing half written.
   */
  send(
    user: UserId | number,
    level: Level,
    message: MessageText,
    options?: SendOptions,
  ): Promise<SendReport>;
  /** `send(user, 'debug', …)`. */
  debug(user: UserId | number, message: MessageText, options?: SendOptions): Promise<SendReport>;
  /** `send(user, 'info', …)`. */
  info(user: UserId | number, message: MessageText, options?: SendOptions): Promise<SendReport>;
  /** `send(user, 'success', …)`. */
  success(user: UserId | number, message: MessageText, options?: SendOptions): Promise<SendReport>;
  /** `send(user, 'warning', …)`. */
  warning(user: UserId | number, message: MessageText, options?: SendOptions): Promise<SendReport>;
  /** `send(user, 'error', …)`. */
  error(user: UserId | number, message: MessageText, options?: SendOptions): Promise<SendReport>;
  /**
   * Atomically takes everything pending for the user: exactly one claimant gets each message. A
   * claim that finds nothing holds nothing (its `ack` and `giveBack` do nothing).
   */
  claim(user: UserId | number): Promise<Claim>;
  /**
   * Calls `wake` (soon, not necessarily synchronously) when something is sent to `user`, for the
   * live endpoint; returns a function that stops it.
   */
  watch(user: UserId | number, wake: () => void): () => void;
}

/** What one {@link Outbox.claim} took; the claimant must end it with `ack` and/or `giveBack`. */
export interface Claim {
  /** The user's messages, oldest first. Nobody else can claim them until given back. */
  readonly messages: readonly StoredMessage[];
  /** These were shown (or are gone for another reason): they are done. */
  ack(shown: readonly StoredMessage[]): Promise<void>;
  /** Not shown (HEAD, failed, kept …): back to the user's outbox, in order, ahead of newer ones. */
  giveBack(kept: readonly StoredMessage[]): Promise<void>;
}
