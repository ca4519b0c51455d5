import { safeParse } from 'zod/v4/core';

import { messagesHeaderSchema, type WireMessage } from '../shared/wire.js';
import { describeIssues } from './issues.js';

/** Options of {@link live}. */
export interface LiveOptions {
  /** Gets each batch of messages (their text is HTML, as in `ajax()`) and its event. */
  onMessages: (messages: WireMessage[], event: Event) => void;
  /** Send cookies to another origin (`EventSource`'s `withCredentials`). @default false */
  withCredentials?: boolean;
  /**
   * The longest wait, in ms, before opening again a stream the browser gave up on (the server
   * answered an error, or not an event stream); the wait doubles from one second. @default 60000
   */
  maxDelay?: number;
}

/**
 * Show the messages sent to the logged-in user in this tab as they arrive: an `EventSource` on the
 * server's `messagesLive()` endpoint. The browser reconnects a dropped stream by itself; one it
 * closed (an error status) is opened again after a growing delay. Events that are not a valid
 * message list are ignored with `console.warn`. Each message reaches one of the user's tabs.
 *
 * @param url - where the app mounted `messagesLive()`.
 * @param options - see {@link LiveOptions}.
 * @returns a function that closes the stream for good.
 * @example
 * const stop = live('/messages/live', { onMessages: (messages) => messages.forEach(showToast) });
 */
export function live(url: string | URL, options: LiveOptions): () => void {
  const { onMessages, withCredentials = false, maxDelay = 60_000 } = options;
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 1000;
  let stopped = false;

  const onEvent = (event: Event) => {
    let json: unknown;
    try {
      json = JSON.parse((event as MessageEvent).data as string);
    } catch {
      json = undefined;
    }
    const parsed = safeParse(messagesHeaderSchema, json);
    if (parsed.success) onMessages(parsed.data.messages, event);
    else
      console.warn(
        `koa-messages: a live messages event with an unexpected shape; ignored: ${describeIssues(parsed.error.issues)}`,
      );
  };
  const open = () => {
    timer = undefined;
    const s = (source = new EventSource(url, { withCredentials }));
    s.addEventListener('messages', onEvent);
    s.addEventListener('open', () => (delay = 1000));
    s.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself. CLOSED: it gave up; so do we, for a while.
      if (s.readyState !== EventSource.CLOSED || stopped) return;
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  };
  open();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    source?.close();
  };
}
