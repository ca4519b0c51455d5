import { debuglog } from 'node:util';

import type { Context, Middleware } from 'koa';
import { z } from 'zod';

import type { Config } from '../config/messages-config.js';
import { parseOptions, type Same } from '../config/parse.js';
import { MessagesError } from '../errors.js';
import { escapeHtml } from '../message/escape.js';
import { Message } from '../message/message.js';
import { report } from '../request/drops.js';
import { fromStorage } from '../request/loaded.js';
import { checkUserId } from '../sending/check.js';
import type { Claim, Outbox, UserId } from '../sending/types.js';
import type { WireMessage } from '../shared/wire.js';
import type { StoredMessage } from '../storage/types.js';
import { HEARTBEAT, messagesEvent, retryField } from './sse.js';

const debug = debuglog('koa-messages');

// The same symbol messages() keeps its per-request state under (src/middleware.ts).
const REQUEST = Symbol.for('koa-messages.request');

/**
 * The open streams of this process, by outbox and user: what one stream gives back (its tab
 * closed mid-write) wakes the user's other tabs here, as a give-back is not a send and wakes
 * nobody (another process's tabs get it from their heartbeat or the next send).
 */
const streams = new WeakMap<Outbox, Map<UserId, Set<() => void>>>();

/** The options of {@link messagesLive}. */
export interface MessagesLiveOptions {
  /**
   * Milliseconds between heartbeat comments, so proxies keep an idle stream open; each one also
   * claims again, a net under a lost wake-up. @default 25000
   */
  heartbeat?: number | undefined;
  /** The reconnection delay the stream asks EventSource for (`retry:`), in ms. @default 3000 */
  retry?: number | undefined;
  /** The status answered to a request without a user (EventSource does not reconnect). @default 401 */
  noUserStatus?: 401 | 204 | undefined;
}

const optionsSchema = z.strictObject({
  heartbeat: z
    .int({ error: 'must be an integer of milliseconds from 1000 to 2147483647' })
    .min(1000, { error: 'must be an integer of milliseconds from 1000 to 2147483647' })
    .max(2 ** 31 - 1, { error: 'must be an integer of milliseconds from 1000 to 2147483647' })
    .default(25_000),
  retry: z
    .int({ error: 'must be an integer of milliseconds from 0 to 2147483647' })
    .min(0, { error: 'must be an integer of milliseconds from 0 to 2147483647' })
    .max(2 ** 31 - 1, { error: 'must be an integer of milliseconds from 0 to 2147483647' })
    .default(3000),
  noUserStatus: z
    .union([z.literal(401), z.literal(204)], { error: 'must be 401 or 204' })
    .default(401),
});
const exact: Same<z.input<typeof optionsSchema>, MessagesLiveOptions> = true;
void exact;

/**
 * The live endpoint (docs/sending.md, "Live in open tabs"): a `text/event-stream` answer that
 * writes the messages sent to the request's user as they arrive, each batch once, to one of
 * the user's open tabs. Mount it after `messages({ outbox, user })`; the browser side is
 * `live(url, { onMessages })` from `koa-messages/client`.
 *
 * @param options - see {@link MessagesLiveOptions}.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for bad options; on a request, when
 *   `messages()` is not mounted before it or has no `outbox`.
 * @example
 * app.use(messages({ outbox, user: (ctx) => ctx.state.user?.id }));
 * router.get('/messages/live', messagesLive());
 */
export function messagesLive(options?: MessagesLiveOptions): Middleware {
  const { heartbeat, retry, noUserStatus } = parseOptions(optionsSchema, options, 'messagesLive()');

  return function messagesLive(ctx) {
    const request = (ctx as unknown as Record<symbol, { config: Config } | undefined>)[REQUEST];
    if (request === undefined) {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_OPTION',
        'messagesLive() needs messages() mounted before it (app.use(messages({ outbox, user }))).',
      );
    }
    const { config } = request;
    const sending = config.sending;
    if (sending === undefined) {
      throw new MessagesError(
        'ERR_KOA_MESSAGES_OPTION',
        'messagesLive() needs the messages() options `outbox` and `user` (docs/sending.md).',
      );
    }
    const given = sending.user(ctx);
    if (given === undefined || given === null) {
      ctx.status = noUserStatus;
      return Promise.resolve();
    }
    const user = checkUserId(given, 'the user id that messages() option `user` returned');
    stream(ctx, config, sending.outbox, user, heartbeat, retry);
    return Promise.resolve();
  };
}

/**
 * Answer with the stream. Its headers go out before the middleware returns, so messages()
 * commits this request as one whose response has started: nothing touches the visitor's
 * storage (no Set-Cookie), and a message added to `ctx.messages` is reported as `'headers-sent'`.
 */
function stream(
  ctx: Context,
  config: Config,
  outbox: Outbox,
  user: UserId,
  heartbeat: number,
  retry: number,
): void {
  const res = ctx.res;
  ctx.respond = false;
  // koa-compress: a compressed stream is buffered, and a buffered event arrives late.
  (ctx as { compress?: boolean }).compress = false;
  const headers: Record<string, string | number | readonly string[]> = {};
  for (const [name, value] of Object.entries(ctx.response.headers)) {
    if (value !== undefined) headers[name] = value;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  ctx.req.socket.setNoDelay(true);
  res.write(retryField(retry));

  let closed = false;
  let running = false;
  let again = false;
  let seq = 0;
  const prefix = Date.now().toString(36);

  const write = (text: string): Promise<boolean> =>
    new Promise((resolve) => {
      if (closed || res.destroyed) {
        resolve(false);
        return;
      }
      res.write(text, (error) => resolve(error == null && !res.destroyed));
    });

  const deliver = async (): Promise<void> => {
    let claim: Claim;
    try {
      claim = await outbox.claim(user);
    } catch (error) {
      debug(
        'the live endpoint could not claim; the next wake-up or heartbeat tries again: %O',
        error,
      );
      return;
    }
    if (claim.messages.length === 0) return;
    const shown: StoredMessage[] = [];
    const wire: WireMessage[] = [];
    let expired: StoredMessage[] | undefined;
    try {
      const translate = config.translate;
      const bound =
        translate === undefined
          ? undefined
          : (d: Parameters<typeof translate>[0]) => translate(d, ctx);
      for (const stored of claim.messages) {
        const m = fromStorage([stored], config, () => bound).messages[0];
        if (m === undefined) {
          (expired ??= []).push(stored);
          continue;
        }
        const message = m === stored ? new Message(stored, config.tags) : m;
        shown.push(stored);
        wire.push({
          message: config.escape && !message.html ? escapeHtml(message.message) : message.message,
          tags: message.tags,
        });
      }
    } catch (error) {
      // The app's translate failed: the messages wait for a page, this stream ends.
      await claim.giveBack(claim.messages);
      ctx.app.emit('error', error, ctx);
      res.destroy();
      return;
    }
    if (expired !== undefined) {
      report(ctx, config, { ctx, reason: 'expired', messages: expired });
    }
    const ok = wire.length === 0 || (await write(messagesEvent(`${prefix}-${++seq}`, wire)));
    if (ok) await claim.ack(claim.messages);
    else {
      if (expired !== undefined) await claim.ack(expired);
      await claim.giveBack(shown);
      for (const other of streams.get(outbox)?.get(user) ?? []) if (other !== wake) other();
    }
  };

  // One delivery at a time per stream; a wake-up during one runs another after it.
  const pump = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await deliver();
      } while (again && !closed);
    } catch (error) {
      debug('the live endpoint failed to end a claim: %O', error);
    } finally {
      running = false;
    }
  };
  const wake = (): void => {
    if (!closed) void pump();
  };

  const stop = outbox.watch(user, wake);
  let byUser = streams.get(outbox);
  if (byUser === undefined) streams.set(outbox, (byUser = new Map<UserId, Set<() => void>>()));
  let mine = byUser.get(user);
  if (mine === undefined) byUser.set(user, (mine = new Set()));
  mine.add(wake);
  const tabs = mine;
  const timer = setInterval(() => {
    res.write(HEARTBEAT);
    wake();
  }, heartbeat);
  timer.unref();
  res.once('close', () => {
    closed = true;
    clearInterval(timer);
    stop();
    tabs.delete(wake);
    if (tabs.size === 0 && byUser.get(user) === tabs) byUser.delete(user);
  });
  // What is pending already: a tab that (re)connects misses nothing. Watched first, so a send
  // between the two is not lost either.
  wake();
}
