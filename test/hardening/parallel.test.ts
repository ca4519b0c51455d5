import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import type { Context } from 'koa';
import request from 'supertest';

import { prng } from './fuzz.js';
import { caseApp, type StorageKind } from './helpers.js';
import { useRedis } from './redis.js';

/**
 * Parallel requests from one visitor, 10 at a time sharing one cookie jar (as a browser's tabs do),
 * two visitors at once, through a real HTTP server. Session and cookie storages rewrite the whole
 * list at the end of each request (last write wins), so some messages are lost or shown twice:
 * this measures how many, and asserts what must hold anyway: no error, and no message ever shown
 * to the other visitor.
 */

const ROUNDS = 20;
const AT_ONCE = 10;
const VISITORS = ['ann', 'bob'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each request waits a little between loading and saving, as a handler doing I/O would. */
const routes = {
  '/add': async (ctx: Context) => {
    const texts = ([] as string[]).concat(ctx.query['m'] ?? []);
    await sleep(Number(ctx.query['wait']));
    for (const text of texts) ctx.messages.success(text);
    ctx.body = 'added';
  },
  '/read': async (ctx: Context) => {
    const shown = [...ctx.messages].map((m) => m.message);
    await sleep(Number(ctx.query['wait']));
    ctx.body = shown;
  },
  '/ignore': async (ctx: Context) => {
    await sleep(Number(ctx.query['wait']));
    ctx.body = 'no messages here';
  },
  '/ajax': async (ctx: Context) => {
    const text = ctx.query['m'] as string;
    await sleep(Number(ctx.query['wait']));
    ctx.messages.info(text);
    ctx.ajax({});
  },
};

interface Outcome {
  added: number;
  deliveredOnce: number;
  duplicates: number;
  lost: number;
  errors: string[];
  leaks: string[];
}

/** How often each kind of request is drawn: add 1-2 messages / iterate / add one + ctx.ajax() / touch nothing. */
interface Mix {
  add: number;
  read: number;
  ajax: number;
  ignore: number;
}

/** Every request touches messages: the worst case for last-write-wins. */
const ALL_TOUCH: Mix = { add: 0.45, read: 0.4, ajax: 0.15, ignore: 0 };
/** A page and its fetches: most requests leave messages alone (and so write nothing). */
const MOSTLY_IGNORE: Mix = { add: 0.1, read: 0.1, ajax: 0, ignore: 0.8 };

async function visit(base: string, visitor: string, seed: number, mix: Mix): Promise<Outcome> {
  const agent = request.agent(base);
  const random = prng(seed);
  const added = new Set<string>();
  const shown: string[] = [];
  const errors: string[] = [];
  const leaks: string[] = [];
  let serial = 0;
  const collect = (list: string[]) => {
    for (const text of list) {
      if (!text.startsWith(`${visitor}:`)) leaks.push(text);
      shown.push(text);
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    const batch = Array.from({ length: AT_ONCE }, async () => {
      const wait = Math.floor(random() * 6);
      const op = random();
      try {
        if (op < mix.add) {
          const texts = Array.from(
            { length: 1 + Math.floor(random() * 2) },
            () => `${visitor}:${serial++}`,
          );
          texts.forEach((t) => added.add(t));
          await agent.get('/add').query({ m: texts, wait }).expect(200);
        } else if (op < mix.add + mix.read) {
          const res = await agent.get('/read').query({ wait }).expect(200);
          collect(res.body as string[]);
        } else if (op < mix.add + mix.read + mix.ajax) {
          const text = `${visitor}:${serial++}`;
          added.add(text);
          const res = await agent.get('/ajax').query({ m: text, wait }).expect(200);
          collect(
            ((res.body as { messages?: { message: string }[] }).messages ?? []).map(
              (m) => m.message,
            ),
          );
        } else {
          await agent.get('/ignore').query({ wait }).expect(200, 'no messages here');
        }
      } catch (error) {
        errors.push(String(error));
      }
    });
    await Promise.all(batch);
  }
  // Whatever is still stored, read once, alone.
  collect(((await agent.get('/read').query({ wait: 0 }).expect(200)).body as string[]) ?? []);
  const unique = new Set(shown);
  return {
    added: added.size,
    deliveredOnce: [...unique].filter((t) => added.has(t)).length,
    duplicates: shown.length - unique.size,
    lost: [...added].filter((t) => !unique.has(t)).length,
    errors,
    leaks,
  };
}

describe('hardening: parallel requests from one visitor (10 at a time, one cookie jar)', function () {
  this.timeout(120_000);

  const redis = useRedis();
  const kinds: StorageKind[] = [
    'session-cookie',
    'session-external',
    'cookie',
    'fallback',
    'redis',
  ];
  for (const kind of kinds) {
    const what =
      kind === 'redis' ? 'and loses or repeats none' : '(and measures last-write-wins losses)';
    it(`raises no error and shows no message to the other visitor on ${kind} storage ${what}`, async () => {
      const { app } = caseApp({
        kind,
        routes,
        ...(kind === 'redis' ? { options: redis.options() } : {}),
      });
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback answers its own errors (500): its promise never rejects
      const server = http.createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        for (const [label, mix] of [
          ['every request touches messages', ALL_TOUCH],
          ['8 in 10 leave them alone', MOSTLY_IGNORE],
        ] as const) {
          const outcomes = await Promise.all(
            VISITORS.map((v, i) => visit(base, `${v}-${label.length}`, 1000 + i, mix)),
          );
          const sum = (f: (o: Outcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
          const added = sum((o) => o.added);
          const lost = sum((o) => o.lost);
          console.log(
            `      ${kind}, ${label}: ${added} added, ${sum((o) => o.deliveredOnce)} shown, ${lost} lost (${((100 * lost) / added).toFixed(1)}%), ` +
              `${sum((o) => o.duplicates)} extra showings`,
          );
          for (const o of outcomes) {
            expect(o.errors).to.deep.equal([]);
            expect(o.leaks).to.deep.equal([]);
            expect(o.added).to.be.greaterThan(0);
            // The atomic storage: every message shown exactly once, whatever the interleaving.
            if (kind === 'redis')
              expect([o.lost, o.duplicates, o.deliveredOnce]).to.deep.equal([0, 0, o.added]);
          }
        }
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  }
});
