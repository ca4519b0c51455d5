import { Readable } from 'node:stream';

import { expect } from 'chai';
import type { Context } from 'koa';
import request from 'supertest';

import { type DropEvent, isMessagesError, type MessagesOptions } from '../../src/index.js';
import {
  agentOf,
  type CaseApp,
  caseApp,
  readJson,
  setCookieOf,
  type StorageKind,
} from '../hardening/helpers.js';
import { useRedis } from '../hardening/redis.js';
import { SharedCache } from '../helpers/shared-cache.js';

/**
 * The promise "shown once, to this visitor only" at every exit of a request: a thrown error, a
 * response whose headers went out early, an htmx answer that navigates away, a failing hook or
 * translation (docs/delivery.md). Over real HTTP, on every storage it applies to; this
 * folder also runs on Koa 2.
 */

const json = (list: string[]): string => JSON.stringify(list.map((text) => [25, 'success', text]));

/** Where the messages of each storage live. */
const PERSISTENT: StorageKind[] = [
  'session-cookie',
  'session-external',
  'cookie',
  'fallback',
  'redis',
];

const add = (ctx: Context): void => {
  for (const text of [ctx.query.m ?? []].flat()) ctx.messages.success(text);
};

/** A readable stream of one server-sent event, ended. */
const oneEvent = (): Readable => Readable.from(['data: hello\n\n']);

const routes: Record<string, (ctx: Context) => unknown> = {
  '/add': (ctx) => {
    add(ctx);
    ctx.body = 'added';
  },
  '/read': readJson,
  '/add-404': (ctx) => {
    add(ctx);
    ctx.throw(404, 'No such poll');
  },
  '/add-error': (ctx) => {
    add(ctx);
    throw new Error('boom');
  },
  '/add-public-404': (ctx) => {
    add(ctx);
    ctx.throw(404, 'No such poll', {
      headers: { 'Cache-Control': 'public, max-age=60', Vary: 'Accept-Language' },
    });
  },
  '/read-404': (ctx) => {
    void [...ctx.messages];
    ctx.throw(404, 'No such poll');
  },
  // Server-sent events: headers out before the handler returns, ctx.messages never touched.
  '/events': (ctx) => {
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.flushHeaders();
    ctx.body = oneEvent();
  },
  '/add-then-stream': (ctx) => {
    add(ctx);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.flushHeaders();
    ctx.body = oneEvent();
  },
  // The app takes the response over.
  '/raw': (ctx) => {
    ctx.respond = false;
    ctx.res.writeHead(200, { 'content-type': 'text/plain' });
    ctx.res.end('raw');
  },
};

describe('delivery lifecycle: every exit of a request', () => {
  const redis = useRedis();
  /** The case's app on `kind` storage (Redis on this suite's server), with `extra` routes and `options`. */
  const setup = (kind: StorageKind, options: MessagesOptions = {}, extra = routes): CaseApp =>
    caseApp({
      kind,
      routes: extra,
      options: { ...(kind === 'redis' ? redis.options() : {}), ...options },
    });

  describe('a thrown error carries the caching headers with the cookies', () => {
    for (const kind of PERSISTENT) {
      describe(`on ${kind} storage`, () => {
        let cache: SharedCache;
        afterEach(() => cache.stop());

        for (const path of ['/add-404', '/add-error', '/add-public-404']) {
          it(`${path}: the error page is private and varies on Cookie, and no shared cache hands it to another visitor`, async () => {
            const { app } = setup(kind);
            cache = new SharedCache();
            const url = await cache.start(app);
            const ann = request.agent(url);
            const status = path === '/add-error' ? 500 : 404;
            const failed = await ann.get(`${path}?m=Welcome%20back%2C%20Ann.`).expect(status);
            expect(failed.headers['cache-control']).to.equal('private, no-store');
            expect(String(failed.headers['vary']).split(', ')).to.include('Cookie');
            expect(setCookieOf(failed)).to.not.deep.equal([]);
            // Another visitor, no cookie: a fresh answer, none of Ann's cookies.
            const bob = await request(url).get(`${path}?m=Welcome%20back%2C%20Ann.`).expect(status);
            expect(bob.headers['x-cache']).to.equal('MISS');
            expect(cache.hits).to.equal(0);
            expect(cache.size).to.equal(0);
            // Ann's message survived the error.
            await ann.get('/read').expect(200, json(['Welcome back, Ann.']));
          });
        }

        it("keeps the app's own Vary entries on the error and adds Cookie", async () => {
          const { app } = setup(kind);
          const res = await agentOf(app).get('/add-public-404?m=A').expect(404);
          expect(res.headers['vary']).to.equal('Accept-Language, Cookie');
        });

        it('marks an error page that read messages (they stay pending) as varying on Cookie', async () => {
          const { app } = setup(kind);
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          const res = await a.get('/read-404').expect(404);
          expect(String(res.headers['vary'])).to.include('Cookie');
          await a.get('/read').expect(200, json(['A']));
        });
      });
    }

    it('leaves an error of a request that never touched messages alone', async () => {
      const { app } = setup('session-cookie', {});
      const res = await agentOf(app).get('/missing-route-404').expect(404);
      expect(res.headers['vary']).to.equal(undefined);
      expect(res.headers['cache-control']).to.equal(undefined);
    });
  });

  describe('a response whose headers went out before the end', () => {
    for (const kind of PERSISTENT) {
      describe(`on ${kind} storage`, () => {
        it('answers a server-sent-events stream that never touched messages, and keeps what was pending', async () => {
          const { app, drops } = setup(kind);
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          const stream = await a.get('/events').expect(200);
          expect(stream.text).to.equal('data: hello\n\n');
          await a.get('/read').expect(200, json(['A']));
          expect(drops).to.deep.equal([]);
        });

        it('answers ctx.respond = false, and keeps what was pending', async () => {
          const { app } = setup(kind);
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          await a.get('/raw').expect(200, 'raw');
          await a.get('/read').expect(200, json(['A']));
        });
      });
    }

    for (const kind of ['session-cookie', 'session-external', 'cookie', 'fallback'] as const) {
      it(`on ${kind} storage, reports what a streamed response added as 'headers-sent', and keeps what was pending`, async () => {
        const { app, drops } = setup(kind);
        const a = agentOf(app);
        await a.get('/add?m=A').expect(200);
        const stream = await a.get('/add-then-stream?m=B').expect(200);
        expect(stream.text).to.equal('data: hello\n\n');
        expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
          ['headers-sent', ['B']],
        ]);
        await a.get('/read').expect(200, json(['A']));
      });
    }
  });

  describe('an htmx answer that navigates the browser away', () => {
    const htmxRoutes: Record<string, (ctx: Context) => unknown> = {
      ...routes,
      '/hx-redirect': (ctx) => {
        ctx.set('HX-Redirect', '/done');
        ctx.body = '';
      },
      '/hx-location': (ctx) => {
        ctx.set('HX-Location', '/done');
        ctx.body = '';
      },
      '/hx-refresh': (ctx) => {
        ctx.set('HX-Refresh', 'true');
        ctx.body = '';
      },
      // A partial that listed the messages, then decided to navigate.
      '/hx-rendered-then-redirect': (ctx) => {
        ctx.body = [...ctx.messages].map((m) => m.message).join('|');
        ctx.set('HX-Redirect', '/done');
      },
      '/hx-plain': (ctx) => {
        ctx.body = 'partial';
      },
    };

    for (const kind of PERSISTENT) {
      for (const path of [
        '/hx-redirect',
        '/hx-location',
        '/hx-refresh',
        '/hx-rendered-then-redirect',
      ]) {
        it(`${path} on ${kind} storage: no HX-Trigger, and the messages wait for the page the visitor lands on`, async () => {
          const { app } = setup(kind, { htmx: true }, htmxRoutes);
          const a = agentOf(app);
          await a.get('/add?m=Saved.').expect(200);
          const res = await a.get(path).set('HX-Request', 'true').expect(200);
          expect(res.headers['hx-trigger']).to.equal(undefined);
          await a.get('/read').expect(200, json(['Saved.']));
        });
      }

      it(`an htmx answer that stays on the page on ${kind} storage still carries them in HX-Trigger`, async () => {
        const { app } = setup(kind, { htmx: true }, htmxRoutes);
        const a = agentOf(app);
        await a.get('/add?m=Saved.').expect(200);
        const res = await a.get('/hx-plain').set('HX-Request', 'true').expect(200);
        expect(res.headers['hx-trigger']).to.equal(
          '{"messages":[{"message":"Saved.","tags":"success"}]}',
        );
        await a.get('/read').expect(200, '[]');
      });
    }
  });

  describe('failing app hooks', () => {
    const hookRoutes: Record<string, (ctx: Context) => unknown> = {
      ...routes,
      '/add-descriptor': (ctx) => {
        ctx.messages.warning({ id: String(ctx.query.id) });
        ctx.body = 'added';
      },
      '/hx-plain': (ctx) => {
        ctx.body = 'partial';
      },
    };

    for (const kind of PERSISTENT) {
      it(`a translate that throws for one stored message does not fail an htmx request on ${kind} storage, loses nothing, and reaches the app's 'error' event`, async () => {
        const broken = new Error('no such catalogue entry');
        const { app } = setup(
          kind,
          {
            htmx: true,
            translate: ({ id }) => {
              if (id === 'broken') throw broken;
              return `[${id}]`;
            },
          },
          hookRoutes,
        );
        const errors: unknown[] = [];
        app.on('error', (error) => errors.push(error));
        const a = agentOf(app);
        await a.get('/add-descriptor?id=broken').expect(200);
        await a.get('/add-descriptor?id=fine').expect(200);
        await a.get('/add?m=Plain.').expect(200);
        const res = await a.get('/hx-plain').set('HX-Request', 'true').expect(200, 'partial');
        expect(res.headers['hx-trigger']).to.equal(
          '{"messages":[{"message":"[fine]","tags":"warning"},{"message":"Plain.","tags":"success"}]}',
        );
        expect(errors).to.deep.equal([broken]);
        // The one that failed waits for a page (where the app's own error shows).
        const page = await a.get('/hx-plain').set('HX-Request', 'true').expect(200);
        expect(page.headers['hx-trigger']).to.equal(undefined);
        expect(errors).to.deep.equal([broken, broken]);
      });
    }

    it("an async onDrop that rejects reaches the app's error event instead of crashing the process", async () => {
      const rejection = new Error('the log shipper is down');
      const seen: DropEvent[] = [];
      const { app } = caseApp({
        kind: 'session-cookie',
        routes,
        options: {
          maxMessages: 1,
          onDrop: async (event) => {
            seen.push(event);
            await Promise.resolve();
            throw rejection;
          },
        },
      });
      const errors: unknown[] = [];
      const reported = new Promise<void>((resolve) =>
        app.on('error', (error) => {
          errors.push(error);
          resolve();
        }),
      );
      const a = agentOf(app);
      await a.get('/add?m=A&m=B').expect(200, 'added');
      await reported;
      expect(errors).to.deep.equal([rejection]);
      expect(seen.map((e) => e.reason)).to.deep.equal(['max-messages']);
      await a.get('/read').expect(200, json(['B']));
    });

    for (const kind of PERSISTENT) {
      it(`an onDrop that throws answers the request and loses nothing else on ${kind} storage`, async () => {
        const thrown = new Error('onDrop bug');
        const { app } = caseApp({
          kind,
          routes,
          options: {
            ...(kind === 'redis' ? redis.options() : {}),
            maxMessages: 2,
            onDrop: () => {
              throw thrown;
            },
          },
        });
        const errors: unknown[] = [];
        app.on('error', (error) => errors.push(error));
        const a = agentOf(app);
        await a.get('/add?m=A&m=B&m=C').expect(200, 'added');
        expect(errors).to.deep.equal([thrown]);
        await a.get('/read').expect(200, json(['B', 'C']));
      });
    }
  });

  describe('ctx.flash and names of Object.prototype', () => {
    const flashRoutes: Record<string, (ctx: Context) => unknown> = {
      '/flash-add': (ctx) => {
        ctx.body = String(
          (ctx as unknown as { flash: (...a: string[]) => number }).flash(
            String(ctx.query.type),
            String(ctx.query.m),
          ),
        );
      },
      '/flash-type': (ctx) => {
        ctx.body = (ctx as unknown as { flash: (t: string) => string[] }).flash(
          String(ctx.query.type),
        );
      },
      '/flash-all': (ctx) => {
        const all = (ctx as unknown as { flash: () => Record<string, string[]> }).flash();
        ctx.body = {
          own: Object.keys(all),
          all,
          proto: Object.getPrototypeOf(all) === Object.prototype,
        };
      },
      '/seed-tag': (ctx) => {
        ctx.messages.info('Tagged.', { extraTags: String(ctx.query.tag) });
        ctx.body = 'seeded';
      },
    };

    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      it(`treats ${type} as a custom type: adds, reads, and lists it as an own key`, async () => {
        const { app } = caseApp({ kind: 'cookie', routes: flashRoutes, options: { flash: true } });
        const a = agentOf(app);
        await a.get(`/flash-add?type=${type}&m=x`).expect(200, '1');
        await a.get(`/flash-add?type=${type}&m=y`).expect(200, '2');
        await a.get(`/flash-type?type=${type}`).expect(200, ['x', 'y']);
        await a.get(`/flash-add?type=${type}&m=z`).expect(200, '1');
        const res = await a.get('/flash-all').expect(200);
        expect(res.body).to.deep.equal({
          own: [type],
          all: JSON.parse(`{"${type}":["z"]}`),
          proto: true,
        });
      });
    }

    it('lists a stored message tagged constructor without failing ctx.flash()', async () => {
      const { app } = caseApp({
        kind: 'session-cookie',
        routes: flashRoutes,
        options: { flash: true },
      });
      const a = agentOf(app);
      await a.get('/seed-tag?tag=constructor').expect(200);
      const res = await a.get('/flash-all').expect(200);
      expect(res.body).to.deep.equal({
        own: ['constructor'],
        all: JSON.parse('{"constructor":["Tagged."]}'),
        proto: true,
      });
    });
  });

  describe('header transports never block on one message', () => {
    for (const kind of PERSISTENT) {
      it(`sends the later messages in HX-Trigger past one too large for any header, which waits for a page, on ${kind} storage`, async () => {
        const big = 'x'.repeat(600);
        const { app } = caseApp({
          kind,
          routes: { ...routes, '/hx-plain': (ctx) => void (ctx.body = 'partial') },
          options: {
            ...(kind === 'redis' ? redis.options() : {}),
            htmx: true,
            maxHeaderBytes: 256,
          },
        });
        const a = agentOf(app);
        await a.get(`/add?m=${big}`).expect(200);
        await a.get('/add?m=Small.').expect(200);
        const res = await a.get('/hx-plain').set('HX-Request', 'true').expect(200);
        expect(res.headers['hx-trigger']).to.equal(
          '{"messages":[{"message":"Small.","tags":"success"}]}',
        );
        await a.get('/read').expect(200, json([big]));
      });
    }
  });

  describe('ctx.ajax() refuses headers that would cut its body', () => {
    for (const name of [
      'Content-Length',
      'content-length',
      'Transfer-Encoding',
      'Content-Encoding',
    ]) {
      it(`refuses ${name} before consuming anything`, async () => {
        const errors: unknown[] = [];
        const { app } = caseApp({
          kind: 'cookie',
          routes: {
            ...routes,
            '/ajax-bad': (ctx) => {
              try {
                ctx.ajax({ ok: 1 }, true, { headers: { [name]: '5' } });
              } catch (error) {
                errors.push(error);
                ctx.body = 'refused';
              }
            },
          },
        });
        const a = agentOf(app);
        await a.get('/add?m=A').expect(200);
        await a.get('/ajax-bad').expect(200, 'refused');
        expect(errors).to.have.length(1);
        expect(isMessagesError(errors[0]) && errors[0].code).to.equal('ERR_KOA_MESSAGES_ARGUMENT');
        expect((errors[0] as Error).message).to.equal(
          `koa-messages: ctx.ajax() init \`headers\` must not set \`${name}\`: Koa sets the framing of the JSON body itself, and another value would cut or garble the answer.`,
        );
        await a.get('/read').expect(200, json(['A']));
      });
    }
  });

  describe("the default set-up keeps koa-session's cookie within what a browser keeps", () => {
    it("drops the oldest messages past the cookie's room, reports them as 'cookie-size', and keeps the session", async () => {
      const { app, drops } = caseApp({
        kind: 'session-cookie',
        routes: {
          ...routes,
          '/login': (ctx) => {
            ctx.session!['user'] = 'ann';
            ctx.body = 'in';
          },
          '/whoami': (ctx) => {
            ctx.body = String(ctx.session!['user']);
          },
        },
      });
      const a = agentOf(app);
      await a.get('/login').expect(200);
      const texts = Array.from(
        { length: 60 },
        (_, i) => `Message ${String(i).padStart(2, '0')}: ${'y'.repeat(60)}`,
      );
      const added = await a
        .get(`/add?${texts.map((t) => `m=${encodeURIComponent(t)}`).join('&')}`)
        .expect(200);
      const cookie = setCookieOf(added).find((c) => c.startsWith('koa.sess='))!;
      const pair = cookie.split(';')[0]!;
      expect(pair.length).to.be.at.most(4093);
      expect(pair.length).to.be.above(3500);
      const dropped = drops.flatMap((d) => d.messages.map((m) => m.message));
      expect(drops.map((d) => d.reason)).to.deep.equal(['cookie-size']);
      expect(dropped).to.deep.equal(texts.slice(0, dropped.length));
      await a.get('/whoami').expect(200, 'ann');
      await a.get('/read').expect(200, json(texts.slice(dropped.length)));
    });

    it('leaves an external session store unbounded', async () => {
      const { app, drops } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      const texts = Array.from({ length: 60 }, (_, i) => `Message ${i}: ${'y'.repeat(60)}`);
      await a.get(`/add?${texts.map((t) => `m=${encodeURIComponent(t)}`).join('&')}`).expect(200);
      expect(drops).to.deep.equal([]);
      await a.get('/read').expect(200, json(texts));
    });
  });
});
