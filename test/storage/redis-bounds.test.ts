import { PassThrough } from 'node:stream';

import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';

import { type DropEvent, type MessagesOptions } from '../../src/index.js';
import { redisStorage, type RedisStorageOptions } from '../../src/redis.js';
import { buildApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { CLIENT_KINDS, type ClientKind, duplicates } from '../helpers/delivery-workload.js';
import { clientOf, connectClient, messageKeys, type TestClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * The Redis storage's bounds per visitor (issue 21): `maxMessages` under parallel adds, the
 * number of hint cookies, `hint: false` with parallel first requests, keys of visitors who never
 * come back; and a request that streams its response (its headers are gone before the save).
 */

const texts = (body: string): string[] =>
  ((JSON.parse(body) as { messages?: { message: string }[] }).messages ?? []).map((m) => m.message);

for (const kind of CLIENT_KINDS) suite(kind);

function suite(kind: ClientKind) {
  describe(`redisStorage() bounds, with ${kind}`, function () {
    this.timeout(60_000);
    let server: RedisServer;
    let own: TestClient;
    let admin: Redis;
    let drops: DropEvent[];

    before(async function () {
      this.timeout(300_000); // may apt-get install redis-server first
      server = await startRedis();
      own = await clientOf(kind, server.port);
      admin = await connectClient(server.port);
    });

    after(async () => {
      own.close();
      admin.disconnect();
      await server.stop();
    });

    beforeEach(async () => {
      drops = [];
      await admin.flushall();
    });

    function app(
      storage: Partial<RedisStorageOptions> = {},
      options: Partial<MessagesOptions> = {},
    ) {
      return buildApp({
        session: false,
        options: {
          storage: redisStorage({ client: own.client, ...storage }),
          onDrop: (event) => drops.push(event),
          ...options,
        },
        routes: {
          '/add': (ctx) => {
            ctx.messages.success(String(ctx.query['text'] ?? 'Saved.'));
            ctx.body = 'added';
          },
          '/add-many': (ctx) => {
            const n = Number(ctx.query['n']);
            for (let i = 0; i < n; i++) ctx.messages.info(`${String(ctx.query['text'])}.${i}`);
            ctx.body = 'added';
          },
          '/show': (ctx: Context) => {
            ctx.ajax({});
          },
          '/plain': (ctx) => {
            ctx.body = 'plain page';
          },
          '/sse': (ctx) => {
            // Server-sent events: headers flushed before the handler returns, body streamed.
            if (ctx.query['text'] !== undefined) ctx.messages.info(String(ctx.query['text']));
            ctx.status = 200;
            ctx.type = 'text/event-stream';
            ctx.flushHeaders();
            const stream = new PassThrough();
            ctx.body = stream;
            setImmediate(() => stream.end('data: hello\n\n'));
          },
          '/raw': (ctx) => {
            // The app answers by itself: Koa does not touch the response.
            if (ctx.query['text'] !== undefined) ctx.messages.info(String(ctx.query['text']));
            ctx.respond = false;
            ctx.res.writeHead(200, { 'content-type': 'text/plain' });
            ctx.res.end('raw answer');
          },
        },
      });
    }

    /** A browser that already has a visitor id (a first add, read). */
    async function knownVisitor(browser: Browser) {
      await browser.go('post', '/add?text=Hello.');
      expect(texts((await browser.go('get', '/show')).text)).to.deep.equal(['Hello.']);
    }

    /** `count` requests at once with the jar's cookies; answers applied as they arrive. */
    async function parallel(browser: Browser, count: number, path: (i: number) => string) {
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const res = await browser.send('post', path(i));
          browser.jar.apply(res.headers['set-cookie']);
        }),
      );
    }

    describe('maxMessages', () => {
      it('keeps the newest maxMessages of 20 parallel requests adding 100 each, reporting the rest as max-messages', async () => {
        const browser = new Browser(app({}, { maxMessages: 100 }));
        await knownVisitor(browser);
        await parallel(browser, 20, (i) => `/add-many?n=100&text=r${i}`);
        const shown = texts((await browser.go('get', '/show')).text);
        const dropped = drops.flatMap((d) => d.messages.map((m) => m.message));
        expect(shown).to.have.length(100);
        expect(drops.every((d) => d.reason === 'max-messages')).to.equal(true);
        expect(dropped).to.have.length(1900);
        expect(duplicates([...shown, ...dropped])).to.deep.equal([]);
        expect(texts((await browser.go('get', '/show')).text)).to.deep.equal([]);
      });
    });

    describe('hint cookies', () => {
      it('keeps a visitor’s cookies under 4 KB through 30 bursts of 20 parallel adds, and then shows all 600 once', async () => {
        const browser = new Browser(app({}, { maxMessages: 1000 }));
        await knownVisitor(browser);
        let largest = 0;
        for (let round = 0; round < 30; round++) {
          await parallel(browser, 20, (i) => `/add?text=${round}.${i}`);
          largest = Math.max(largest, Buffer.byteLength(browser.jar.header()));
        }
        console.log(`      largest Cookie header: ${largest} bytes`);
        expect(largest, `largest Cookie header: ${largest} bytes`).to.be.below(4096);
        const shown = texts((await browser.go('get', '/show')).text);
        expect(shown).to.have.length(600);
        expect(duplicates(shown)).to.deep.equal([]);
        expect(texts((await browser.go('get', '/show')).text)).to.deep.equal([]);
        expect(drops).to.deep.equal([]);
      });
    });

    describe('hint: false', () => {
      it('is refused without `key`, naming the option', () => {
        expect(() => redisStorage({ client: own.client, hint: false }))
          .to.throw(TypeError, /`hint: false` needs the `key` option/)
          .with.property('code', 'ERR_KOA_MESSAGES_OPTION');
      });

      it('with `key`, delivers all 5 parallel first requests of a new browser', async () => {
        const browser = new Browser(app({ hint: false, key: () => 'user-7' }));
        await parallel(browser, 5, (i) => `/add?text=first${i}`);
        const shown = texts((await browser.go('get', '/show')).text);
        expect(shown.sort()).to.deep.equal(['first0', 'first1', 'first2', 'first3', 'first4']);
        expect(drops).to.deep.equal([]);
      });
    });

    describe('visitors who never come back', () => {
      it('keeps a first visitor’s messages `newVisitorTtl`, and `ttl` once the visitor comes back', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=First.');
        const [key] = await messageKeys(admin);
        const first = await admin.pttl(key!);
        expect(first).to.be.within(1, 3_600_000);
        // Back, on a page that does not read: the claim and the give-back renew it to `ttl`.
        await browser.go('get', '/plain');
        expect(await admin.pttl(key!)).to.be.above(3_600_000);
        expect(texts((await browser.go('get', '/show')).text)).to.deep.equal(['First.']);
      });

      it('uses the `newVisitorTtl` option, capped at `ttl`', async () => {
        await new Browser(app({ newVisitorTtl: 5000 })).go('post', '/add');
        await new Browser(app({ newVisitorTtl: 10_000, ttl: 2000 })).go('post', '/add');
        const ttls = await Promise.all((await messageKeys(admin)).map((key) => admin.pttl(key)));
        expect(
          ttls.map((t) => (t <= 2000 ? 'ttl' : t <= 5000 ? 'new' : 'long')).sort(),
        ).to.deep.equal(['new', 'ttl']);
      });
    });

    describe('responses whose headers are sent before the save', () => {
      for (const [route, body] of [
        ['/sse', 'data: hello\n\n'],
        ['/raw', 'raw answer'],
      ] as const) {
        it(`${route}: ends the response and gives back what the request claimed, for the next page`, async () => {
          const browser = new Browser(app());
          await knownVisitor(browser);
          await browser.go('post', '/add?text=Pending.');
          const res = await browser.go('get', route);
          expect([res.status, res.text]).to.deep.equal([200, body]);
          expect(res.headers['set-cookie']).to.equal(undefined);
          expect(texts((await browser.go('get', '/show')).text)).to.deep.equal(['Pending.']);
          expect(drops).to.deep.equal([]);
        });

        it(`${route}: stores what it added where the visitor’s cookies lead, or reports it as headers-sent`, async () => {
          const known = new Browser(app());
          await knownVisitor(known);
          await known.go('post', '/add?text=Pending.');
          await known.go('get', `${route}?text=Streamed.`);
          expect(texts((await known.go('get', '/show')).text)).to.deep.equal([
            'Pending.',
            'Streamed.',
          ]);
          expect(drops).to.deep.equal([]);

          // A new visitor has no cookie that could lead a later request to it.
          const fresh = new Browser(app());
          const res = await fresh.go('get', `${route}?text=Nowhere.`);
          expect([res.status, res.text]).to.deep.equal([200, body]);
          expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
            ['headers-sent', ['Nowhere.']],
          ]);
          expect(await messageKeys(admin)).to.deep.equal([]);
        });
      }
    });
  });
}
