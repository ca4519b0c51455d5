/**
 * The server variants: each is a Koa 3 app with koa-session and the SAME route code; only the flash
 * implementation behind `add` and `read` differs. A variant that cannot be built here (a storage not
 * merged yet, no redis-server) throws {@link Unavailable} and the bench lists it as "not available".
 */
import type { Context, Middleware } from 'koa';
import Koa from 'koa';
import koaBetterFlash from 'koa-better-flash';
import convert from 'koa-convert';
import koaFlash from 'koa-flash';
import session, { type CreateSessionOptions } from 'koa-session';

import { messages, type MessagesOptions } from '../dist/index.js';
import { BENCH_KEYS, bigData, MESSAGE_TEXT, SMALL_DATA } from './data.js';

/** A message as every variant sends it in JSON: the shape `ctx.ajax()` uses. */
interface WireMessage {
  message: string;
  tags: string;
}

type Data = Record<string, unknown>;

/** What differs between variants: middleware after koa-session, and how a message is added and read. */
export interface Flash {
  middleware: Middleware[];
  /** Queue one success message for the next response. */
  add(ctx: Context, text: string): void;
  /** Answer JSON: `data`, plus `messages` when any are pending (consuming them). */
  read(ctx: Context, data: Data): void | Promise<void>;
  /** koa-session options instead of the default cookie session (a Redis-backed `store`). */
  session?: CreateSessionOptions;
}

/** Thrown by a variant's builder when it cannot run here; the message says why. */
export class Unavailable extends Error {}

export const VARIANT_IDS = [
  'baseline',
  'floor',
  'floor-2',
  'floor-headers',
  'floor-redis',
  'floor-redis-2',
  'koa-flash',
  'koa-better-flash',
  'km-session',
  'km-session-2',
  'km-session-htmx',
  'km-flash',
  'km-cookie',
  'km-fallback',
  'km-redis',
  'km-session-outbox',
  'km-session-outbox-every',
] as const;

export type VariantId = (typeof VARIANT_IDS)[number];

/** Table labels, numbered as in the issue. */
export const LABELS: Record<VariantId, string> = {
  baseline: '1 koa + koa-session (baseline)',
  floor: '3 hand-written flash (floor)',
  'floor-2': '3 the floor again, second process (A/A control)',
  'floor-headers': "3 the floor + koa-messages' response headers",
  'floor-redis': '3 the floor on koa-session with a Redis store (ioredis)',
  'floor-redis-2': '3 the floor on a Redis store again, second process (A/A control)',
  'koa-flash': '4 koa-flash 1.0 (koa-convert)',
  'koa-better-flash': '4 koa-better-flash 0.0.4',
  'km-session': "5 koa-messages 'session'",
  'km-session-2': "5 koa-messages 'session' again, second process (A/A control)",
  'km-session-htmx': "5 koa-messages 'session', htmx: true (requests without HX-Request)",
  'km-flash': "5 koa-messages 'session', through ctx.flash (flash: true)",
  'km-cookie': "5 koa-messages 'cookie'",
  'km-fallback': "5 koa-messages 'fallback'",
  'km-redis': "5 koa-messages 'redis'",
  'km-session-outbox':
    "5 koa-messages 'session' with redisOutbox() and a logged-in user with nothing sent (issue 24)",
  'km-session-outbox-every':
    "5 the same, rememberEmpty: 0 (every page claims: a user's first page, for information)",
};

type Session = Record<string, unknown>;
const sessionOf = (ctx: Context): Session => (ctx as unknown as { session: Session }).session;

/**
 * koa-messages with the given options, built by `make` (this checkout's `messages()`, or another
 * build's in the in-process bench); a storage the build does not know is Unavailable (`who` names
 * the build in that sentence).
 */
export function koaMessages(
  options: Record<string, unknown>,
  make: (options: Record<string, unknown>) => Middleware = (o) => messages(o as MessagesOptions),
  who?: string,
): Flash {
  let middleware: Middleware;
  try {
    middleware = make(options);
  } catch (error) {
    if (error instanceof TypeError && error.message.includes('`storage`'))
      throw new Unavailable(who === undefined ? error.message : `${who}: ${error.message}`);
    throw error;
  }
  return {
    middleware: [middleware],
    add: (ctx, text) => ctx.messages.success(text),
    read: (ctx, data) => {
      ctx.ajax(data);
    },
  };
}

/**
 * Builders. `redisUrl` comes from the bench when it started a redis-server. Each returns a fresh
 * Flash; the app around it is {@link buildApp}.
 */
const BUILDERS: Record<
  VariantId,
  (env: { redisUrl?: string | undefined }) => Flash | Promise<Flash>
> = {
  baseline: () => ({
    middleware: [],
    add: () => {
      throw new Error('the baseline has no flash');
    },
    read: (ctx, data) => {
      ctx.body = data;
    },
  }),

  // The least a session-backed flash can do: push on add, read-and-delete on read, spread into the body.
  floor: () => ({
    middleware: [],
    add: (ctx, text) => {
      const s = sessionOf(ctx);
      const list = (s['flash'] ??= []) as WireMessage[];
      list.push({ message: text, tags: 'success' });
    },
    read: (ctx, data) => {
      const s = sessionOf(ctx);
      const list = s['flash'] as WireMessage[] | undefined;
      if (list === undefined) {
        ctx.body = data;
        return;
      }
      delete s['flash'];
      ctx.body = { ...data, messages: list };
    },
  }),

  // The floor plus the headers koa-messages sends with every answer that shows messages
  // (Cache-Control, Vary) and every ctx.ajax() answer (nosniff): what that required behaviour
  // costs, which the peers do not pay.
  'floor-headers': (env) => {
    const floor = BUILDERS.floor(env) as Flash;
    return {
      ...floor,
      read: (ctx, data) => {
        const showing = sessionOf(ctx)['flash'] !== undefined;
        void floor.read(ctx, data);
        ctx.set('X-Content-Type-Options', 'nosniff');
        if (showing) {
          ctx.set('Cache-Control', 'private, no-store');
          ctx.vary('Cookie');
        }
      },
    };
  },

  // What a user who already keeps sessions in Redis would write: the floor, with koa-session's
  // external store on the same Redis (GET on every request with a session cookie, SET when the
  // session changed, DEL when it emptied): the Redis storage's baseline.
  'floor-redis': async (env) => {
    if (env.redisUrl === undefined) throw new Unavailable('no redis-server on PATH');
    const { Redis } = await import('ioredis');
    const client = new Redis(env.redisUrl);
    const floor = BUILDERS.floor(env) as Flash;
    return {
      ...floor,
      session: {
        store: {
          async get(key: string) {
            const text = await client.get(`sess:${key}`);
            return text === null ? undefined : (JSON.parse(text) as Session);
          },
          async set(key: string, value: unknown, maxAge: number | 'session' | undefined) {
            const ttl = typeof maxAge === 'number' ? maxAge : 86_400_000;
            await client.set(`sess:${key}`, JSON.stringify(value), 'PX', ttl);
          },
          async destroy(key: string) {
            await client.del(`sess:${key}`);
          },
        },
      },
    };
  },

  // The same code in another process: how far two identical servers drift apart on this machine.
  'floor-2': (env) => BUILDERS.floor(env),
  'floor-redis-2': (env) => BUILDERS['floor-redis'](env),

  // koa-flash keeps one value per request, replaced on assignment and expired on the next request.
  'koa-flash': () => ({
    middleware: [convert(koaFlash() as never) as Middleware],
    add: (ctx, text) => {
      (ctx as unknown as { flash: unknown }).flash = {
        messages: [{ message: text, tags: 'success' }],
      };
    },
    read: (ctx, data) => {
      const value = (ctx as unknown as { flash: { messages?: WireMessage[] } }).flash;
      ctx.body = value.messages === undefined ? data : { ...data, messages: value.messages };
    },
  }),

  // connect-flash style: ctx.flash(type, msg) pushes, ctx.flash() returns everything and resets.
  'koa-better-flash': () => ({
    middleware: [koaBetterFlash()],
    add: (ctx, text) => {
      (ctx as unknown as { flash: (type: string, msg: string) => unknown }).flash('success', text);
    },
    read: (ctx, data) => {
      const all = (ctx as unknown as { flash: () => Record<string, string[]> }).flash();
      const list: WireMessage[] = [];
      for (const [tags, texts] of Object.entries(all))
        for (const message of texts) list.push({ message, tags });
      ctx.body = list.length === 0 ? data : { ...data, messages: list };
    },
  }),

  'km-session': () => koaMessages({ storage: 'session' }),
  'km-session-2': () => koaMessages({ storage: 'session' }),
  'km-session-htmx': () => koaMessages({ storage: 'session', htmx: true }),
  // connect-flash's API over the same store: add with ctx.flash(type, text), read with ctx.flash()
  // and answer through ctx.ajax() (which then finds nothing pending and keeps the data's own
  // `messages`), so the body and headers are those of km-session and only the flash layer differs.
  'km-flash': () => {
    const base = koaMessages({ storage: 'session', flash: true });
    interface FlashFn {
      (type: string, text: string): number;
      (): Record<string, string[]>;
    }
    const flashOf = (ctx: Context) => ctx as unknown as { flash: FlashFn };
    return {
      middleware: base.middleware,
      add: (ctx, text) => {
        flashOf(ctx).flash('success', text);
      },
      read: (ctx, data) => {
        const list: WireMessage[] = [];
        for (const [tags, texts] of Object.entries(flashOf(ctx).flash()))
          for (const message of texts) list.push({ message, tags });
        ctx.ajax(list.length === 0 ? data : { ...data, messages: list });
      },
    };
  },
  'km-cookie': () => koaMessages({ storage: 'cookie' }),
  'km-fallback': () => koaMessages({ storage: 'fallback' }),
  'km-redis': async ({ redisUrl }) => {
    if (redisUrl === undefined) throw new Unavailable('no redis-server on PATH');
    return redisVariant(redisUrl);
  },
  // km-session plus messages sent to users: the user is the one GET /login puts in the session.
  // The outbox remembers that this user has nothing pending, so after the first claim the GETs of
  // each cycle skip the round trip; with `rememberEmpty: 0` every GET claims (one round trip).
  'km-session-outbox': ({ redisUrl }) => withOutbox(redisUrl, {}),
  'km-session-outbox-every': ({ redisUrl }) => withOutbox(redisUrl, { rememberEmpty: 0 }),
};

/** koa-messages 'session' with this build's redisOutbox() on `redisUrl`, and `options`. */
async function withOutbox(redisUrl: string | undefined, options: Record<string, unknown>) {
  if (redisUrl === undefined) throw new Unavailable('no redis-server on PATH');
  const entry = (await import(['..', 'dist', 'redis.js'].join('/'))) as Record<string, unknown>;
  const { Redis } = await import('ioredis');
  const outbox = (entry['redisOutbox'] as (o: unknown) => unknown)({
    client: new Redis(redisUrl),
    ...options,
  });
  return koaMessages({
    storage: 'session',
    outbox,
    user: (ctx: Context) => sessionOf(ctx)['user'],
  });
}

/**
 * koa-messages on Redis (`koa-messages/redis`, branch `redis`). Looked up at run time so the bench
 * builds, and says "not available", before that entry is merged.
 */
async function redisVariant(url: string): Promise<Flash> {
  let entry: Record<string, unknown>;
  try {
    entry = (await import(['..', 'dist', 'redis.js'].join('/'))) as Record<string, unknown>;
  } catch {
    throw new Unavailable('koa-messages/redis (src/redis.ts) is not merged yet');
  }
  const { Redis } = await import('ioredis');
  const client = new Redis(url);
  return koaMessages({ storage: (entry['redisStorage'] as (o: unknown) => unknown)({ client }) });
}

/** The hand-written floor of budget (b), for the in-process bench (bench/inprocess-apps.ts). */
export const floorFlash = (): Flash => BUILDERS.floor({}) as Flash;

/** Counters the server reports for a measured round. */
export interface Counters {
  requests: number;
  /** `performance.now()` at the first and the latest request since the counters were reset. */
  firstAt: number;
  lastAt: number;
  setCookieBytes: number;
  errors: number;
}

/**
 * The routes, identical for every variant, over HTTP (bench/server.ts) and in process
 * (bench/inprocess-apps.ts):
 * - `GET /plain`  ignores messages (scenario a)
 * - `GET /login`  puts a user in the session (how the bench gets a session cookie)
 * - `POST /add`   adds one message and redirects with 303 (b)
 * - `GET /read`   answers `{votes: 3}` with the pending messages (c, d)
 * - `GET /big`    answers `big` (a ~100 KB object) with the pending messages (e); 404 without it
 */
export function routes(flash: Flash, big?: Data): Middleware {
  return async (ctx) => {
    switch (`${ctx.method} ${ctx.path}`) {
      case 'GET /plain':
        ctx.body = { ok: true };
        return;
      case 'GET /login':
        sessionOf(ctx)['user'] = 'bench-user-1';
        ctx.body = { ok: true };
        return;
      case 'POST /add':
        flash.add(ctx, MESSAGE_TEXT);
        ctx.status = 303;
        ctx.redirect('/read');
        return;
      case 'GET /read':
        await flash.read(ctx, SMALL_DATA);
        return;
      case 'GET /big':
        if (big === undefined) break;
        await flash.read(ctx, big);
        return;
    }
    ctx.status = 404;
  };
}

/** The app of one variant: the counters, koa-session, the variant's middleware, then {@link routes}. */
export async function buildApp(
  id: VariantId,
  counters: Counters,
  env: { redisUrl?: string | undefined },
): Promise<Koa> {
  const flash = await BUILDERS[id](env);
  const big = bigData();
  const app = new Koa();
  app.keys = BENCH_KEYS;
  app.silent = true;
  app.on('error', (error: Error) => {
    if (counters.errors++ === 0) console.error(`[${id}] first error:`, error);
  });
  // Outermost, identical everywhere: counts requests and the Set-Cookie bytes the variant wrote.
  app.use(async (ctx, next) => {
    const now = performance.now();
    if (counters.requests++ === 0) counters.firstAt = now;
    counters.lastAt = now;
    await next();
    const cookies = ctx.response.headers['set-cookie'];
    if (Array.isArray(cookies)) for (const c of cookies) counters.setCookieBytes += c.length;
  });
  app.use(session(flash.session ?? {}, app));
  for (const mw of flash.middleware) app.use(mw);
  app.use(routes(flash, big));
  return app;
}
