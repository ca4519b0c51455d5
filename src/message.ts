import type { StoredMessage } from './storage/types.js';

/**
 * A message as `ctx.messages` yields it (Django's `Message`).
 *
 * `String(message)` is its text, so a template can interpolate it directly. `tags` and `levelTag`
 * are computed from the app's tag map when read, not frozen when the message was made.
 */
export class Message implements StoredMessage {
  readonly level: number;
  readonly message: string;
  /** Extra tags given at `add()`, one space-separated string; `''` when none. */
  readonly extraTags: string;
  /** `true` when the text is trusted HTML (added with `{ html: true }`): `ctx.ajax()` does not escape it. */
  readonly html: boolean;
  /**
   * The key given at `add(…, { key })` (docs/dedupe.md); `undefined` when none. An own property only
   * when set, so a message without a key has exactly the fields it had before keys existed.
   */
  declare readonly key: string | undefined;
  readonly #tagMap: Readonly<Record<number, string>>;

  constructor(stored: StoredMessage, tagMap: Readonly<Record<number, string>>) {
    this.level = stored.level;
    this.message = stored.message;
    this.extraTags = stored.extraTags;
    this.html = stored.html;
    if (stored.key !== undefined) this.key = stored.key;
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
    tags: string;
    levelTag: string;
  } {
    return {
      level: this.level,
      message: this.message,
      extraTags: this.extraTags,
      html: this.html,
      ...(this.key === undefined ? {} : { key: this.key }),
      tags: this.tags,
      levelTag: this.levelTag,
    };
  }
}
