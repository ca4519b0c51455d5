import type { Context } from 'koa';
import { z } from 'zod';
import type { AjaxResponse, WireMessage } from './client/schemas.js';
import { escapeHtml } from './escape.js';
import { describe } from './levels.js';
import type { Config } from './options.js';
import { CONSUME, PENDING, type MessageStore } from './store.js';

/** The extra arguments of `ctx.ajax()` (the rest of Django's JsonResponse). */
export interface AjaxInit {
  /** Response status; default: leave `ctx.status` as it is (200 once a body is set). */
  status?: number;
  /** Extra response headers, set after koa-messages' own (so they can override them). */
  headers?: Record<string, string>;
}

/** What `ctx.ajax()` accepts as data at the type level: objects, not arrays, functions or built-ins. */
export type AjaxData<T> = T extends readonly unknown[] | ((...args: never[]) => unknown) | Date | RegExp | Map<unknown, unknown> | Set<unknown> | Promise<unknown>
  ? never
  : T;

/** The body `ctx.ajax(data)` answers with: the client's {@link AjaxResponse}. */
export type AjaxBody<T extends object> = AjaxResponse<T>;

type PlainObject = Record<string, unknown>;

/**
 * A plain object: prototype `Object.prototype` or `null`. `z.object()` would accept class
 * instances and walk every key; this looks at the prototype only, so a 100 KB body costs nothing.
 */
export const plainObjectSchema = z.custom<PlainObject>((value) => {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
});

const initSchema = z.strictObject({
  status: z.int().min(100).max(599).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

function parseInit(init: unknown): AjaxInit {
  const parsed = initSchema.safeParse(init);
  if (parsed.success) return parsed.data as AjaxInit;
  const issue = parsed.error.issues[0]!;
  const where =
    issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `\`${k}\``).join(', ')}` : issue.path.length > 0 ? `\`${issue.path.map(String).join('.')}\` ${issue.message.replace(/^Invalid input: /, '')}` : `must be an object, got ${describe(init)}`;
  throw new TypeError(`koa-messages: ctx.ajax() init ${where}.`);
}

/**
 * djem's AjaxResponse: answer JSON with the pending messages merged in, and consume them.
 * Everything that can fail is checked before a message is consumed.
 */
export function ajax(ctx: Context, store: MessageStore, config: Config, data: unknown, success: unknown, init: unknown): PlainObject {
  if (data === undefined) data = {};
  else if (!plainObjectSchema.safeParse(data).success) {
    throw new TypeError(
      `koa-messages: ctx.ajax() data must be a plain object (an object literal or Object.create(null)), got ${describe(data)}.`,
    );
  }
  const options = init === undefined ? undefined : parseInit(init);
  const pending = store[PENDING]();
  const hasSuccess = success !== undefined && success !== null;

  let body = data as PlainObject;
  if (hasSuccess || pending.length > 0) {
    // Spread, never Object.assign: a JSON-parsed own `__proto__` key stays a plain key.
    body = { ...body };
    if (hasSuccess) body['success'] = Boolean(success);
    if (pending.length > 0) {
      body['messages'] = pending.map(
        (m): WireMessage => ({ message: config.escape && !m.html ? escapeHtml(m.message) : m.message, tags: m.tags }),
      );
    }
  }

  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new TypeError(`koa-messages: ctx.ajax() body cannot be serialized to JSON: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new TypeError('koa-messages: ctx.ajax() body cannot be serialized to JSON (its toJSON() returned undefined).');

  if (pending.length > 0) {
    store[CONSUME]();
    // Messages are one visitor's: never let a shared cache keep them.
    ctx.set('Cache-Control', 'private, no-store');
    ctx.vary('Cookie');
  }
  if (options?.status !== undefined) ctx.status = options.status;
  ctx.body = json;
  ctx.set('Content-Type', 'application/json; charset=utf-8');
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (options?.headers !== undefined) ctx.set(options.headers);
  return body;
}
