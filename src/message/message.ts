import { describeValue, MessagesError } from '../errors.js';
import type { StoredMessage } from '../storage/types.js';
import type { MessageDescriptor } from './descriptor.js';

/** A descriptor to text in the showing request (the `translate` option bound to its `ctx`). */
export type BoundTranslate = (descriptor: MessageDescriptor) => string;

/**
 * A message as `ctx.messages` yields it (Django's `Message`).
 *
 * `String(message)` is its text, so a template can interpolate it directly. `tags` and `levelTag`
 * are computed from the app's tag map when read, not frozen when the message was made; so is the
 * text of a message added as a descriptor, translated on each read in the request showing it.
 */
export class Message implements StoredMessage {
  readonly level: number;
  /**
   * The text. For a message added as a descriptor, the `translate` option's answer for this
   * request (its `id` when the app has no `translate`).
   */
  readonly message: string;
  /** Extra tags given at `add()`, one space-separated string; `''` when none. */
  readonly extraTags: string;
  /** `true` when the text is trusted HTML (added with `{ html: true }`): `ctx.ajax()` does not escape it. */
  readonly html: boolean;
  /**
   * The key given at `add(…, { key })` (docs/dedupe.md); `undefined` when none. An own property only
   * when set: a message without a key has no `key` field at all.
   */
  declare readonly key: string | undefined;
  /**
   * When it was added (ms since the epoch); set only when a `maxAge` applies to it, the only case
   * in which storages keep it (docs/expiry.md).
   */
  declare readonly addedAt: number | undefined;
  /** Its own `add(…, { maxAge })`, overriding the option; `undefined` when none. */
  declare readonly maxAge: number | undefined;
  /** The descriptor it was added as (docs/translation.md); `undefined` for a text message. */
  declare readonly descriptor: MessageDescriptor | undefined;
  readonly #tagMap: Readonly<Record<number, string>>;

  constructor(
    stored: StoredMessage,
    tagMap: Readonly<Record<number, string>>,
    translate?: BoundTranslate,
  ) {
    this.level = stored.level;
    this.message = stored.message;
    const { descriptor } = stored;
    if (descriptor !== undefined) {
      // The field becomes a getter: the text is made on each read, in the request showing it.
      this.descriptor = descriptor;
      const text =
        translate === undefined ? () => descriptor.id : () => checkText(translate(descriptor));
      Object.defineProperty(this, 'message', { get: text, enumerable: true });
    }
    this.extraTags = stored.extraTags;
    this.html = stored.html;
    // Own properties only when set: a message using none has exactly the fields it always had.
    if (stored.key !== undefined) this.key = stored.key;
    if (stored.addedAt !== undefined) this.addedAt = stored.addedAt;
    if (stored.maxAge !== undefined) this.maxAge = stored.maxAge;
    this.#tagMap = tagMap;
  }

  /** The tag of this level (`'success'`), or `''` for a level without one. */
  get levelTag(): string {
    return this.#tagMap[this.level] ?? '';
  }

  /** Extra tags, then the level tag, joined by a space; empty parts left out (`'special info'`). */
  get tags(): string {
    const levelTag = this.levelTag;
    if (this.extraTags === '') return levelTag;
    return levelTag === '' ? this.extraTags : `${this.extraTags} ${levelTag}`;
  }

  toString(): string {
    return this.message;
  }

  /**
   * The fields a template or a log wants; `JSON.stringify(message)` uses it. It keeps every
   * {@link StoredMessage} field (`html` too), so a custom storage that stringifies messages loses nothing.
   */
  toJSON(): {
    level: number;
    message: string;
    extraTags: string;
    html: boolean;
    key?: string;
    addedAt?: number;
    maxAge?: number;
    descriptor?: MessageDescriptor;
    tags: string;
    levelTag: string;
  } {
    return {
      level: this.level,
      message: this.message,
      extraTags: this.extraTags,
      html: this.html,
      ...(this.key === undefined ? {} : { key: this.key }),
      ...(this.addedAt === undefined ? {} : { addedAt: this.addedAt }),
      ...(this.maxAge === undefined ? {} : { maxAge: this.maxAge }),
      ...(this.descriptor === undefined ? {} : { descriptor: this.descriptor }),
      tags: this.tags,
      levelTag: this.levelTag,
    };
  }
}

function checkText(text: unknown): string {
  if (typeof text === 'string') return text;
  throw new MessagesError(
    'ERR_KOA_MESSAGES_OPTION',
    `messages() option \`translate\` must return a string, got ${describeValue(text)}.`,
  );
}
