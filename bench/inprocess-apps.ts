/**
 * The variants of `npm run bench:inprocess` (bench/inprocess.ts): Koa apps whose middleware chain
 * is run through `koa-compose` on contexts from `app.createContext()`, with no socket traffic and
 * no response written. Each variant is one app; koa-messages comes from a {@link Build} so the
 * same variants can run against two builds in one process (`--against`).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

import type { Context, Middleware } from 'koa';
import Koa from 'koa';
import compose from 'koa-compose';
import session from 'koa-session';

import { BENCH_KEYS, MESSAGE_TEXT, SMALL_DATA } from './data.js';
import { applySetCookie, cookieHeader, type Jar } from './harness.js';
import { type Flash, floorFlash, koaMessages, routes, Unavailable } from './variants.js';

/** One build of koa-messages: this checkout's `dist/`, or another commit's. */
export interface Build {
  /** How tables name it: a short commit id (`+changes` when the checkout has some). */
  label: string;
  messages: (options?: Record<string, unknown>) => Middleware;
  /** `undefined` when the build has no `koa-messages/redis` entry. */
  redisStorage: ((options: { client: unknown }) => unknown) | undefined;
  /** With `--against`: this build's `ctx.messages` / `ctx.ajax`, for its apps' `app.context`. */
  context?: PropertyDescriptorMap;
}

/** Something the bench can run once per timed iteration, and check afterwards. */
export interface Runner {
  once(): Promise<void>;
  /** Throws when the last iteration did not answer what it must (a fast wrong answer is no result). */
  check(): void;
}

/** One row of a table: an app to build, and the variant its chain extends by one middleware. */
export interface Variant {
  id: string;
  label: string;
  /**
   * The variant whose chain this one extends by exactly its own middleware: its "own cost" is the
   * difference between the two. `undefined` for the bare app (the zero of the table).
   */
  over?: string;
  /** koa-messages's, from which build: the rows the budget checks. */
  ours?: { build: string; storage: string };
  make(): Promise<Runner>;
}

const newApp = (build?: Build): Koa => {
  const app = new Koa();
  app.keys = BENCH_KEYS;
  if (build?.context !== undefined) Object.defineProperties(app.context, build.context);
  return app;
};

// ---------------------------------------------------------------------------------------------
// Untouched request: GET /plain, no cookie, the handler sets ctx.body = 'ok'.

/**
 * Run `chain` then the handler on a fresh context per iteration: an `IncomingMessage` on a dummy
 * socket (one per variant: nothing is read from or written to it), `GET /plain`, no cookie.
 */
function untouched(app: Koa, chain: Middleware[]): Runner {
  const fn = compose<Context>([
    ...chain,
    async (ctx) => {
      ctx.body = 'ok';
    },
  ]);
  const socket = new Socket();
  let last: Context | undefined;
  return {
    once() {
      const req = new IncomingMessage(socket);
      req.method = 'GET';
      req.url = '/plain';
      req.headers = { host: 'bench.local' };
      const ctx = app.createContext(req, new ServerResponse(req)) as Context;
      last = ctx;
      return fn(ctx);
    },
    check() {
      if (last === undefined) throw new Error('bench:inprocess: no request ran');
      const cookies = last.res.getHeader('set-cookie');
      if (last.body !== 'ok' || last.status !== 200 || cookies !== undefined)
        throw new Error(
          `bench:inprocess: an untouched request answered ${last.status} ${String(last.body)}` +
            (cookies === undefined ? '' : ` and wrote Set-Cookie ${String(cookies)}`),
        );
    },
  };
}

/** A Redis client for one build's `redisStorage()`, and what the server counted while it ran. */
export interface RedisProbe {
  url: string;
  /** Called after the rounds: the commands the server processed, minus the probe's own. */
  commandsSince(): Promise<number>;
  /** Take the reading `commandsSince` compares with. */
  mark(): Promise<void>;
}

/**
 * The untouched-request variants. The references (the bare app, the floor, koa-session and the
 * A/A control) come once; koa-messages's rows once per build, each build's rows side by side.
 *
 * @param redis - per build label, the redis-server its Redis variant talks to (missing: not available).
 */
export function untouchedVariants(builds: Build[], redis: Map<string, RedisProbe>): Variant[] {
  const rows: Variant[] = [
    {
      id: 'bare',
      label: 'the bare app (handler only): the zero',
      make: async () => untouched(newApp(), []),
    },
    {
      id: 'floor',
      label: 'an empty `async (ctx, next) => next()` (the floor)',
      over: 'bare',
      make: async () => untouched(newApp(), [async (_ctx, next) => next()]),
    },
    {
      id: 'koa-session',
      label: "koa-session's own middleware",
      over: 'bare',
      make: async () => {
        const app = newApp();
        return untouched(app, [session(app)]);
      },
    },
    {
      id: 'koa-session-2',
      label: 'koa-session again, a second app (A/A control)',
      over: 'bare',
      make: async () => {
        const app = newApp();
        return untouched(app, [session(app)]);
      },
    },
  ];
  const withBuild = builds.length > 1;
  const ours = (
    build: Build,
    storage: string,
    label: string,
    overSession: boolean,
    custom?: () => unknown,
  ): Variant => ({
    id: `${storage}@${build.label}`,
    label: `${label}${withBuild ? ` @ ${build.label}` : ''}`,
    over: overSession ? 'koa-session' : 'bare',
    ours: { build: build.label, storage },
    make: async () => {
      const app = newApp(build);
      const mw = buildMiddleware(build, { storage: custom === undefined ? storage : custom() });
      return untouched(app, overSession ? [session(app), mw] : [mw]);
    },
  });
  // Storage by storage, each build's row next to the other's: interleaved variant by variant.
  for (const build of builds)
    rows.push(ours(build, 'session', '`messages()`, session storage, over koa-session', true));
  for (const build of builds)
    rows.push(ours(build, 'cookie', "`messages({ storage: 'cookie' })` over the bare app", false));
  for (const build of builds)
    rows.push(
      ours(build, 'fallback', "`messages({ storage: 'fallback' })` over koa-session", true),
    );
  for (const build of builds)
    rows.push(ours(build, 'memory', "`messages({ storage: 'memory' })` over the bare app", false));
  for (const build of builds)
    rows.push(
      ours(build, 'redis', '`redisStorage()`, no visitor cookie, over the bare app', false, () => {
        const probe = redis.get(build.label);
        if (probe === undefined) throw new Unavailable('no redis-server on PATH');
        if (build.redisStorage === undefined)
          throw new Unavailable(`${build.label} has no koa-messages/redis entry`);
        return build.redisStorage({ client: redisClients.get(probe.url) });
      }),
    );
  return rows;
}

/** ioredis clients by URL, made by {@link connectRedis} before the variants are built. */
const redisClients = new Map<string, unknown>();

/** Connect an ioredis client for a probe (awaited: its connection's own commands come before `mark`). */
export async function connectRedis(url: string): Promise<() => Promise<void>> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  redisClients.set(url, client);
  return async () => {
    await client.quit();
  };
}

/** `build.messages(options)`, with a storage the build does not know reported as not available. */
const buildMiddleware = (build: Build, options: Record<string, unknown>): Middleware =>
  koaMessages(options, build.messages, build.label).middleware[0] as Middleware;

// ---------------------------------------------------------------------------------------------
// The session cycle: POST /add → 303, then GET /read with the answer's cookies, read with ctx.ajax().

const EXPECTED_READ = JSON.stringify({
  ...SMALL_DATA,
  messages: [{ message: MESSAGE_TEXT, tags: 'success' }],
});

/**
 * One logged-in visitor going round the cycle, its cookie jar carried from answer to answer as a
 * browser does: every cycle starts from the state the previous one left (the message read, so
 * gone), and each answer is checked on the last cycle of a block.
 */
async function cycle(flash: Flash, build?: Build): Promise<Runner> {
  const app = newApp(build);
  const fn = compose<Context>([
    session(flash.session ?? {}, app),
    ...flash.middleware,
    routes(flash),
  ]);
  const socket = new Socket();
  const jar: Jar = {};
  const request = async (method: string, url: string): Promise<Context> => {
    const req = new IncomingMessage(socket);
    req.method = method;
    req.url = url;
    req.headers = { host: 'bench.local', cookie: cookieHeader(jar) };
    const ctx = app.createContext(req, new ServerResponse(req)) as Context;
    await fn(ctx);
    applySetCookie(jar, ctx.res.getHeader('set-cookie') as string[] | undefined);
    return ctx;
  };
  await request('GET', '/login');
  let added: Context | undefined;
  let read: Context | undefined;
  return {
    async once() {
      added = await request('POST', '/add');
      read = await request('GET', '/read');
    },
    check() {
      if (added === undefined || read === undefined)
        throw new Error('bench:inprocess: no cycle ran');
      const body = typeof read.body === 'string' ? read.body : JSON.stringify(read.body);
      if (
        added.status !== 303 ||
        added.response.get('location') !== '/read' ||
        body !== EXPECTED_READ
      )
        throw new Error(
          `bench:inprocess: the cycle answered ${added.status} then ${read.status} ${body}, not 303 then ${EXPECTED_READ}`,
        );
    },
  };
}

/**
 * The cycle's variants: the hand-written floor of budget (b) (bench/variants.ts) twice (the second
 * is the A/A control), then koa-messages's storages per build, side by side.
 */
export function cycleVariants(builds: Build[]): Variant[] {
  const rows: Variant[] = [
    {
      id: 'floor',
      label: 'hand-written flash on `ctx.session` (the floor of budget (b))',
      make: () => cycle(floorFlash()),
    },
    {
      id: 'floor-2',
      label: 'the floor again, a second app (A/A control)',
      over: 'floor',
      make: () => cycle(floorFlash()),
    },
  ];
  const withBuild = builds.length > 1;
  for (const storage of ['session', 'cookie', 'fallback'])
    for (const build of builds)
      rows.push({
        id: `${storage}@${build.label}`,
        label: `koa-messages '${storage}'${withBuild ? ` @ ${build.label}` : ''}`,
        over: 'floor',
        ours: { build: build.label, storage },
        make: () => cycle(koaMessages({ storage }, build.messages, build.label), build),
      });
  return rows;
}
