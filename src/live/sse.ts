import type { WireMessage } from '../shared/wire.js';

/**
 * One server-sent event (the WHATWG `text/event-stream` format). `data` is JSON, which escapes
 * CR and LF inside strings, so it is always one `data:` line.
 */
export function sseEvent(event: string, id: string, data: unknown): string {
  return `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `messages` event the live endpoint writes for one batch. */
export function messagesEvent(id: string, messages: readonly WireMessage[]): string {
  return sseEvent('messages', id, { messages });
}

/** The reconnection delay hint, sent first. */
export const retryField = (ms: number): string => `retry: ${ms}\n\n`;

/** A comment line: ignored by EventSource, keeps proxies from closing an idle stream. */
export const HEARTBEAT = ': keep-alive\n\n';
