import { type $ZodIssue, type $ZodObject, type output, safeParse } from 'zod/v4/core';

import { ajaxResponseSchema, envelopeSchema, type WireMessage } from '../shared/wire.js';
import { describeIssues } from './issues.js';
import { messagesFromHeader } from './on-messages.js';

// Answers without a body: parsed as `{}`, their messages (if any) come in the X-Messages header.
const BODILESS = new Set([204, 205, 304]);

/** Why {@link ajax} gave up: no answer at all, an answer that is not JSON, or JSON of the wrong shape. */
export type AjaxErrorReason = 'network' | 'not-json' | 'invalid';

/**
 * Thrown by {@link ajax} when there is nothing typed to hand back. An answer with `success: false`
 * is not an error: it is a normal result, usually with messages that say what went wrong.
 */
export class AjaxError extends Error {
  override readonly name = 'AjaxError';
  /** What went wrong (see {@link AjaxErrorReason}). */
  readonly reason: AjaxErrorReason;
  /** The HTTP status, when an answer arrived. */
  readonly status: number | undefined;
  /** The schema's complaints, for `reason: 'invalid'`. */
  readonly issues: readonly $ZodIssue[];

  constructor(
    message: string,
    reason: AjaxErrorReason,
    details: { status?: number; issues?: readonly $ZodIssue[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.status = details.status;
    this.issues = details.issues ?? [];
  }
}

/** What every {@link ajax} result carries. */
interface AjaxResultBase {
  /** The messages the server sent; `[]` when it sent none. Their text is HTML (escaped by the server unless marked `html`). */
  messages: WireMessage[];
  /** The HTTP status of the answer. */
  status: number;
}

/**
 * A parsed `ctx.ajax()` answer.
 *
 * - `success: true`, or `undefined` when the server passed no `success`: `data` was checked by the
 *   data schema.
 * - `success: false`: the server said the action failed (djem's `AjaxResponse(success=False)`, usually
 *   with no data). `data` is whatever other keys came, unchecked.
 */
export type AjaxResult<T> =
  | (AjaxResultBase & { success: true | undefined; data: T })
  | (AjaxResultBase & { success: false; data: Record<string, unknown> });

/**
 * Fetch a `ctx.ajax()` endpoint and parse its answer: typed data, the messages, and `success`.
 *
 * Sends `Accept: application/json` and `X-Requested-With: XMLHttpRequest` unless `init.headers`
 * sets them. Any HTTP status is parsed the same way: a 400 that carries `success: false` and
 * messages is a result, not an error. A 204, 205 or 304 has no body and is parsed as `{}`; the
 * messages of an `X-Messages` header (`ctx.messages.toHeader()`) come after the body's.
 *
 * @param url - what `fetch` takes.
 * @param init - `fetch` options; default a GET.
 * @param dataSchema - a `z.object(...)`, of classic zod or `zod/mini`, for the data keys of a
 *   successful answer; default: any keys.
 * @returns `{ success, data, messages, status }`, `data` typed by `dataSchema` unless `success` is `false`.
 * @throws {AjaxError} `reason: 'network'` when no answer came, `'not-json'` when the body is not JSON,
 *   `'invalid'` when it does not match `ajaxResponseSchema(dataSchema)`.
 * @throws {TypeError} when `dataSchema` is not a `z.object(...)`.
 * @example
 * const result = await ajax(`/choices/${id}/vote`, { method: 'POST' }, z.object({ votes: z.number() }));
 * for (const m of result.messages) showToast(m);
 * if (result.success !== false) count.textContent = String(result.data.votes);
 */
export async function ajax(
  url: string | URL,
  init?: RequestInit,
): Promise<AjaxResult<Record<string, unknown>>>;
export async function ajax<S extends $ZodObject>(
  url: string | URL,
  init: RequestInit | undefined,
  dataSchema: S,
): Promise<AjaxResult<Omit<output<S>, 'success' | 'messages'>>>;
export async function ajax(
  url: string | URL,
  init: RequestInit = {},
  dataSchema?: $ZodObject,
): Promise<AjaxResult<Record<string, unknown>>> {
  // Built first so a wrong schema is a TypeError before any request is sent.
  const schema = dataSchema === undefined ? envelopeSchema : ajaxResponseSchema(dataSchema);
  const headers = new Headers(init.headers);
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  if (!headers.has('X-Requested-With')) headers.set('X-Requested-With', 'XMLHttpRequest');
  const what = `${init.method ?? 'GET'} ${String(url)}`;

  let response: Response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    throw new AjaxError(`${what} got no answer: ${(error as Error).message}`, 'network', {
      cause: error,
    });
  }

  let json: unknown = {};
  try {
    if (!BODILESS.has(response.status)) json = await response.json();
  } catch (error) {
    throw new AjaxError(
      `${what} answered ${response.status} with a body that is not JSON.`,
      'not-json',
      {
        status: response.status,
        cause: error,
      },
    );
  }

  // A failure answer carries no data in djem's pattern (`ctx.ajax({}, false)`), so only its envelope is checked.
  const isFailure =
    typeof json === 'object' && json !== null && (json as { success?: unknown }).success === false;
  const parsed = safeParse(isFailure ? envelopeSchema : schema, json);
  if (!parsed.success) {
    throw new AjaxError(
      `${what} answered ${response.status} with an unexpected body: ${describeIssues(parsed.error.issues)}`,
      'invalid',
      { status: response.status, issues: parsed.error.issues },
    );
  }
  const {
    success,
    messages: inBody = [],
    ...data
  } = parsed.data as { success?: boolean; messages?: WireMessage[] };
  const inHeader = messagesFromHeader(response);
  const messages = inHeader.length === 0 ? inBody : [...inBody, ...inHeader];
  if (success === false) return { success, data, messages, status: response.status };
  return { success, data, messages, status: response.status };
}
