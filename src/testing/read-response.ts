import { AssertionError } from 'node:assert';

import type Koa from 'koa';
import { z } from 'zod';
import { safeParse } from 'zod/v4/core';

import { parseOptions, type Same } from '../config/parse.js';
import { describeValue, MessagesError } from '../errors.js';
import { DEFAULT_TAGS } from '../message/level.js';
import { messageSchema, type WireMessage } from '../shared/wire.js';
import { parseCookieValue } from '../storage/cookie/messages-cookie.js';
import { isKeygrip, signerFor } from '../storage/cookie/signing.js';

/** The keys a messages cookie is verified with: what the app has as `app.keys`. */
export type TestKeys =
  | readonly (string | Buffer)[]
  | { sign(data: string): string; index(data: string, digest: string): number };

/** Options of `messagesOf()`. */
export interface MessagesOfOptions {
  /**
   * The app's keys (`app.keys`): read the messages cookie of the cookie and fallback storages,
   * verified with them, instead of the `ctx.ajax()` JSON body.
   */
  keys?: TestKeys | undefined;
  /** The messages cookie's name, when the app sets the cookie storage's `name`. @default 'messages' */
  cookieName?: string | undefined;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The schema of {@link MessagesOfOptions}, spread into the schemas of helpers that take them too. */
export const readOptionsShape = {
  keys: z
    .custom<TestKeys>(
      (keys) =>
        isKeygrip(keys) ||
        (Array.isArray(keys) &&
          keys.length > 0 &&
          keys.every((k) => (typeof k === 'string' || Buffer.isBuffer(k)) && k.length > 0)),
      {
        error: ({ input }) =>
          `must be the app's keys (a non-empty list of non-empty strings, or a Keygrip), got ${describeValue(input)}`,
      },
    )
    .optional(),
  cookieName: z
    .custom<string>((name) => typeof name === 'string' && COOKIE_NAME.test(name), {
      error: ({ input }) => `must be a cookie name, got ${describeValue(input)}`,
    })
    .optional(),
};

const readOptionsSchema = z.strictObject(readOptionsShape);
const exact: Same<z.input<typeof readOptionsSchema>, MessagesOfOptions> = true;
void exact;

/** `messagesOf()`'s options, checked before anything is read: a bad one is the test's own mistake. */
export const checkReadOptions = (options: unknown): MessagesOfOptions =>
  parseOptions(readOptionsSchema, options, 'messagesOf()', 'ERR_KOA_MESSAGES_ARGUMENT');

/** A supertest (superagent) response, or anything with its `headers` and parsed `body`. */
export interface ResponseLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
  readonly text?: string;
}

/** One message as read from a response; `level` only where the cookie told it. */
export interface ReadMessage extends WireMessage {
  readonly level?: number;
}

export const isFetchResponse = (value: unknown): value is Response =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Response).clone === 'function' &&
  typeof (value as Response).headers?.get === 'function';

const fail = (message: string, actual?: unknown): never => {
  throw new AssertionError({ message: `koa-messages: ${message}`, actual, operator: 'messagesOf' });
};

/** The messages of a `ctx.ajax()` body (already parsed JSON). */
export function fromBody(body: unknown): ReadMessage[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('the response body is not a ctx.ajax() JSON object.', body);
  }
  const list = (body as { messages?: unknown }).messages;
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((m) => safeParse(messageSchema, m).success)) {
    return fail(
      'the response body has a `messages` key that is not a list of { message, tags }.',
      list,
    );
  }
  return list.map((m: WireMessage) => ({ message: m.message, tags: m.tags }));
}

/**
 * Why a response that is not JSON cannot be read, and what to do instead. Not "pass { keys }": on a
 * page that showed its messages, the cookie no longer holds them (showing consumed them), so the
 * list would be empty although the page showed the message.
 */
const notJson = (type: unknown): string =>
  `the response is not JSON (Content-Type: ${String(type)}): without { keys }, messagesOf() and ` +
  'assertMessages() read the messages of a ctx.ajax() JSON body. Messages an HTML page showed are ' +
  "in its markup: check the page's text. With { keys } they read the messages cookie, which holds " +
  'what is still pending for the next request, not what this response showed.';

/** The JSON body of a supertest response, checking that it is JSON. */
export function bodyOf(response: ResponseLike): unknown {
  const type = response.headers['content-type'];
  if (typeof type !== 'string' || !/^application\/json\b/i.test(type)) {
    return fail(notJson(type), type);
  }
  if (response.body !== undefined && typeof response.body === 'object') return response.body;
  try {
    return JSON.parse(response.text ?? '');
  } catch {
    return fail('the response body is not valid JSON.', response.text);
  }
}

/** The messages in the response's messages cookie; `[]` when it sets none or deletes it. */
export function fromCookies(
  setCookies: readonly string[],
  keys: TestKeys,
  name: string,
): ReadMessage[] {
  let value: string | undefined;
  for (const header of setCookies) {
    const pair = header.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) value = pair.slice(eq + 1).trim();
  }
  if (value === undefined || value === '') return [];
  const signer = signerFor({ keys } as unknown as Koa, 'testing');
  const read = parseCookieValue(signer, name, value);
  if (read.bad) {
    return fail(
      `the \`${name}\` cookie does not verify with the given keys (or is not a messages cookie).`,
      value,
    );
  }
  if (read.more) {
    return fail(
      `the \`${name}\` cookie ends with the not-finished marker: some messages are not in it ` +
        '(in the session with the fallback storage, or dropped to onDrop with the cookie storage).',
      value,
    );
  }
  return read.messages.map((m) => {
    const levelTag = DEFAULT_TAGS[m.level] ?? '';
    const tags =
      m.extraTags === '' ? levelTag : levelTag === '' ? m.extraTags : `${m.extraTags} ${levelTag}`;
    return { message: m.message, tags, level: m.level };
  });
}

/** The `Set-Cookie` headers of either kind of response. */
export function setCookiesOf(response: ResponseLike | Response): string[] {
  if (isFetchResponse(response)) return response.headers.getSetCookie();
  const value = response.headers['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Read a response, synchronously for supertest, through a Promise for fetch. */
export function readResponse(
  response: unknown,
  options: MessagesOfOptions,
  caller: string,
): ReadMessage[] | Promise<ReadMessage[]> {
  const fetched = isFetchResponse(response);
  if (
    !fetched &&
    (typeof response !== 'object' ||
      response === null ||
      typeof (response as ResponseLike).headers !== 'object')
  ) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `${caller} takes a supertest or fetch response, got ${describeValue(response)}.`,
    );
  }
  if (options.keys !== undefined) {
    const list = fromCookies(
      setCookiesOf(response as ResponseLike),
      options.keys,
      options.cookieName ?? 'messages',
    );
    return fetched ? Promise.resolve(list) : list;
  }
  if (!fetched) return fromBody(bodyOf(response as ResponseLike));
  const type = response.headers.get('content-type');
  if (type === null || !/^application\/json\b/i.test(type)) {
    return Promise.reject(
      new AssertionError({
        message: `koa-messages: ${notJson(type)}`,
        actual: type,
        operator: 'messagesOf',
      }),
    );
  }
  // A clone: the test can still read the body itself.
  return response
    .clone()
    .json()
    .then(fromBody, () => fail('the response body is not valid JSON.'));
}
