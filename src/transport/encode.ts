import { escapeHtml } from '../message/escape.js';
import type { Message } from '../message/message.js';

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

/** The `[…]` list of a header payload, and which pending messages it holds. */
export interface EncodedList {
  readonly json: string;
  /** The messages in `json`, in pending order. */
  readonly sent: readonly Message[];
  /** The rest, in pending order: they stay pending for a later response. */
  readonly unsent: readonly Message[];
  /** Errors of the app's `translate` for messages left unsent because of them. */
  readonly errors: readonly unknown[];
}

/**
 * Encode the pending messages, oldest first, as a JSON array of `{ message, tags }` (escaped as
 * `ctx.ajax()` escapes them) of at most `budget` characters. It stops at the first message that
 * does not fit beside the ones before it, so what is sent is the oldest ones and the rest stay
 * pending in order; a message that could never fit (alone larger than the budget), or whose
 * translation fails, is passed over without blocking the rest: it waits for a page.
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
  const sent: Message[] = [];
  const unsent: Message[] = [];
  const errors: unknown[] = [];
  let full = false;
  for (const m of pending) {
    if (full) {
      unsent.push(m);
      continue;
    }
    let item: string;
    try {
      item = asciiJson({
        message: escape && !m.html ? escapeHtml(m.message) : m.message,
        tags: m.tags,
      });
    } catch (error) {
      errors.push(error);
      unsent.push(m);
      continue;
    }
    // `[` + items joined by `,` + `]`.
    if (item.length + 2 > budget) {
      unsent.push(m);
      continue;
    }
    if (json.length + (sent.length > 0 ? 1 : 0) + item.length + 1 > budget) {
      full = true;
      unsent.push(m);
      continue;
    }
    json += (sent.length > 0 ? ',' : '') + item;
    sent.push(m);
  }
  return { json: `${json}]`, sent, unsent, errors };
}
