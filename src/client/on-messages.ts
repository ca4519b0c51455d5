import * as z from 'zod';

import {
  MESSAGES_HEADER,
  messagesEventDetailSchema,
  messagesHeaderSchema,
  type WireMessage,
} from '../shared/wire.js';

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
  const parsed = messagesHeaderSchema.safeParse(json);
  if (!parsed.success) {
    console.warn(
      `koa-messages: the ${MESSAGES_HEADER} header has an unexpected shape; ignored: ${z.prettifyError(parsed.error)}`,
    );
    return [];
  }
  return parsed.data.messages;
}

/**
 * Call `handler` with the messages of every htmx answer that carries them: the server's `htmx`
 * option puts them in `HX-Trigger` as `{"messages":[…]}`, and htmx dispatches that as a bubbling
 * `messages` event whose `detail.value` is the list. A detail of another shape (another library's
 * `messages` event) is ignored.
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
    const parsed = messagesEventDetailSchema.safeParse((event as CustomEvent).detail);
    if (parsed.success) handler(parsed.data.value, event);
  };
  target.addEventListener('messages', listener);
  return () => target.removeEventListener('messages', listener);
}
