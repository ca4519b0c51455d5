import type { Context } from 'koa';

import { checkDescriptor, descriptorSignature, type MessageDescriptor } from './descriptor.js';
import { describeValue, MessagesError } from './errors.js';
import { type Level, toLevel } from './level.js';
import { type BoundTranslate, Message } from './message.js';
import type { Config } from './options.js';
import { isPlainObject } from './plain-object.js';
import type { LevelName } from './shared/levels.js';
import { pendingOf, saveRequest } from './storage/pending.js';
import type { SaveRequest, StoredMessage } from './storage/types.js';
import { requestHeader } from './transport/request.js';

/** Options of `ctx.messages.add()` and the level shortcuts. */
export interface AddOptions {
  /**
   * Space-separated tags put before the level tag in `tags` (Django's `extra_tags`); `null` (Django's
   * `None`) means none.
   * @default ''
   */
  extraTags?: string | null;
  /**
   * The text is trusted HTML: `ctx.ajax()` sends it unescaped. Never set this for text with user input.
   * @default false
   */
  html?: boolean;
  /**
   * At most one pending message per key: a later add with the same key removes the pending one and
   * appends the new one ("3 items saved" becomes "4 items saved"). Stored with the message, so it
   * holds across requests; a message already read in this request is no longer pending
   * (docs/dedupe.md).
   * @default undefined
   */
  key?: string;
  /**
   * Milliseconds this message stays pending, overriding the `maxAge` option: a request that loads
   * it later drops it and reports it to `onDrop` as `'expired'` (docs/expiry.md).
   * @default the `maxAge` option
   */
  maxAge?: number;
}

/** The text of `add()`: a string, or a descriptor turned into text by `translate` when shown. */
export type MessageText = string | MessageDescriptor;

/** What `dedupe` and keys look up, kept for the pending (unread) messages only. */
interface PendingIndex {
  /** Pending messages by key; more than one only when a storage handed back duplicates. */
  readonly keys: Map<string, Message[]>;
  /** How many pending messages have each {@link signature} (only with `dedupe`). */
  readonly same: Map<string, number>;
}

/**
 * What makes two messages equal for `dedupe`: level, text, extra tags, and the key. The lengths
 * make it unambiguous (a key is never `''`, so length 0 is "no key").
 */
const signature = (m: Message): string =>
  `${m.level} ${m.extraTags.length} ${m.key?.length ?? 0} ${m.extraTags}${m.key ?? ''}` +
  // A descriptor's text depends on the reader's language: its id and values are what it says.
  (m.descriptor === undefined ? `"${m.message}` : `{${descriptorSignature(m.descriptor)}`);

/**
 * What the middleware, `ctx.ajax()` and the end of the request need from a store, and users must
 * not reach: module-private accessors set by the class's static block (which may read `#` fields),
 * so nothing of it is on the public type or on `ctx`.
 */
export interface StoreInternals {
  /** Every pending message (stored, then added), without consuming. */
  pending(store: MessageStore): Message[];
  /** Mark everything pending as read, as iteration does. */
  consume(store: MessageStore): void;
  /**
   * Django's `update()`: what stays pending at the end of the request, or `null` when the request
   * neither loaded nor added anything (the storage is left alone).
   *
   * @param consume - `false` for a failed response, HEAD, OPTIONS or a prefetch: nothing read counts as delivered.
   */
  plan(store: MessageStore, consume: boolean): SaveRequest | null;
  /**
   * Consume only the pending messages that `match` (connect-flash's `req.flash(type)`): they leave
   * the pending list at once, and the storage when the response counts as delivered.
   */
  take(store: MessageStore, match: (m: Message) => boolean): Message[];
  /** Whether this request read at least one message (its response shows messages). */
  delivered(store: MessageStore): boolean;
  config(store: MessageStore): Config;
  /** Put messages read but not shown (they did not fit a header) back, pending after everything else. */
  requeue(store: MessageStore, messages: readonly Message[]): void;
  /** Messages past their `maxAge` that loading dropped, for `onDrop`; `undefined` when none. */
  expired(store: MessageStore): readonly StoredMessage[] | undefined;
}

// Assigned once, by MessageStore's static block below.
export let internals!: StoreInternals;

/**
 * `ctx.messages`: this request's messages (Django's message storage, `BaseStorage`).
 *
 * - Stored messages are loaded lazily, on the first read; adding never loads.
 * - Iterating yields stored messages, then those added in this request, and consumes them:
 *   at the end of the request only messages added after the last iteration are kept.
 * - `size` counts without consuming; `used = false` after iterating keeps everything.
 *
 * @example
 * ctx.messages.success('Vote recorded.');
 * ctx.messages.add('warning', 'Disk almost full', { extraTags: 'sticky' });
 * for (const m of ctx.messages) html += `<li class="${m.tags}">${escape(m.message)}</li>`;
 */
export class MessageStore implements Iterable<Message> {
  readonly #ctx: Context;
  readonly #config: Config;
  /** What the storage holds; `undefined` until loaded. */
  #stored: Message[] | undefined;
  #added: Message[] = [];
  /** Unread messages replaced by a later add with their key; taken out of the lists on the next read. */
  #dead: Set<Message> | undefined;
  /** Built on the first add that needs it (`dedupe` or a key); forgotten when messages are read. */
  #index: PendingIndex | undefined;
  /** Iteration read every stored message. */
  #readStored = false;
  /** How many of `#added` iteration has read. */
  #readAdded = 0;
  #used = false;
  #delivered = false;
  #level: number | undefined;
  /** What `take` consumed (ctx.flash); `undefined` until then, so the common path pays nothing. */
  #taken: Set<Message> | undefined;
  /** Stored messages loading found past their `maxAge`: gone from the lists, reported at the end. */
  #expired: StoredMessage[] | undefined;
  /** Loading changed what the storage holds (expired or future-dated messages): it must save. */
  #loadChanged = false;
  /** `translate` bound to this request; made on first use. */
  #translate: BoundTranslate | undefined;

  constructor(ctx: Context, config: Config, preloaded?: readonly StoredMessage[]) {
    this.#ctx = ctx;
    this.#config = config;
    if (preloaded !== undefined) this.#stored = this.#wrap(preloaded);
  }

  /** The minimum level recorded in this request; assign `undefined` to restore the configured one. */
  get level(): number {
    return this.#level ?? this.#config.level;
  }

  set level(value: Level | undefined) {
    this.#level = value === undefined ? undefined : toLevel(value, 'ctx.messages.level');
  }

  /**
   * Whether the messages were read (iterated) in this request. Set it to `false` after reading to
   * keep every message for the next request.
   */
  get used(): boolean {
    return this.#used;
  }

  set used(value: boolean) {
    if (typeof value !== 'boolean') {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_ARGUMENT',
        `ctx.messages.used must be a boolean, got ${describeValue(value)}.`,
      );
    }
    this.#used = value;
    // Django: `used = True` without iterating stores only what is still queued, dropping the stored ones.
    if (value) {
      this.#readStored = true;
      this.#index = undefined;
    }
  }

  /** How many messages are pending (stored + added). Loads, but does not consume. */
  get size(): number {
    this.#compact();
    return this.#load().length + this.#added.length - (this.#taken?.size ?? 0);
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
    const numeric = toLevel(level, 'ctx.messages.add() level');
    let descriptor: MessageDescriptor | undefined;
    if (typeof message !== 'string') {
      // A plain object is meant as a descriptor; an Error or a `String` is not.
      if (!isPlainObject(message)) {
        throw new MessagesError(
          'ERR_KOA_MESSAGES_ARGUMENT',
          `ctx.messages.add() message must be a string or a descriptor { id, values? }, got ${describeValue(message)}.`,
        );
      }
      descriptor = checkDescriptor(message);
      if (this.#config.translate === undefined) {
        throw new MessagesError(
          'ERR_KOA_MESSAGES_OPTION',
          `ctx.messages.add() got a message descriptor ({ id: '${descriptor.id}' }), but messages() has no ` +
            '`translate` option to turn it into text; pass translate: (descriptor, ctx) => string (docs/translation.md).',
        );
      }
    }
    const { extraTags, html, key, maxAge } = checkAddOptions(options);
    if (message === '' || numeric < this.level) return;
    // The add time is kept only when an age limit applies, so apps without one store what they did.
    const addedAt = (maxAge ?? this.#config.maxAge) === undefined ? undefined : Date.now();
    const added =
      descriptor === undefined && key === undefined && addedAt === undefined
        ? new Message(
            { level: numeric, message: message as string, extraTags, html },
            this.#config.tags,
          )
        : new Message(
            {
              level: numeric,
              message: descriptor === undefined ? (message as string) : descriptor.id,
              extraTags,
              html,
              key,
              addedAt,
              maxAge,
              descriptor,
            },
            this.#config.tags,
            descriptor === undefined ? undefined : this.#translator(),
          );
    const { dedupe } = this.#config;
    if (key === undefined && !dedupe) {
      this.#added.push(added);
      return;
    }
    const index = this.#indexed();
    const sig = dedupe ? signature(added) : undefined;
    if (sig !== undefined && index.same.has(sig)) return;
    if (key !== undefined) {
      for (const earlier of index.keys.get(key) ?? []) this.#remove(earlier, index);
      index.keys.set(key, [added]);
    }
    if (sig !== undefined) index.same.set(sig, (index.same.get(sig) ?? 0) + 1);
    this.#added.push(added);
  }

  debug(message: MessageText, options?: AddOptions): void {
    this.add('debug', message, options);
  }

  info(message: MessageText, options?: AddOptions): void {
    this.add('info', message, options);
  }

  success(message: MessageText, options?: AddOptions): void {
    this.add('success', message, options);
  }

  warning(message: MessageText, options?: AddOptions): void {
    this.add('warning', message, options);
  }

  error(message: MessageText, options?: AddOptions): void {
    this.add('error', message, options);
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
    requestHeader(this.#ctx);
  }

  /** Yields stored messages then new ones, and marks them consumed. */
  [Symbol.iterator](): Iterator<Message> {
    const pending = this.#pending();
    this.#consume();
    return pending[Symbol.iterator]();
  }

  get [Symbol.toStringTag](): string {
    return 'MessageStore';
  }

  static {
    internals = {
      pending: (store) => store.#pending(),
      consume: (store) => store.#consume(),
      take: (store, match) => store.#take(match),
      plan: (store, consume) => store.#plan(consume),
      delivered: (store) => store.#delivered,
      config: (store) => store.#config,
      requeue: (store, messages) => {
        // Pending again: the index for keys and dedupe is rebuilt if anything adds after this.
        store.#index = undefined;
        store.#added.push(...messages);
      },
      expired: (store) => store.#expired,
    };
  }

  #pending(): Message[] {
    this.#compact();
    const all = [...pendingOf(this.#load(), this.#added)];
    const taken = this.#taken;
    return taken === undefined ? all : all.filter((m) => !taken.has(m));
  }

  #take(match: (m: Message) => boolean): Message[] {
    const found = this.#pending().filter(match);
    if (found.length > 0) {
      // Taken messages are consumed: no longer pending for keys and dedupe.
      this.#index = undefined;
      this.#taken ??= new Set();
      for (const m of found) this.#taken.add(m);
      this.#delivered = true;
    }
    return found;
  }

  #consume(): void {
    this.#compact();
    this.#index = undefined;
    this.#used = true;
    this.#readStored = true;
    if (this.#stored!.length > 0 || this.#added.length > this.#readAdded) this.#delivered = true;
    this.#readAdded = this.#added.length;
  }

  #plan(consume: boolean): SaveRequest | null {
    this.#compact();
    // What take() consumed leaves the storage only with a response that counts as delivered.
    const taken = consume ? this.#taken : undefined;
    const keep = (list: Message[]): Message[] =>
      taken === undefined ? list : list.filter((m) => !taken.has(m));
    if (consume && this.#used) {
      const kept = this.#readStored ? [] : keep(this.#load());
      const added = keep(this.#added.slice(this.#readAdded));
      // Unchanged when nothing stored was consumed and nothing new stays (reading an empty store,
      // or `used = true` with nothing stored), so the storage writes nothing and the response
      // stays cacheable per cookie.
      const changed =
        (this.#readStored && this.#load().length > 0) ||
        added.length > 0 ||
        taken !== undefined ||
        this.#loadChanged;
      return saveRequest(kept, added, changed);
    }
    if (this.#added.length > 0) return saveRequest(keep(this.#load()), keep(this.#added), true);
    if (this.#stored !== undefined)
      return saveRequest(keep(this.#stored), [], taken !== undefined || this.#loadChanged);
    return null;
  }

  /**
   * The index of what is pending now: unread stored messages (loading them) and unread adds. Built
   * in one pass, then kept up to date by `add()`, so each add costs O(1).
   */
  #indexed(): PendingIndex {
    if (this.#index !== undefined) return this.#index;
    const index: PendingIndex = { keys: new Map(), same: new Map() };
    const stored = this.#readStored ? [] : this.#load();
    const dedupe = this.#config.dedupe;
    for (const list of [stored, this.#added.slice(this.#readAdded)]) {
      for (const m of list) {
        if (this.#dead?.has(m) === true || this.#taken?.has(m) === true) continue;
        if (m.key !== undefined) {
          const same = index.keys.get(m.key);
          if (same === undefined) index.keys.set(m.key, [m]);
          else same.push(m);
        }
        if (dedupe) {
          const sig = signature(m);
          index.same.set(sig, (index.same.get(sig) ?? 0) + 1);
        }
      }
    }
    this.#index = index;
    return index;
  }

  /** Mark an unread message as replaced; the lists drop it on the next read (amortized O(1)). */
  #remove(m: Message, index: PendingIndex): void {
    (this.#dead ??= new Set()).add(m);
    if (!this.#config.dedupe) return;
    const sig = signature(m);
    const count = index.same.get(sig) ?? 0;
    if (count <= 1) index.same.delete(sig);
    else index.same.set(sig, count - 1);
  }

  /** Take replaced messages out of the lists. They are all unread, so `#readAdded` still holds. */
  #compact(): void {
    const dead = this.#dead;
    if (dead === undefined) return;
    this.#dead = undefined;
    const alive = (m: Message) => !dead.has(m);
    if (this.#stored !== undefined) this.#stored = this.#stored.filter(alive);
    this.#added = this.#added.filter(alive);
  }

  #load(): Message[] {
    if (this.#stored === undefined) this.#stored = this.#wrap(this.#config.storage.load(this.#ctx));
    return this.#stored;
  }

  /**
   * Stored messages as this request's {@link Message}s, less those past their `maxAge`. A
   * descriptor's message is made anew even when a storage hands back a `Message`: its text belongs
   * to the request showing it.
   */
  #wrap(list: readonly StoredMessage[]): Message[] {
    const tags = this.#config.tags;
    const out: Message[] = [];
    let now: number | undefined;
    for (const m of list) {
      if (m.addedAt !== undefined) {
        now ??= Date.now();
        if (m.addedAt > now) {
          // Dated in the future (this clock stepped back, another server's clock is ahead, or the
          // data was forged): its age counts from now, and the storage keeps that, so it can live
          // at most maxAge past this request and never forever (docs/expiry.md).
          out.push(new Message(restamped(m, now), tags, this.#translator()));
          this.#loadChanged = true;
          continue;
        }
        const limit = m.maxAge ?? this.#config.maxAge;
        if (limit !== undefined && now - m.addedAt > limit) {
          (this.#expired ??= []).push(m);
          this.#loadChanged = true;
          continue;
        }
      }
      if (m.descriptor !== undefined) out.push(new Message(m, tags, this.#translator()));
      else out.push(m instanceof Message ? m : new Message(m, tags));
    }
    return out;
  }

  #translator(): BoundTranslate | undefined {
    const translate = this.#config.translate;
    if (translate === undefined) return undefined;
    const ctx = this.#ctx;
    return (this.#translate ??= (descriptor) => translate(descriptor, ctx));
  }
}

/** A copy of `m` added at `now`, read field by field (a `Message`'s text is a getter). */
const restamped = (m: StoredMessage, now: number): StoredMessage => ({
  level: m.level,
  message: m.descriptor === undefined ? m.message : m.descriptor.id,
  extraTags: m.extraTags,
  html: m.html,
  key: m.key,
  addedAt: now,
  maxAge: m.maxAge,
  descriptor: m.descriptor,
});

const NO_OPTIONS = { extraTags: '', html: false, key: undefined, maxAge: undefined } as const;

function checkAddOptions(options: AddOptions | undefined): {
  extraTags: string;
  html: boolean;
  key: string | undefined;
  maxAge: number | undefined;
} {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.messages.add() options must be an object, got ${describeValue(options)}.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'extraTags' && key !== 'html' && key !== 'key' && key !== 'maxAge') {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_ARGUMENT',
        `unknown ctx.messages.add() option \`${key}\`; use \`extraTags\`, \`html\`, \`key\` or \`maxAge\`.`,
      );
    }
  }
  const { extraTags: given, html = false } = options;
  const extraTags = given ?? '';
  if (typeof extraTags !== 'string') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.messages.add() option \`extraTags\` must be a string or null, got ${describeValue(extraTags)}.`,
    );
  }
  if (typeof html !== 'boolean') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.messages.add() option \`html\` must be a boolean, got ${describeValue(html)}.`,
    );
  }
  const { key } = options;
  if (key !== undefined && (typeof key !== 'string' || key === '')) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.messages.add() option \`key\` must be a non-empty string, got ${key === '' ? "''" : describeValue(key)}.`,
    );
  }
  const { maxAge } = options;
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge > 0)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.messages.add() option \`maxAge\` must be a positive integer of milliseconds, got ${typeof maxAge === 'number' ? String(maxAge) : describeValue(maxAge)}.`,
    );
  }
  return { extraTags, html, key, maxAge };
}

export type { LevelName };
