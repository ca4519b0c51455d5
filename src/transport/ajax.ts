import { validateHeaderName, validateHeaderValue } from 'node:http';

import { z } from 'zod';

import { watchingReads } from '../diagnostics.js';
import { describeValue, MessagesError } from '../errors.js';
import { escapeHtml } from '../message/escape.js';
import { isPlainObject } from '../message/plain-object.js';
import type { RequestMessages } from '../request/request-messages.js';
import type { AjaxResponse, WireMessage } from '../shared/wire.js';
import { markJson, markPrivate } from './headers.js';

/** The extra arguments of `ctx.ajax()` (the rest of Django's JsonResponse). */
export interface AjaxInit {
  /**
   * Response status, an integer from 200 to 599 other than 204, 205 and 304 (those carry no body);
   * default: leave `ctx.status` as it is (200 once a body is set).
   */
  status?: number;
  /**
   * Extra response headers, set after koa-messages' own (so they can override them). Not the ones
   * that describe the body's framing (`Content-Length`, `Transfer-Encoding`, `Content-Encoding`):
   * Koa sets them for the JSON it sends, and a wrong one would cut or garble the answer after its
   * messages were consumed.
   */
  headers?: Record<string, string>;
}

/**
 * What `ctx.ajax()` accepts as data at the type level: objects, not arrays, functions or built-ins.
 * A refused type becomes a string literal that says why, so the compiler's error reads "… is not
 * assignable to … 'ctx.ajax() data must be a plain object …'" rather than "… to 'undefined'".
 */
export type AjaxData<T> = T extends
  | readonly unknown[]
  | ((...args: never[]) => unknown)
  | Date
  | RegExp
  | Map<unknown, unknown>
  | Set<unknown>
  | Promise<unknown>
  ? 'ctx.ajax() data must be a plain object (an object literal), not an array, a function or a built-in'
  : T;

/** The body `ctx.ajax(data)` answers with: the client's {@link AjaxResponse}. */
export type AjaxBody<T extends object> = AjaxResponse<T>;

type PlainObject = Record<string, unknown>;

/** {@link isPlainObject} as a schema (`z.object()` would accept class instances and walk every key). */
export const plainObjectSchema = z.custom<PlainObject>(isPlainObject);

// Headers about the body's framing and encoding: Koa derives them from the body it sends.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'content-encoding']);

// Statuses whose responses carry no body: Koa would drop the JSON, and with it the messages it consumed.
const BODILESS = new Set([204, 205, 304]);

/**
 * Check `init` completely before anything is consumed: a header Node would refuse (`ctx.set()`
 * throws on a bad name or a CR/LF in a value) must fail here, not after the messages are gone.
 */
function parseInit(init: unknown): AjaxInit {
  const fail = (what: string): never => {
    throw new MessagesError('ERR_KOA_MESSAGES_ARGUMENT', `ctx.ajax() init ${what}.`);
  };
  if (typeof init !== 'object' || init === null || Array.isArray(init))
    fail(`must be an object, got ${describeValue(init)}`);
  const { status, headers, ...rest } = init as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    fail(
      `has unknown key ${unknown.map((k) => `\`${k}\``).join(', ')}; use \`status\` or \`headers\``,
    );
  if (
    status !== undefined &&
    (!Number.isInteger(status) ||
      (status as number) < 200 ||
      (status as number) > 599 ||
      BODILESS.has(status as number))
  ) {
    fail(
      `\`status\` must be an integer from 200 to 599 other than 204, 205 and 304 (a JSON answer needs a body), got ${typeof status === 'number' ? status : describeValue(status)}`,
    );
  }
  if (headers !== undefined) {
    if (!plainObjectSchema.safeParse(headers).success)
      fail(`\`headers\` must be a plain object of strings, got ${describeValue(headers)}`);
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof value !== 'string')
        fail(`\`headers\` value of \`${name}\` must be a string, got ${describeValue(value)}`);
      if (FRAMING.has(name.toLowerCase()))
        fail(
          `\`headers\` must not set \`${name}\`: Koa sets the framing of the JSON body itself, and another value would cut or garble the answer`,
        );
      try {
        validateHeaderName(name);
      } catch {
        fail(`\`headers\` has an invalid header name ${JSON.stringify(name)}`);
      }
      try {
        validateHeaderValue(name, value as string);
      } catch {
        fail(
          `\`headers\` value of \`${name}\` has a character a header cannot hold (such as CR, LF or NUL)`,
        );
      }
    }
  }
  return init as AjaxInit;
}

/**
 * djem's AjaxResponse: answer JSON with the pending messages merged in, and consume them.
 * Everything that can fail is checked before a message is consumed.
 */
export function respondAjax(
  request: RequestMessages,
  data: unknown,
  success: unknown,
  init: unknown,
): PlainObject {
  const { ctx, config } = request;
  if (data === undefined) data = {};
  else if (!plainObjectSchema.safeParse(data).success) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got ${describeValue(data)}.`,
    );
  }
  const options = init === undefined ? undefined : parseInit(init);
  if (options?.status === undefined && BODILESS.has(ctx.status)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.ajax() cannot answer with status ${ctx.status}, which the handler set before: it carries no body, so the messages would be lost; pass { status } in init.`,
    );
  }
  const pending = request.pending();
  const { escape } = config;
  const hasSuccess = success !== undefined && success !== null;

  let body = data as PlainObject;
  let json: string | undefined;
  // Outside the try below: an error of the app's `translate` is its own, not the body's.
  const wire = pending.map((m): WireMessage => ({
    message: escape && !m.html ? escapeHtml(m.message) : m.message,
    tags: m.tags,
  }));
  try {
    if (hasSuccess || pending.length > 0) {
      // Spread, never Object.assign: a JSON-parsed own `__proto__` key stays a plain key.
      body = { ...body };
      if (hasSuccess) body['success'] = Boolean(success);
      if (pending.length > 0) body['messages'] = wire;
    }
    json = JSON.stringify(body);
  } catch (error) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `ctx.ajax() body cannot be serialized to JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (json === undefined)
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      'ctx.ajax() body cannot be serialized to JSON (its toJSON() returned undefined).',
    );

  if (pending.length > 0) {
    request.consume();
    if (watchingReads()) request.noteRead('ajax', pending);
    // Now, not only at the end of the request: middleware between messages() and this handler
    // (a response cache, an ETag) sees the answer before messages() finishes.
    markPrivate(ctx);
  }
  if (options?.status !== undefined) ctx.status = options.status;
  markJson(ctx);
  ctx.body = json;
  if (options?.headers !== undefined) ctx.set(options.headers);
  return body;
}
