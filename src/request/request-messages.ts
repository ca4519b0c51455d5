import type { Context } from 'koa';

import type { Config } from '../config/messages-config.js';
import {
  addedChannel,
  storageChannel,
  traceStorage,
  type Transport,
  watchingReads,
} from '../diagnostics.js';
import { describeValue, MessagesError } from '../errors.js';
import { type Level, toLevel } from '../message/level.js';
import { type BoundTranslate, Message } from '../message/message.js';
import type { Claim } from '../sending/types.js';
import { pendingOf, type SaveExit, saveRequest } from '../storage/pending.js';
import type { SaveRequest, StorageHandle, StoredMessage } from '../storage/types.js';
import { type AddOptions, checkAddOptions, checkMessage } from './add-options.js';
import { fromStorage } from './loaded.js';
import { PendingIndex } from './pending-index.js';
import { MessageStore, type MessageText } from './store.js';

const NONE: readonly Message[] = Object.freeze([]);

const loadFrom = (handle: StorageHandle) => handle.load();

/**
 * One request's messages: the state behind `ctx.messages` (Django's `BaseStorage(request)`), with
 * the operations the transports and the end of the request use. Made for every request that
 * enters `messages()`, so its constructor only records its arguments: everything else (the
 * storage handle, loading, the lists) happens on first use, and a request that never touches
 * messages has nothing to commit.
 *
 * - Stored messages are loaded lazily, on the first read; adding never loads.
 * - Reading (iteration, `consume()`) marks everything pending as read: at the end of the request
 *   only messages added after the last read stay pending, unless the response does not count as
 *   delivering (see `delivery.ts`), in which case everything read stays.
 */
export class RequestMessages {
  /** The public face of this state: `ctx.messages`. */
  readonly store: MessageStore;
  /** Something asked for messages (or the storage preloaded some): the end of the request must commit. */
  touched = false;
  /** `ctx.messages.toHeader()` asked for the `X-Messages` header. */
  wantsHeader = false;
  #handle: StorageHandle | undefined;
  /** What the storage holds; `undefined` until loaded. */
  #stored: Message[] | undefined;
  #added: Message[] = NONE as Message[];
  /** Unread messages replaced by a later add with their key; taken out of the lists on the next read. */
  #dead: Set<Message> | undefined;
  /** Built on the first add that needs it (`dedupe` or a key); forgotten when messages are read. */
  #index: PendingIndex | undefined;
  /** A read took every stored message. */
  #readStored = false;
  /** How many of `#added` reads have taken. */
  #readAdded = 0;
  #used = false;
  #delivered = false;
  #level: number | undefined;
  /** What `take` consumed (ctx.flash); `undefined` until then, so the common path pays nothing. */
  #taken: Set<Message> | undefined;
  /** Stored messages loading found past their `maxAge`: gone from the lists, reported at the end. */
  #expired: readonly StoredMessage[] | undefined;
  /** Loading changed what the storage holds (expired or future-dated messages): it must save. */
  #loadChanged = false;
  /** `translate` bound to this request; made on first use. */
  #translate: BoundTranslate | undefined;
  /**
   * What each transport read, for the `shown` and `kept` events: only recorded while someone
   * subscribes to them, `undefined` otherwise.
   */
  // Declared, not initialised: a request nobody watches does not even have the property.
  declare reads: Map<Transport, Set<Message>> | undefined;
  /** Messages claimed from the user's outbox (docs/sending.md); `undefined` for most requests. */
  #claim: ClaimState | undefined;
  /** How many messages the visitor's storage gave (after expiry), with a claim only. */
  #visitorLoaded = 0;

  /**
   * @param handle - the storage's handle when `enter()` opened one before the handler (a Redis
   *   claim); otherwise it is opened on first use.
   * @param claim - what was claimed from the user's outbox as the request entered (not empty).
   */
  constructor(
    readonly ctx: Context,
    readonly config: Config,
    handle?: StorageHandle,
    claim?: Claim,
  ) {
    this.store = new MessageStore(this);
    if (claim !== undefined) this.#claimed(claim);
    if (handle !== undefined) {
      this.#handle = handle;
      if (handle.preloaded !== undefined) this.#setStored(handle.preloaded);
    }
  }

  /** An htmx request that the `htmx` option answers in `HX-Trigger` (which loads messages). */
  wantsHeaderTransport(): boolean {
    return this.wantsHeader || (this.config.htmx && this.ctx.headers['hx-request'] === 'true');
  }

  /** The storage's handle for this request, opened on first use. */
  get handle(): StorageHandle {
    return (this.#handle ??= this.config.storage.open(this.ctx));
  }

  // --- ctx.messages --------------------------------------------------------------------------

  get level(): number {
    return this.#level ?? this.config.level;
  }

  set level(value: Level | undefined) {
    this.#level = value === undefined ? undefined : toLevel(value, 'ctx.messages.level');
  }

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
    this.touched = true;
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

  /** `ctx.messages.add()`: every argument is checked before anything changes. */
  add(level: Level, message: MessageText, options?: AddOptions): void {
    const numeric = toLevel(level, 'ctx.messages.add() level');
    const descriptor = checkMessage(message, this.config.translate !== undefined);
    const { extraTags, html, key, maxAge } = checkAddOptions(options);
    if (message === '' || numeric < this.level) return;
    this.touched = true;
    // The add time is kept only when an age limit applies, so apps without one store what they did.
    const addedAt = (maxAge ?? this.config.maxAge) === undefined ? undefined : Date.now();
    const added =
      descriptor === undefined && key === undefined && addedAt === undefined
        ? new Message(
            { level: numeric, message: message as string, extraTags, html },
            this.config.tags,
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
            this.config.tags,
            descriptor === undefined ? undefined : this.#translator(),
          );
    if (key === undefined && !this.config.dedupe) {
      this.#push(added);
      if (addedChannel.hasSubscribers)
        addedChannel.publish({ ctx: this.ctx, message: added, deduplicated: false, replaced: [] });
      return;
    }
    const index = this.#indexed();
    if (index.hasSame(added)) {
      if (addedChannel.hasSubscribers)
        addedChannel.publish({ ctx: this.ctx, message: added, deduplicated: true, replaced: [] });
      return;
    }
    const replaced = index.add(added);
    for (const earlier of replaced) (this.#dead ??= new Set()).add(earlier);
    this.#push(added);
    if (addedChannel.hasSubscribers)
      addedChannel.publish({ ctx: this.ctx, message: added, deduplicated: false, replaced });
  }

  /** Iteration: every pending message, then they count as read. */
  read(): Message[] {
    const pending = this.pending();
    this.consume();
    if (watchingReads()) this.noteRead('iteration', pending);
    return pending;
  }

  /** Remember that `transport` read `messages` (only called while someone watches reads). */
  noteRead(transport: Transport, messages: readonly Message[]): void {
    if (messages.length === 0) return;
    this.reads ??= new Map();
    let seen = this.reads.get(transport);
    if (seen === undefined) this.reads.set(transport, (seen = new Set()));
    for (const m of messages) seen.add(m);
  }

  // --- the transports and the end of the request -------------------------------------------

  /** Every pending message (stored, then added), without consuming. */
  pending(): Message[] {
    this.touched = true;
    this.#compact();
    const all = [...pendingOf(this.#load(), this.#added)];
    const taken = this.#taken;
    return taken === undefined ? all : all.filter((m) => !taken.has(m));
  }

  /** Mark everything pending as read, as iteration does. */
  consume(): void {
    this.touched = true;
    this.#compact();
    this.#index = undefined;
    this.#used = true;
    this.#readStored = true;
    if (this.#load().length > 0 || this.#added.length > this.#readAdded) this.#delivered = true;
    this.#readAdded = this.#added.length;
  }

  /**
   * Consume only the pending messages that `match` (connect-flash's `req.flash(type)`): they leave
   * the pending list at once, and the storage when the response counts as delivered.
   */
  take(match: (m: Message) => boolean): Message[] {
    const found = this.pending().filter(match);
    if (found.length > 0) {
      // Taken messages are consumed: no longer pending for keys and dedupe.
      this.#index = undefined;
      this.#taken ??= new Set();
      for (const m of found) this.#taken.add(m);
      this.#delivered = true;
      if (watchingReads()) this.noteRead('flash', found);
    }
    return found;
  }

  /** Put messages read but not shown (they did not fit a header) back, pending after everything else. */
  requeue(messages: readonly Message[]): void {
    // Pending again: the index for keys and dedupe is rebuilt if anything adds after this.
    this.#index = undefined;
    for (const m of messages) this.#push(m);
  }

  /** Whether this request read at least one message (its response shows messages). */
  get delivered(): boolean {
    return this.#delivered;
  }

  /** Messages past their `maxAge` that loading dropped, for `onDrop`; `undefined` when none. */
  get expired(): readonly StoredMessage[] | undefined {
    return this.#expired;
  }

  /**
   * Django's `update()`: what stays pending at the end of the request, or `null` when the request
   * neither loaded nor added anything (the storage is left alone).
   *
   * @param consume - `false` when the response does not count as delivering (delivery.ts):
   *   nothing read leaves the storage.
   */
  plan(consume: boolean, exit: SaveExit): SaveRequest | null {
    const planned = this.#plan(consume, exit);
    return this.#claim === undefined ? planned : this.#splitClaim(planned, exit);
  }

  /**
   * The end of a claim: the user's messages that stay pending go back to their outbox (the
   * originals, in order), every other one claimed was shown, replaced by a key, or expired. Only
   * meaningful after {@link plan}; `undefined` without a claim.
   */
  get claimOutcome(): ClaimOutcome | undefined {
    const state = this.#claim;
    if (state === undefined) return undefined;
    const kept = state.kept ?? state.originals;
    const keep = new Set(kept);
    return {
      claim: state.claim,
      kept,
      done: state.claim.messages.filter((m) => !keep.has(m)),
      expired: state.expired,
    };
  }

  #plan(consume: boolean, exit: SaveExit): SaveRequest | null {
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
      return saveRequest(kept, added, changed, exit);
    }
    if (this.#added.length > 0)
      return saveRequest(keep(this.#load()), keep(this.#added), true, exit);
    if (this.#stored !== undefined)
      return saveRequest(keep(this.#stored), [], taken !== undefined || this.#loadChanged, exit);
    return null;
  }

  // --- private -----------------------------------------------------------------------------

  /** Take in a claim: its messages join the pending list after the visitor's stored ones. */
  #claimed(claim: Claim): void {
    const origin = new Map<Message, StoredMessage>();
    let expired: StoredMessage[] | undefined;
    for (const stored of claim.messages) {
      const loaded = fromStorage([stored], this.config, () => this.#translator());
      const m = loaded.messages[0];
      if (m === undefined) (expired ??= []).push(stored);
      else origin.set(m === stored ? new Message(stored, this.config.tags) : m, stored);
    }
    this.#claim = {
      claim,
      origin,
      messages: [...origin.keys()],
      originals: [...origin.values()],
      expired,
      kept: undefined,
    };
    this.touched = true;
  }

  /**
   * {@link plan} without the user's messages, which never enter the visitor's storage (another
   * user of the same browser must not see them): those that stay pending are noted for the
   * outbox, and the visitor's plan is changed only by what changed for the visitor.
   */
  #splitClaim(planned: SaveRequest | null, exit: SaveExit): SaveRequest | null {
    const state = this.#claim!;
    if (planned === null) return null;
    const fromUser = (m: StoredMessage) => state.origin.has(m as Message);
    const ofVisitor = (m: StoredMessage) => !state.origin.has(m as Message);
    state.kept = planned.pending.filter(fromUser).map((m) => state.origin.get(m as Message)!);
    const kept = planned.kept.filter(ofVisitor);
    const added = planned.added.filter(ofVisitor);
    const changed = this.#loadChanged || added.length > 0 || kept.length !== this.#visitorLoaded;
    return saveRequest(kept, added, changed, exit);
  }

  #push(m: Message): void {
    if (this.#added === NONE) this.#added = [];
    this.#added.push(m);
  }

  /** The index of what is pending now: unread stored messages (loading them) and unread adds. */
  #indexed(): PendingIndex {
    this.#index ??= new PendingIndex(
      this.config.dedupe,
      [this.#readStored ? [] : this.#load(), this.#added.slice(this.#readAdded)],
      (m) => this.#dead?.has(m) === true || this.#taken?.has(m) === true,
    );
    return this.#index;
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
    if (this.#stored === undefined)
      this.#setStored(
        storageChannel.start.hasSubscribers
          ? traceStorage(this.ctx, this.config.storage, 'load', loadFrom, this.handle)
          : this.handle.load(),
      );
    return this.#stored!;
  }

  #setStored(list: readonly StoredMessage[]): void {
    this.touched = true;
    const loaded = fromStorage(list, this.config, () => this.#translator());
    this.#stored = loaded.messages;
    if (this.#claim !== undefined) {
      this.#visitorLoaded = loaded.messages.length;
      this.#stored = loaded.messages.concat(this.#claim.messages);
    }
    this.#expired = loaded.expired;
    this.#loadChanged = loaded.changed;
  }

  #translator(): BoundTranslate | undefined {
    const translate = this.config.translate;
    if (translate === undefined) return undefined;
    const ctx = this.ctx;
    return (this.#translate ??= (descriptor) => translate(descriptor, ctx));
  }
}

/** A claim from the user's outbox, as this request holds it. */
interface ClaimState {
  readonly claim: Claim;
  /** This request's message for each claimed one (not expired), and the claimed original. */
  readonly origin: Map<Message, StoredMessage>;
  readonly messages: Message[];
  readonly originals: StoredMessage[];
  /** Claimed past their `maxAge`: done, reported to `onDrop` as `'expired'`. */
  readonly expired: StoredMessage[] | undefined;
  /** The originals that stay pending, set by `plan()`; until then, all of them. */
  kept: StoredMessage[] | undefined;
}

/** How a request ends its claim: give back `kept`, ack `done`. */
export interface ClaimOutcome {
  readonly claim: Claim;
  readonly kept: readonly StoredMessage[];
  readonly done: readonly StoredMessage[];
  readonly expired: readonly StoredMessage[] | undefined;
}
