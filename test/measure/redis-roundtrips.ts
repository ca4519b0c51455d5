/**
 * Redis round trips per (d) cycle (POST /add → 303 → GET /read shows it → GET /read shows none),
 * for the Redis storage and for the floor flash on koa-session with a Redis store: the second
 * half of the (d) budget of issue 15 (bench/budgets.ts checks the CPU half). Counted from
 * `INFO commandstats` of a redis-server started here. `npx tsx test/measure/redis-roundtrips.ts`
 */
import type { AddressInfo } from 'node:net';

import { Redis } from 'ioredis';

import { applySetCookie, cookieHeader, type Jar } from '../../bench/harness.js';
import { buildApp, type Counters, type VariantId } from '../../bench/variants.js';
import { startRedis } from '../helpers/redis-server.js';

const CYCLES = 200;

async function roundTrips(variant: VariantId, url: string, admin: Redis): Promise<number> {
  const counters: Counters = { requests: 0, firstAt: 0, lastAt: 0, setCookieBytes: 0, errors: 0 };
  const app = await buildApp(variant, counters, { redisUrl: url });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let jar: Jar = {};
  const go = async (method: string, path: string) => {
    const res = await fetch(base + path, {
      method,
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
    });
    jar = applySetCookie(jar, res.headers.getSetCookie());
    return res.text();
  };
  await go('GET', '/login');
  await go('POST', '/add'); // warm-up: scripts loaded, clock known
  await go('GET', '/read');
  await admin.config('RESETSTAT');
  for (let i = 0; i < CYCLES; i++) {
    await go('POST', '/add');
    const shown = await go('GET', '/read');
    const none = await go('GET', '/read');
    if (!shown.includes('messages') || none.includes('messages'))
      throw new Error(`${variant}: wrong answers ${shown} / ${none}`);
  }
  const text = await admin.info('commandstats');
  let calls = 0;
  // Round trips are top-level commands: scripts, and the session store's GET/SET/DEL. (The
  // storage's scripts run DEL and TIME inside, which commandstats counts too: not round trips.)
  const topLevel = variant === 'km-redis' ? ['evalsha', 'eval'] : ['get', 'set', 'del'];
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (topLevel.includes(m[1]!)) calls += Number(m[2]);
  server.close();
  return calls / CYCLES;
}

const redis = await startRedis();
const admin = new Redis(redis.port, '127.0.0.1');
try {
  for (const variant of ['floor-redis', 'km-redis'] as const) {
    console.log(
      `${variant}: ${(await roundTrips(variant, redis.url, admin)).toFixed(2)} Redis round trips per (d) cycle`,
    );
  }
} finally {
  admin.disconnect();
  await redis.stop();
  process.exit(0);
}
