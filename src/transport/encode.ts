import { escapeHtml } from '../escape.js';
import type { Message } from '../message.js';

// Everything a header value cannot carry as is: DEL and every non-ASCII code unit. JSON.stringify
// already escapes the C0 controls, and it escapes lone surrogates, so what is left is ASCII.
const NON_ASCII = /[\u007f-\uffff]/g;
// Without the g flag: `test` on a global regex keeps state between calls.
const HAS_NON_ASCII = /[\u007f-\uffff]/;

const toUnicodeEscape = (ch: string): string =>
  `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON as a header value: ASCII only, non-ASCII text as `\uXXXX`, which `JSON.parse` (and so htmx)
 * turns back into the same text. One character is one byte, so `length` is the header's size.
 */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, toUnicodeEscape) : json;
}

/** The `[…]` list of a header payload and how many of the pending messages it holds. */
export interface EncodedList {
  readonly json: string;
  readonly count: number;
}

/**
 * Encode the pending messages, oldest first, as a JSON array of `{ message, tags }` (escaped as
 * `ctx.ajax()` escapes them) of at most `budget` characters. It stops at the first message that
 * does not fit, so what is sent is always the oldest ones and the rest stay pending in order.
 * Each message is encoded once: an htmx answer costs one JSON encode of its messages.
 *
 * @param budget - characters left for the array in the header.
 */
export function encodeList(
  pending: readonly Message[],
  escape: boolean,
  budget: number,
): EncodedList {
  let json = '[';
  let count = 0;
  for (const m of pending) {
    const item = asciiJson({
      message: escape && !m.html ? escapeHtml(m.message) : m.message,
      tags: m.tags,
    });
    // `[` + items joined by `,` + `]`.
    if (json.length + (count > 0 ? 1 : 0) + item.length + 1 > budget) break;
    json += (count > 0 ? ',' : '') + item;
    count += 1;
  }
  return { json: `${json}]`, count };
}
