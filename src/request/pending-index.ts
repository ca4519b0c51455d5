import { descriptorSignature } from '../message/descriptor.js';
import type { Message } from '../message/message.js';

/**
 * What `dedupe` and keys look up, kept for the pending (unread) messages only: built in one pass
 * on the first add that needs it, then kept up to date by each add, so an add costs O(1).
 */
export class PendingIndex {
  /** Pending messages by key; more than one only when a storage handed back duplicates. */
  readonly keys = new Map<string, Message[]>();
  /** How many pending messages have each {@link signature} (only with `dedupe`). */
  readonly same = new Map<string, number>();

  constructor(
    readonly dedupe: boolean,
    lists: readonly (readonly Message[])[],
    skip: (m: Message) => boolean,
  ) {
    for (const list of lists) {
      for (const m of list) {
        if (skip(m)) continue;
        if (m.key !== undefined) {
          const same = this.keys.get(m.key);
          if (same === undefined) this.keys.set(m.key, [m]);
          else same.push(m);
        }
        if (dedupe) this.#count(signature(m), 1);
      }
    }
  }

  /** Whether a message equal to `m` is pending (always `false` without `dedupe`). */
  hasSame(m: Message): boolean {
    return this.dedupe && this.same.has(signature(m));
  }

  /** Record an added message; returns the pending ones its key replaces. */
  add(m: Message): readonly Message[] {
    let replaced: readonly Message[] = [];
    if (m.key !== undefined) {
      replaced = this.keys.get(m.key) ?? [];
      for (const earlier of replaced) this.#forget(earlier);
      this.keys.set(m.key, [m]);
    }
    if (this.dedupe) this.#count(signature(m), 1);
    return replaced;
  }

  #forget(m: Message): void {
    if (this.dedupe) this.#count(signature(m), -1);
  }

  #count(sig: string, by: number): void {
    const count = (this.same.get(sig) ?? 0) + by;
    if (count <= 0) this.same.delete(sig);
    else this.same.set(sig, count);
  }
}

/**
 * What makes two messages equal for `dedupe`: level, text, extra tags, and the key. The lengths
 * make it unambiguous (a key is never `''`, so length 0 is "no key").
 */
export const signature = (m: Message): string =>
  `${m.level} ${m.extraTags.length} ${m.key?.length ?? 0} ${m.extraTags}${m.key ?? ''}` +
  // A descriptor's text depends on the reader's language: its id and values are what it says.
  (m.descriptor === undefined ? `"${m.message}` : `{${descriptorSignature(m.descriptor)}`);
