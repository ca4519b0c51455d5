import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import { CookieJar } from './cookie-jar.js';
import { isBookkeeping } from './redis-client.js';

/**
 * The delivery workload: many visitors, each firing parallel mixed add/read requests at two app
 * processes (test/fixtures/redis-app.ts) with one cookie jar (cookies ignore the port, as in a
 * browser behind a load balancer), and the tally of what was added and what each answer showed.
 * Used by the concurrency tests and by test/measure/delivery.ts (lost/repeated messages per storage).
 */

export interface AppProcess {
  readonly child: ChildProcess;
  readonly base: string;
}

const FIXTURE = fileURLToPath(new URL('../fixtures/redis-app.ts', import.meta.url));

/** Which storage the app process uses: `redis` (default), or a built-in one. */
export type FixtureStorage = 'redis' | 'session' | 'cookie' | 'fallback';

/** The Redis client libraries the storage supports; the Redis suites run with each. */
export const CLIENT_KINDS = ['ioredis', 'node-redis'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** Where the app's Redis is: one server's port, or a cluster's start-up ports. */
export type RedisTarget = number | { readonly cluster: readonly number[] };

export async function startApp(
  redis: RedisTarget,
  timeout: number,
  storage: FixtureStorage = 'redis',
  client: ClientKind = 'ioredis',
): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      ...(typeof redis === 'number'
        ? { REDIS_PORT: String(redis) }
        : { REDIS_CLUSTER: redis.cluster.join(',') }),
      REDIS_TIMEOUT: String(timeout),
      REDIS_CLIENT: client,
      STORAGE: storage,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => ['exited']),
  ])) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return { child, base: `http://127.0.0.1:${port}` };
}

export async function stopApp(app: AppProcess): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = once(app.child, 'exit');
  app.child.kill('SIGTERM');
  await exited;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Kind = 'add' | 'add-read' | 'add-fail' | 'read' | 'read-fail' | 'head';
export const KINDS: readonly Kind[] = [
  'add',
  'add',
  'add-read',
  'add-fail',
  'read',
  'read',
  'read-fail',
  'head',
];
export const EXPECTED_STATUS: Record<Kind, number> = {
  add: 200,
  'add-read': 200,
  'add-fail': 500,
  read: 200,
  'read-fail': 500,
  head: 200,
};

export interface Tally {
  added: string[];
  /** Each delivering response's messages, in order. */
  deliveries: string[][];
  problems: string[];
  requests: number;
  slowest: number;
}

export const newTally = (): Tally => ({
  added: [],
  deliveries: [],
  problems: [],
  requests: 0,
  slowest: 0,
});

/** One request with the visitor's cookies; the answer's cookies go into the jar when it arrives. */
export async function send(
  tally: Tally,
  jar: CookieJar,
  base: string,
  kind: Kind,
  ids: readonly string[],
): Promise<void> {
  const path = kind === 'head' ? '/read' : `/${kind}`;
  const method = kind === 'head' ? 'HEAD' : kind.startsWith('add') ? 'POST' : 'GET';
  const started = performance.now();
  tally.requests++;
  tally.added.push(...ids);
  let res: Response;
  try {
    res = await fetch(`${base}${path}?ids=${ids.join(',')}`, {
      method,
      headers: { cookie: jar.header() },
      // A hang detector, far above the few timeouts a request may wait for: not a speed test.
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    tally.problems.push(`${kind}: ${String(error)}`);
    return;
  }
  jar.apply(res.headers.getSetCookie());
  const text = await res.text();
  tally.slowest = Math.max(tally.slowest, performance.now() - started);
  if (res.status !== EXPECTED_STATUS[kind])
    tally.problems.push(`${kind}: status ${res.status} ${text}`);
  if (res.status === 200 && (kind === 'read' || kind === 'add-read')) {
    const body = JSON.parse(text) as { messages?: { message: string }[] };
    tally.deliveries.push((body.messages ?? []).map((m) => m.message));
  }
}

/** A visitor: `parallel` mixed requests at once, alternating between the app processes. */
export async function visit(
  tally: Tally,
  apps: readonly AppProcess[],
  visitor: string,
  parallel: number,
  rng: () => number,
  jar = new CookieJar(),
) {
  const requests: Promise<void>[] = [];
  for (let r = 0; r < parallel; r++) {
    const kind = KINDS[Math.floor(rng() * KINDS.length)]!;
    const ids = kind.startsWith('add') ? [`${visitor}.${r}.a`, `${visitor}.${r}.b`] : [];
    requests.push(send(tally, jar, apps[r % apps.length]!.base, kind, ids));
  }
  await Promise.all(requests);
  return jar;
}

/** Run `count` visitors, `concurrency` at a time. */
export async function crowd(
  count: number,
  concurrency: number,
  each: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await each(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Messages of one adding request ('v.r.a', 'v.r.b') arrive together, `a` first. */
export function checkOrder(tally: Tally): void {
  for (const delivery of tally.deliveries) {
    for (const [i, id] of delivery.entries()) {
      if (id.endsWith('.a') && delivery[i + 1] !== id.replace(/a$/, 'b'))
        tally.problems.push(`order: ${delivery.join(' ')}`);
    }
  }
}

export async function stats(apps: readonly AppProcess[]) {
  const all = await Promise.all(
    apps.map(
      async (app) =>
        (await (await fetch(`${app.base}/stats`)).json()) as {
          dropped: string[];
          errors: string[];
          dropErrors: Record<string, number>;
        },
    ),
  );
  const dropErrors: Record<string, number> = {};
  for (const [text, count] of all.flatMap((s) => Object.entries(s.dropErrors)))
    dropErrors[text] = (dropErrors[text] ?? 0) + count;
  return {
    dropped: all.flatMap((s) => s.dropped),
    errors: all.flatMap((s) => s.errors),
    dropErrors,
  };
}

/**
 * Entries still stored under any visitor key: after the final reads there must be none. In a
 * cluster, pass a client of each master (each holds its own slots' keys).
 */
export async function leftInRedis(...servers: Redis[]): Promise<string[]> {
  const left: string[] = [];
  for (const admin of servers) {
    const keys = (await admin.keys('koa-messages:*')).filter((key) => !isBookkeeping(key));
    left.push(...(await Promise.all(keys.map((key) => admin.lrange(key, 0, -1)))).flat());
  }
  return left;
}

export const duplicates = (list: readonly string[]) =>
  list.filter((id, i) => list.indexOf(id) !== i);
