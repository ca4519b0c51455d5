import type { MessageDescriptor } from '../message/descriptor.js';
import type { Level } from '../message/level.js';
import type { Message } from '../message/message.js';
import type { LevelName } from '../shared/levels.js';
import type { AddOptions } from './add-options.js';
import type { RequestMessages } from './request-messages.js';

export type { AddOptions } from './add-options.js';

/** The text of `add()`: a string, or a descriptor turned into text by `translate` when shown. */
export type MessageText = string | MessageDescriptor;

/**
 * `ctx.messages`: this request's messages (Django's message storage, `BaseStorage`).
 *
 * - Stored messages are loaded lazily, on the first read; adding never loads.
 * - Iterating yields stored messages, then those added in this request, and consumes them:
 *   at the end of the request only messages added after the last iteration are kept.
 * - `size` counts without consuming; `used = false` after iterating keeps everything.
 *
 * The public face of the request's state (`request/request-messages.ts`): it holds nothing else.
 *
 * @example
 * ctx.messages.success('Vote recorded.');
 * ctx.messages.add('warning', 'Disk almost full', { extraTags: 'sticky' });
 * for (const m of ctx.messages) html += `<li class="${m.tags}">${escape(m.message)}</li>`;
 */
export class MessageStore implements Iterable<Message> {
  readonly #request: RequestMessages;

  /** Made by `messages()` for each request; not for apps to call. */
  constructor(request: RequestMessages) {
    this.#request = request;
  }

  /** The minimum level recorded in this request; assign `undefined` to restore the configured one. */
  get level(): number {
    return this.#request.level;
  }

  set level(value: Level | undefined) {
    this.#request.level = value;
  }

  /**
   * Whether the messages were read (iterated) in this request. Set it to `false` after reading to
   * keep every message for the next request.
   */
  get used(): boolean {
    return this.#request.used;
  }

  set used(value: boolean) {
    this.#request.used = value;
  }

  /** How many messages are pending (stored + added). Loads, but does not consume. */
  get size(): number {
    return this.#request.size;
  }

  /**
   * Add a message. Ignored (as in Django) when the text is empty or the level is below `level`.
   *
   * @param level - a level name (`'success'`) or an integer (custom levels are fine).
   * @param message - the text, escaped by `ctx.ajax()` unless `html: true`; or a descriptor
   *   `{ id, values }` that the `translate` option turns into text when shown (docs/translation.md).
   * @throws {TypeError} for an unknown level name, a non-integer level, a message that is neither
   *   a string nor a valid descriptor (or a descriptor without `translate`), or bad options.
   */
  add(level: Level, message: MessageText, options?: AddOptions): void {
    this.#request.add(level, message, options);
  }

  debug(message: MessageText, options?: AddOptions): void {
    this.#request.add('debug', message, options);
  }

  info(message: MessageText, options?: AddOptions): void {
    this.#request.add('info', message, options);
  }

  success(message: MessageText, options?: AddOptions): void {
    this.#request.add('success', message, options);
  }

  warning(message: MessageText, options?: AddOptions): void {
    this.#request.add('warning', message, options);
  }

  error(message: MessageText, options?: AddOptions): void {
    this.#request.add('error', message, options);
  }

  /**
   * Send this response's pending messages in the `X-Messages` response header, for an answer with
   * no JSON body to carry them (a 204, a file download). Decided at the end of the request, so
   * messages added later count and the final status applies the delivery rules: not on a failure,
   * 5xx, HEAD, OPTIONS or prefetch, and not on a redirect (`fetch` follows it and never shows its
   * headers: the messages stay pending for the followed response). What does not fit in
   * `maxHeaderBytes` stays pending. Read it in the browser with `ajax()` or `messagesFromHeader()`
   * from `koa-messages/client`. See docs/htmx.md.
   *
   * @example
   * ctx.messages.success('Report ready.');
   * ctx.messages.toHeader();
   * ctx.status = 204;
   */
  toHeader(): void {
    this.#request.wantsHeader = true;
    this.#request.touched = true;
  }

  /** Yields stored messages then new ones, and marks them consumed. */
  [Symbol.iterator](): Iterator<Message> {
    return this.#request.read()[Symbol.iterator]();
  }

  // A getter on the prototype, as the built-ins have it, not a field on every store.
  // eslint-disable-next-line @typescript-eslint/class-literal-property-style -- see above
  get [Symbol.toStringTag](): string {
    return 'MessageStore';
  }
}

export type { LevelName };
