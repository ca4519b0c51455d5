import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { CookieJar } from '../helpers/cookie-jar.js';
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * Two app processes (test/fixtures/redis-app.ts) sharing one Redis, and many visitors, each
 * firing parallel requests at both processes with one cookie jar (cookies ignore the port, as
 * in a browser behind a load balancer). Every message added must be delivered exactly once.
 */

interface AppProcess {
  readonly child: ChildProcess;
  readonly base: string;
}

async function startApp(redisPort: number, timeout: number): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/redis-app.ts'], {
    env: { ...process.env, REDIS_PORT: String(redisPort), REDIS_TIMEOUT: String(timeout) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => ['exited'])])) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return { child, base: `http://127.0.0.1:${port}` };
}

async function stopApp(app: AppProcess): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = once(app.child, 'exit');
  app.child.kill('SIGTERM');
  await exited;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'add' | 'add-read' | 'add-fail' | 'read' | 'read-fail' | 'head';
const KINDS: readonly Kind[] = ['add', 'add', 'add-read', 'add-fail', 'read', 'read', 'read-fail', 'head'];
const EXPECTED_STATUS: Record<Kind, number> = { add: 200, 'add-read': 200, 'add-fail': 500, read: 200, 'read-fail': 500, head: 200 };

interface Tally {
  added: string[];
  /** Each delivering response's messages, in order. */
  deliveries: string[][];
  problems: string[];
  requests: number;
  slowest: number;
}

const newTally = (): Tally => ({ added: [], deliveries: [], problems: [], requests: 0, slowest: 0 });

/** One request with the visitor's cookies; the answer's cookies go into the jar when it arrives. */
async function send(tally: Tally, jar: CookieJar, base: string, kind: Kind, ids: readonly string[]): Promise<void> {
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
  if (res.status !== EXPECTED_STATUS[kind]) tally.problems.push(`${kind}: status ${res.status} ${text}`);
  if (res.status === 200 && (kind === 'read' || kind === 'add-read')) {
    const body = JSON.parse(text) as { messages?: { message: string }[] };
    tally.deliveries.push((body.messages ?? []).map((m) => m.message));
  }
}

/** A visitor: `parallel` mixed requests at once, alternating between the app processes. */
async function visit(tally: Tally, apps: readonly AppProcess[], visitor: string, parallel: number, rng: () => number, jar = new CookieJar()) {
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
async function crowd(count: number, concurrency: number, each: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await each(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Messages of one adding request ('v.r.a', 'v.r.b') arrive together, `a` first. */
function checkOrder(tally: Tally): void {
  for (const delivery of tally.deliveries) {
    for (const [i, id] of delivery.entries()) {
      if (id.endsWith('.a') && delivery[i + 1] !== id.replace(/a$/, 'b')) tally.problems.push(`order: ${delivery.join(' ')}`);
    }
  }
}

async function stats(apps: readonly AppProcess[]) {
  const all = await Promise.all(apps.map(async (app) => (await (await fetch(`${app.base}/stats`)).json()) as { dropped: string[]; errors: string[] }));
  return { dropped: all.flatMap((s) => s.dropped), errors: all.flatMap((s) => s.errors) };
}

/** Entries still stored under any visitor key: after the final reads there must be none. */
async function leftInRedis(admin: Redis): Promise<string[]> {
  const keys = await admin.keys('koa-messages:*');
  return (await Promise.all(keys.map((key) => admin.lrange(key, 0, -1)))).flat();
}

const duplicates = (list: readonly string[]) => list.filter((id, i) => list.indexOf(id) !== i);

describe('redisStorage() across two processes', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let admin: Redis;

  before(async function () {
    this.timeout(300_000); // may apt-get install redis-server first
    redis = await startRedis();
    admin = await connectClient(redis.port);
  });

  after(async () => {
    admin.disconnect();
    await redis.stop();
  });

  /** Two app processes for the tests of one `describe`, with the storage's command `timeout`. */
  function appPair(timeout: number): AppProcess[] {
    const apps: AppProcess[] = [];
    before(async () => {
      apps.push(...(await Promise.all([startApp(redis.port, timeout), startApp(redis.port, timeout)])));
    });
    after(async () => {
      await Promise.all(apps.map(stopApp));
    });
    return apps;
  }

  describe('with Redis answering', () => {
    // A timeout far above any answer time on a loaded 2-core machine: this test is about
    // interleavings, the ones below about a slow or dead Redis.
    const apps = appPair(5000);

    it('delivers every message exactly once to 200 visitors sending 20 parallel requests each', async () => {
      const tally = newTally();
      const rng = random(2026);
      const jars: CookieJar[] = [];
      await crowd(200, 8, async (v) => {
        jars[v] = await visit(tally, apps, `v${v}`, 20, rng);
      });
      // Every answer has reached each jar: one more read per visitor collects what is pending.
      await crowd(200, 8, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
      checkOrder(tally);
      const delivered = tally.deliveries.flat();
      const { dropped, errors } = await stats(apps);

      expect(tally.problems).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expect(dropped).to.deep.equal([]);
      expect(duplicates(delivered)).to.deep.equal([]);
      expect(delivered.length).to.equal(tally.added.length);
      expect([...delivered].sort()).to.deep.equal([...tally.added].sort());
      expect(await leftInRedis(admin)).to.deep.equal([]);
      expect(tally.requests).to.equal(4200);
      console.log(`      ${tally.requests} requests, ${delivered.length} messages delivered once, slowest answer ${Math.round(tally.slowest)} ms`);
    });
  });

  describe('with Redis failing', () => {
    const TIMEOUT = 300;
    const apps = appPair(TIMEOUT);

    it('answers every request while Redis stalls, and delivers each message at most once and never loses one unreported', async () => {
      const tally = newTally();
      const rng = random(7);
      const jars: CookieJar[] = [];
      const traffic = crowd(60, 6, async (v) => {
        jars[v] = await visit(tally, apps, `s${v}`, 20, rng);
      });
      await new Promise((r) => setTimeout(r, 150));
      redis.process.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 1500));
      redis.process.kill('SIGCONT');
      await traffic;
      await crowd(60, 6, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
      checkOrder(tally);
      const delivered = tally.deliveries.flat();
      const { dropped, errors } = await stats(apps);

      expect(tally.problems).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expect(duplicates(delivered)).to.deep.equal([]);
      const unaccounted = tally.added.filter((id) => !delivered.includes(id) && !dropped.includes(id));
      const left = await leftInRedis(admin);
      expect({ unaccounted, left }).to.deep.equal({ unaccounted: [], left: [] });
      console.log(
        `      ${tally.requests} requests, ${delivered.length} delivered, ${dropped.length} reported to onDrop, ` +
          `slowest answer ${Math.round(tally.slowest)} ms (timeout ${TIMEOUT} ms)`,
      );
    });

    it('answers every request while Redis is killed and restarted, reports the adds it lost, then works again', async () => {
      const tally = newTally();
      const rng = random(11);
      const before = (await stats(apps)).dropped.length;
      const traffic = crowd(40, 6, async (v) => {
        await visit(tally, apps, `k${v}`, 20, rng);
      });
      await new Promise((r) => setTimeout(r, 150));
      await redis.stop(); // SIGKILL: every stored message is gone with it (no persistence)
      await new Promise((r) => setTimeout(r, 1000));
      redis = await startRedis(redis.port);
      await traffic;
      const { dropped, errors } = await stats(apps);
      const delivered = tally.deliveries.flat();

      expect(tally.problems).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
      expect(duplicates(delivered)).to.deep.equal([]);
      expect(dropped.length - before).to.be.above(0);
      expect(apps.map((app) => app.child.exitCode)).to.deep.equal([null, null]);

      // Back to normal: the apps reconnect, and a message goes across the two processes.
      admin.disconnect();
      admin = await connectClient(redis.port);
      const after = newTally();
      const jar = new CookieJar();
      for (let attempt = 0; attempt < 50 && after.deliveries.flat().length === 0; attempt++) {
        await send(after, jar, apps[0]!.base, 'add', [`after.${attempt}.a`, `after.${attempt}.b`]);
        await send(after, jar, apps[1]!.base, 'read', []);
        if (after.deliveries.flat().length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(after.deliveries.flat().slice(-2)).to.deep.equal([after.added.at(-2), after.added.at(-1)]);
      console.log(
        `      ${tally.requests} requests, ${delivered.length} delivered, ${dropped.length - before} reported to onDrop, ` +
          `slowest answer ${Math.round(tally.slowest)} ms (timeout ${TIMEOUT} ms)`,
      );
    });
  });
});
