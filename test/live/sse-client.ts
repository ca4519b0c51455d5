import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

import type Koa from 'koa';
import type { Context } from 'koa';

import { messagesLive, type Outbox } from '../../src/index.js';
import { buildApp } from '../helpers/app.js';

export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

/** An event-stream reader over a real socket: events in order, waited on, never polled. */
export interface SseConnection {
  readonly response: IncomingMessage;
  readonly events: SseEvent[];
  /** The texts of every `messages` event so far, in order. */
  texts(): string[];
  /** Resolves once `condition()` holds (checked after each event). */
  until(condition: () => boolean): Promise<void>;
  /** Closes the socket and resolves once the client side has closed. */
  close(): Promise<void>;
}

/** Listens on a free loopback port; `url(path)` and `close()`. */
export async function listen(app: Koa) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** GET `url` as EventSource does (`Accept: text/event-stream`), with extra headers. */
export async function connect(url: string, headers: Record<string, string> = {}) {
  const req = get(url, { headers: { accept: 'text/event-stream', ...headers } });
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) events.push({ event, id, data: data.join('\n') });
      for (const waiter of waiters) waiter();
    }
  });
  // A reset stream ends the test's reads; the assertions say what was missing.
  response.on('error', () => undefined);
  const texts = () =>
    events
      .filter((e) => e.event === 'messages')
      .flatMap((e) => (JSON.parse(e.data) as { messages: { message: string }[] }).messages)
      .map((m) => m.message);
  const connection: SseConnection = {
    response,
    events,
    texts,
    until: (condition) =>
      new Promise<void>((resolve) => {
        if (condition()) return resolve();
        const check = () => {
          if (!condition()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      }),
    close: async () => {
      const closed = once(req, 'close');
      req.destroy();
      await closed;
    },
  };
  return connection;
}

/**
 * An app whose user is the `X-User` request header, with the live endpoint at `/live` (its
 * heartbeat off, so only a wake-up can deliver): the Redis suites' two "processes".
 */
export const liveApp = (outbox: Outbox): Koa =>
  buildApp({
    options: { outbox, user: (ctx: Context) => ctx.get('x-user') || undefined },
    routes: {
      '/live': (ctx) => messagesLive({ heartbeat: 2 ** 31 - 1 })(ctx, () => Promise.resolve()),
    },
  });
