/**
 * The figures of docs/sending.md, "Capacity" and "Cost per request":
 *
 * 1. Redis memory per pending user message: 2,000 users each sent one 24-character message
 *    (`INFO memory` before and after, `MEMORY USAGE` of one user's list), then a second one each.
 * 2. The (d) cycle of a logged-in user with nothing sent (form POST → 303 → GET page that reads
 *    messages), over HTTP in process, with `outbox`: Redis round trips per cycle (INFO
 *    commandstats), with the outbox remembering that the user has nothing pending (the default)
 *    and with `rememberEmpty: 0` (every page claims, as a user's first page does). The CPU is
 *    measured by the benchmark (`npm run bench -- --only=d`, docs/sending.md), not here: in one
 *    process the figures were noise.
 *
 * `npx tsx test/measure/sending.ts`; needs redis-server (installed by the test helpers).
 */
import { Redis } from 'ioredis';
import type Koa from 'koa';
import request from 'supertest';

import { redisOutbox } from '../../src/redis.js';
import { buildApp, readAll } from '../helpers/app.js';
import { startRedis } from '../helpers/redis-server.js';
import { sessionUser } from '../sending/app.js';

const USERS = 2000;
const CYCLES = 400;

async function usedMemory(admin: Redis): Promise<number> {
  const text = await admin.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(text)![1]);
}

async function scriptsRun(admin: Redis): Promise<number> {
  const text = await admin.info('commandstats');
  let n = 0;
  for (const m of text.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) n += Number(m[2]);
  return n;
}

function app(client: Redis, rememberEmpty?: number): Koa {
  return buildApp({
    options: {
      outbox: redisOutbox({ client, prefix: 'cycle:', rememberEmpty }),
      user: sessionUser,
    },
    routes: {
      '/login': (ctx) => {
        ctx.session!.user = 'ann';
        ctx.body = 'ok';
      },
      '/vote': (ctx) => {
        ctx.messages.success('Your vote was recorded.');
        ctx.redirect('/page');
      },
      '/page': (ctx) => {
        ctx.body = readAll(ctx);
      },
    },
  });
}

async function cycles(target: Koa, n: number): Promise<void> {
  const browser = request.agent(target.callback());
  await browser.get('/login');
  for (let i = 0; i < n; i++) {
    await browser.post('/vote').type('form').send('choice=1').expect(302);
    await browser.get('/page').expect(200);
  }
}

const server = await startRedis();
const admin = new Redis(server.port, '127.0.0.1');
const client = new Redis(server.port, '127.0.0.1');
try {
  const outbox = redisOutbox({ client, prefix: 'mem:' });
  await admin.flushall();
  const m0 = await usedMemory(admin);
  for (let i = 0; i < USERS; i++) await outbox.success(`user-${i}`, 'Your export is ready....');
  const m1 = await usedMemory(admin);
  for (let i = 0; i < USERS; i++) await outbox.success(`user-${i}`, 'Your export is ready....');
  const m2 = await usedMemory(admin);
  const [listKey] = await admin.keys('mem:{*}');
  const listBytes = await admin.memory('USAGE', listKey!);
  const entry = (await admin.lrange(listKey!, 0, 0))[0]!;
  console.log(`entry: ${entry} (${entry.length} bytes)`);
  console.log(
    `first message per user: ${((m1 - m0) / USERS).toFixed(0)} bytes of used_memory (send records living)`,
  );
  console.log(
    `second message per user: ${((m2 - m1) / USERS).toFixed(0)} bytes of used_memory (send records living)`,
  );
  console.log(`one user's list with 2 messages: MEMORY USAGE ${listBytes} bytes`);
  const [record] = await admin.keys('mem:{*}:s:*');
  console.log(
    `a send record: MEMORY USAGE ${await admin.memory('USAGE', record!)} bytes (lives 5 min)`,
  );

  for (const rememberEmpty of [undefined, 0]) {
    const target = app(client, rememberEmpty);
    await cycles(target, 50);
    const s0 = await scriptsRun(admin);
    await cycles(target, CYCLES);
    const scripts = ((await scriptsRun(admin)) - s0) / CYCLES;
    console.log(
      `(d) cycle, logged in, nothing sent, rememberEmpty ${rememberEmpty ?? 'default'}: ${scripts.toFixed(2)} Redis round trips per cycle (0 without outbox)`,
    );
  }
} finally {
  admin.disconnect();
  client.disconnect();
  await server.stop();
}
