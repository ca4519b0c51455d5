import { safeParse } from 'zod/v4/core';

import {
  messageArraySchema,
  MESSAGES_HEADER,
  messagesHeaderSchema,
  type WireMessage,
} from '../shared/wire.js';
import { describeIssues } from './issues.js';

/**
 * The messages of a response's `X-Messages` header (`ctx.messages.toHeader()` on the server), or
 * `[]` when it has none. A header that is not valid JSON of the right shape is ignored (and
 * reported with `console.warn`): the answer itself may still be good.
 *
 * @param response - a `fetch` Response.
 * @example
 * const response = await fetch('/report.csv');
 * for (const m of messagesFromHeader(response)) showToast(m);
 */
export function messagesFromHeader(response: Response): WireMessage[] {
  const raw = response.headers.get(MESSAGES_HEADER);
  if (raw === null) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    console.warn(`koa-messages: the ${MESSAGES_HEADER} header is not JSON; ignored.`);
    return [];
  }
  const parsed = safeParse(messagesHeaderSchema, json);
  if (!parsed.success) {
    console.warn(
      `koa-messages: the ${MESSAGES_HEADER} header has an unexpected shape; ignored: ${describeIssues(parsed.error.issues)}`,
    );
    return [];
  }
  return parsed.data.messages;
}

/**
 * Call `handler` with the messages of every htmx answer that carries them: the server's `htmx`
 * option puts them in `HX-Trigger` as `{"messages":[…]}`, and htmx dispatches that as a bubbling
 * `messages` event. htmx 2 wraps the list as `detail.value`; htmx 4 hands the list itself as
 * `detail`: both are read. A `messages` event whose detail is neither (another library's event, a
 * malformed list) is not passed on, and says so with `console.warn`: the server has already
 * consumed those messages, so a silent drop would lose them unseen.
 *
 * @param handler - gets the messages (their text is HTML, as in `ajax()`) and the event.
 * @param target - where to listen; default `document` (the event bubbles up to it).
 * @returns a function that stops listening.
 * @example
 * onMessages((messages) => messages.forEach(showToast));
 */
export function onMessages(
  handler: (messages: WireMessage[], event: Event) => void,
  // Through globalThis: the package is also type-checked without the DOM library.
  target: EventTarget = (globalThis as unknown as { document: EventTarget }).document,
): () => void {
  const listener = (event: Event) => {
    const detail: unknown = (event as CustomEvent).detail;
    // htmx 4: the list itself; htmx 2: `{ value: list }` (`elt` and more beside it).
    const list = Array.isArray(detail) ? detail : (detail as { value?: unknown } | null)?.value;
    const parsed = safeParse(messageArraySchema, list);
    // The server never sends an empty list; one from elsewhere has nothing to show or lose.
    if (parsed.success) {
      if (parsed.data.length > 0) handler(parsed.data, event);
    } else {
      console.warn(
        `koa-messages: a messages event whose detail is neither htmx 4's list nor htmx 2's { value: list }; ignored: ${describeIssues(parsed.error.issues)}`,
        detail,
      );
    }
  };
  target.addEventListener('messages', listener);
  return () => target.removeEventListener('messages', listener);
}
