import { z } from 'zod';

import type { StoredMessage } from './types.js';

/**
 * The compact form every built-in storage keeps a message in: a tuple, with the trailing
 * fields left out when they hold their defaults.
 *
 *   [25, "Vote recorded."]                 level and text
 *   [20, "Saved.", "special"]              + extra tags
 *   [20, "<b>Saved</b>", "", 1]            + the trusted-HTML flag
 *
 * Keys are never repeated, so a 40-character message costs about 50 bytes of JSON.
 * The schema is the definition (exported, and what `decodeMessage` must agree with: a property
 * test feeds both arbitrary values); reads use the equivalent hand-written check below.
 */
export const encodedMessageSchema = z.tuple([
  z.int(),
  z.string().min(1),
  z.string().optional(),
  z.literal(1).optional(),
]);

export type EncodedMessage = z.infer<typeof encodedMessageSchema>;

export function encodeMessage(m: StoredMessage): EncodedMessage {
  if (m.html) return [m.level, m.message, m.extraTags, 1];
  if (m.extraTags !== '') return [m.level, m.message, m.extraTags];
  return [m.level, m.message];
}

export function encodeMessages(list: readonly StoredMessage[]): EncodedMessage[] {
  return list.map(encodeMessage);
}

/**
 * One encoded entry back to a message; `undefined` when it is not a valid entry.
 *
 * Accepts exactly what {@link encodedMessageSchema} accepts, checked by hand: this runs for every
 * stored message on every read, where `safeParse`'s generality costs more than the check itself
 * (docs/benchmarks-history.md). test/hardening/roundtrip.test.ts holds the two to the same answers.
 */
export function decodeMessage(entry: unknown): StoredMessage | undefined {
  if (!Array.isArray(entry) || entry.length > 4) return undefined;
  const [level, message, extraTags = '', html] = entry as unknown[];
  if (!Number.isSafeInteger(level) || typeof message !== 'string' || message === '')
    return undefined;
  if (typeof extraTags !== 'string' || (html !== undefined && html !== 1)) return undefined;
  return { level: level as number, message, extraTags, html: html === 1 };
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
