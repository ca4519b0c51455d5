/**
 * Redis memory per pending visitor, measured (docs/scaling.md): 2,000 requests without cookies
 * (a flood, or 2,000 new visitors) each add one 24-character message; then `MEMORY USAGE` of each
 * kind of key the storage writes, and `used_memory` before and after, while the scripts' records
 * are alive and once they have expired. `npx tsx test/measure/redis-memory.ts`
 */
import type { AddressInfo } from 'node:net';

import { Redis } from 'ioredis';
import Koa from 'koa';

import { messages } from '../../dist/index.js';
import { redisStorage } from '../../dist/redis.js';
import { startRedis } from '../helpers/redis-server.js';

const VISITORS = 2000;
const TIMEOUT = 1000;
const HOLD = 4 * TIMEOUT + 5000; // src/storage/redis/redis-storage.ts

const redis = await startRedis();
const admin = new Redis(redis.port, '127.0.0.1');
const client = new Redis(redis.port, '127.0.0.1');
const app = new Koa();
app.keys = ['measure-key-example-only'];
app.use(messages({ storage: redisStorage({ client, timeout: TIMEOUT }) }));
app.use((ctx) => {
  ctx.messages.success('Your vote was recorded.');
  ctx.body = 'added';
});
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const used = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
const usage = async (pattern: RegExp) => {
  const key = (await admin.keys('*')).find((k) => pattern.test(k));
  return key === undefined ? 'none' : await admin.memory('USAGE', key);
};

try {
  await fetch(`${base}/`, { method: 'POST' }); // scripts loaded, clock known
  await new Promise((r) => setTimeout(r, HOLD + 500));
  await admin.flushall();
  const before = await used();
  for (let i = 0; i < VISITORS; i += 50)
    await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${base}/`, { method: 'POST' }).then((r) => r.text())),
    );
  const withRecords = await used();
  console.log(`keys after ${VISITORS} adds: ${await admin.dbsize()}`);
  console.log(`MEMORY USAGE list (1 message): ${await usage(/}$/)} bytes`);
  console.log(`MEMORY USAGE hint counter: ${await usage(/:n$/)} bytes`);
  console.log(`MEMORY USAGE save record: ${await usage(/:s:/)} bytes (lives ${HOLD} ms)`);
  console.log(
    `used_memory per visitor, records alive: ${((withRecords - before) / VISITORS).toFixed(0)} bytes`,
  );
  await new Promise((r) => setTimeout(r, HOLD + 1000));
  // Expired keys go lazily or by Redis's sampling; touch them all so they are gone.
  for (const key of await admin.keys('*')) await admin.pttl(key);
  const after = await used();
  console.log(
    `used_memory per visitor, records expired: ${((after - before) / VISITORS).toFixed(0)} bytes ` +
      `(${await admin.dbsize()} keys: ${(await admin.keys('*')).slice(0, 3).join(' ')} …)`,
  );
  console.log(
    `PTTL of a first visitor's list: ${await admin.pttl((await admin.keys('*}'))[0]!)} ms`,
  );
} finally {
  server.close();
  client.disconnect();
  admin.disconnect();
  await redis.stop();
  process.exit(0);
}
