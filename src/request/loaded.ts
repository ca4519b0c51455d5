import type { Config } from '../config/messages-config.js';
import { type BoundTranslate, Message } from '../message/message.js';
import type { StoredMessage } from '../storage/types.js';

/** What loading found in the storage. */
export interface Loaded {
  /** The pending messages, as this request's {@link Message}s. */
  readonly messages: Message[];
  /** Messages past their `maxAge`: not pending, reported to `onDrop` as `'expired'`. */
  readonly expired: StoredMessage[] | undefined;
  /** Loading changed what the storage must hold (expired or future-dated messages). */
  readonly changed: boolean;
}

/**
 * Stored messages as this request's {@link Message}s, less those past their `maxAge`. A
 * descriptor's message is made anew even when a storage hands back a `Message`: its text belongs
 * to the request showing it.
 */
export function fromStorage(
  list: readonly StoredMessage[],
  config: Config,
  translator: () => BoundTranslate | undefined,
): Loaded {
  const tags = config.tags;
  const messages: Message[] = [];
  let expired: StoredMessage[] | undefined;
  let changed = false;
  let now: number | undefined;
  for (const m of list) {
    if (m.addedAt !== undefined) {
      now ??= Date.now();
      if (m.addedAt > now) {
        // Dated in the future (this clock stepped back, another server's clock is ahead, or the
        // data was forged): its age counts from now, and the storage keeps that, so it can live
        // at most maxAge past this request and never forever (docs/expiry.md).
        messages.push(new Message(restamped(m, now), tags, translator()));
        changed = true;
        continue;
      }
      const limit = m.maxAge ?? config.maxAge;
      if (limit !== undefined && now - m.addedAt > limit) {
        (expired ??= []).push(m);
        changed = true;
        continue;
      }
    }
    if (m.descriptor !== undefined) messages.push(new Message(m, tags, translator()));
    else messages.push(m instanceof Message ? m : new Message(m, tags));
  }
  return { messages, expired, changed };
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
