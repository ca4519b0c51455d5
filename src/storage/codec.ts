import { z } from 'zod';

import {
  type DescriptorValues,
  isDescriptorValues,
  type MessageDescriptor,
  readDescriptor,
} from '../message/descriptor.js';
import type { StoredMessage } from './types.js';

/**
 * The compact form every built-in storage keeps a message in: a tuple, with the trailing
 * fields left out when they hold their defaults.
 *
 *   [25, "Vote recorded."]                 level and text
 *   [20, "Saved.", "special"]              + extra tags
 *   [20, "<b>Saved</b>", "", 1]            + the trusted-HTML flag
 *   [25, "4 items saved.", "", 0, "saved"] + a key (`add(…, { key })`); the flag is then 0 or 1
 *   [25, "Saved.", "", 0, "", 1764633600000]         + the add time, with `maxAge` ("" = no key)
 *   [25, "Saved.", "", 0, "", 1764633600000, 60000]  + the message's own `maxAge`
 *   [25, ["vote.recorded", {"votes": 3}]]  a descriptor (`[id]` without values) instead of text
 *
 * An entry pays only for what it uses: without keys, `maxAge` and descriptors it is the first
 * two to four elements. Keys are never repeated, so a 40-character message
 * costs about 50 bytes of JSON; the add time adds 16.
 * The schema is the definition (exported, and what `decodeMessage` must agree with: a property
 * test feeds both arbitrary values); reads use the equivalent hand-written check below.
 */
export const encodedMessageSchema = z.tuple([
  z.int(),
  z.union([
    z.string().min(1),
    z.tuple([z.string().min(1)]),
    z.tuple([z.string().min(1), z.custom<DescriptorValues>(isDescriptorValues)]),
  ]),
  z.string().optional(),
  z.union([z.literal(0), z.literal(1)]).optional(),
  z.string().optional(),
  z.int().nonnegative().optional(),
  z.int().positive().optional(),
]);

export type EncodedMessage = z.infer<typeof encodedMessageSchema>;

export function encodeMessage(m: StoredMessage): EncodedMessage {
  const d = m.descriptor;
  const text: EncodedMessage[1] =
    d === undefined ? m.message : d.values === undefined ? [d.id] : [d.id, d.values];
  if (m.addedAt !== undefined) {
    const head = [m.level, text, m.extraTags, m.html ? 1 : 0, m.key ?? '', m.addedAt] as const;
    return m.maxAge === undefined ? [...head] : [...head, m.maxAge];
  }
  if (m.key !== undefined) return [m.level, text, m.extraTags, m.html ? 1 : 0, m.key];
  if (m.html) return [m.level, text, m.extraTags, 1];
  if (m.extraTags !== '') return [m.level, text, m.extraTags];
  return [m.level, text];
}

export function encodeMessages(list: readonly StoredMessage[]): EncodedMessage[] {
  return list.map(encodeMessage);
}

const isCount = (value: unknown, min: number): boolean =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= min);

/**
 * One encoded entry back to a message; `undefined` when it is not a valid entry.
 *
 * Accepts exactly what {@link encodedMessageSchema} accepts, checked by hand: this runs for every
 * stored message on every read, where `safeParse`'s generality costs more than the check itself
 * (docs/contributing/benchmarks-history.md). test/hardening/roundtrip.test.ts holds the two to the same answers.
 */
export function decodeMessage(entry: unknown): StoredMessage | undefined {
  if (!Array.isArray(entry) || entry.length > 7) return undefined;
  const [level, text, extraTags = '', html, key, addedAt, maxAge] = entry as unknown[];
  if (!Number.isSafeInteger(level)) return undefined;
  if (typeof extraTags !== 'string' || (html !== undefined && html !== 1 && html !== 0))
    return undefined;
  let message: string;
  let descriptor: MessageDescriptor | undefined;
  if (typeof text === 'string') {
    if (text === '') return undefined;
    message = text;
  } else {
    if (!Array.isArray(text) || text.length === 0 || text.length > 2) return undefined;
    if (text.length === 2 && text[1] === undefined) return undefined;
    descriptor = readDescriptor(text[0], text[1]);
    if (descriptor === undefined) return undefined;
    message = descriptor.id;
  }
  if (entry.length <= 4 && descriptor === undefined)
    return { level: level as number, message, extraTags, html: html === 1 };
  if ((key !== undefined && typeof key !== 'string') || !isCount(addedAt, 0) || !isCount(maxAge, 1))
    return undefined;
  return {
    level: level as number,
    message,
    extraTags,
    html: html === 1,
    ...(key === undefined || key === '' ? {} : { key: key }),
    ...(addedAt === undefined ? {} : { addedAt: addedAt as number }),
    ...(maxAge === undefined ? {} : { maxAge: maxAge as number }),
    ...(descriptor === undefined ? {} : { descriptor }),
  };
}

/**
 * Decode a stored list. Stored data is untrusted (an old deploy, another app sharing the session,
 * a hand-edited store): entries that do not match the schema are dropped, never thrown on.
 *
 * @returns the valid messages, and `clean: false` when anything had to be dropped.
 */
export function decodeMessages(data: unknown): { messages: StoredMessage[]; clean: boolean } {
  if (data === undefined || data === null) return { messages: [], clean: true };
  if (!Array.isArray(data)) return { messages: [], clean: false };
  const messages: StoredMessage[] = [];
  for (const entry of data) {
    const message = decodeMessage(entry);
    if (message !== undefined) messages.push(message);
  }
  return { messages, clean: messages.length === data.length };
}
