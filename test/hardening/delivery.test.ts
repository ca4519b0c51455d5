import { expect } from 'chai';
import type { Context, Middleware } from 'koa';

import { fallbackStorage, type MessagesOptions, type MessageStorage } from '../../src/index.js';
import { decodeMessages, encodeMessage } from '../../src/storage/codec.js';
import { agentOf, caseApp, readJson, setCookieOf, type StorageKind } from './helpers.js';
import { useRedis } from './redis.js';

/** `?m=a&m=b` → ['a', 'b']. */
function texts(ctx: Context): string[] {
  const m = ctx.query['m'];
  return m === undefined ? [] : Array.isArray(m) ? m : [m];
}

function add(ctx: Context): void {
  for (const text of texts(ctx)) ctx.messages.success(text);
}

class Boom extends Error {
  override name = 'Boom';
}

/** The routes every delivery test uses. */
const routes: Record<string, (ctx: Context) => unknown> = {
  '/add': (ctx) => {
    add(ctx);
    ctx.body = 'added';
  },
  '/add-redirect': (ctx) => {
    add(ctx);
    ctx.status = 303;
    ctx.redirect('/read');
  },
  '/read': readJson,
  '/read-throw': (ctx) => {
    readJson(ctx);
    throw new Boom('after reading');
  },
  '/add-throw': (ctx) => {
    add(ctx);
    throw new Boom('after adding');
  },
  '/read-add-throw': (ctx) => {
    readJson(ctx);
    add(ctx);
    throw new Boom('after reading and adding');
  },
  '/read-404': (ctx) => {
    readJson(ctx);
    ctx.throw(404, 'No such poll');
  },
  '/read-503': (ctx) => {
    readJson(ctx);
    ctx.status = 503;
  },
  '/ajax': (ctx) => {
    ctx.ajax({ ok: 1 });
  },
  '/ajax-throw': (ctx) => {
    ctx.ajax({ ok: 1 });
    throw new Boom('after ajax');
  },
  '/size': (ctx) => {
    ctx.body = `size ${ctx.messages.size}`;
  },
  '/untouched': (ctx) => {
    ctx.body = 'no messages here';
  },
  '/public-page': (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=600');
    ctx.vary('Accept-Encoding');
    readJson(ctx);
  },
  '/login': (ctx) => {
    add(ctx);
    ctx.session = { user: 'ann' };
    ctx.messages.success('Welcome, ann.');
    ctx.body = 'logged in';
  },
  '/regenerate': async (ctx) => {
    ctx.messages.info('Before regenerate.');
    await (ctx.session as { regenerate(): Promise<void> }).regenerate();
    ctx.session!['user'] = 'ann';
    ctx.messages.success('Welcome, ann.');
    ctx.body = 'logged in';
  },
  '/logout': (ctx) => {
    ctx.session = null;
    ctx.messages.info('You have been logged out.');
    ctx.body = 'logged out';
  },
  '/size-then-logout': (ctx) => {
    ctx.body = `size ${ctx.messages.size}`;
    ctx.session = null;
    ctx.messages.info('You have been logged out.');
  },
  '/visit': (ctx) => {
    ctx.session!['visitor'] = 1;
    ctx.body = 'welcome';
  },
  '/whoami': (ctx) => {
    ctx.body = `user: ${String((ctx.session as { user?: string } | null)?.user)}`;
  },
};

const SESSION_KINDS: StorageKind[] = ['session-cookie', 'session-external'];
/** Storages that keep messages between requests. */
const PERSISTENT: StorageKind[] = [...SESSION_KINDS, 'cookie', 'fallback', 'redis'];

const json = (list: string[]): string => JSON.stringify(list.map((text) => [25, 'success', text]));

describe('hardening: delivery rules', () => {
  const redis = useRedis();
  const optionsFor = (kind: StorageKind): MessagesOptions =>
    kind === 'redis' ? redis.options() : {};

  describe('failed responses consume nothing', () => {
    for (const kind of PERSISTENT) {
      describe(`on ${kind} storage`, () => {
        it('keeps messages that a handler read before throwing, for the next request', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=A&m=B').expect(200);
          await a.get('/read-throw').expect(500, 'Internal Server Error');
          await a.get('/read').expect(200, json(['A', 'B']));
          await a.get('/read').expect(200, '[]');
        });

        it('keeps messages that a handler read before a thrown 404', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          await a.get('/read-404').expect(404, 'No such poll');
          await a.get('/read').expect(200, json(['A']));
        });

        it('keeps messages that ctx.ajax() sent before the handler threw', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          await a.get('/ajax-throw').expect(500);
          await a
            .get('/ajax')
            .expect(200, '{"ok":1,"messages":[{"message":"A","tags":"success"}]}');
        });

        it('keeps messages shown in a 503 answer the handler set itself', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          await a.get('/read-503').expect(503, json(['A']));
          await a.get('/read').expect(200, json(['A']));
        });
      });
    }

    it('keeps messages added before the handler threw, on a koa-session external store', async () => {
      const { app, store } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const failed = await a.get('/read-add-throw?m=B').expect(500);
      // koa-session is committed at once, and its cookie (the same id) rides on the error.
      expect(setCookieOf(failed).map((c) => c.split('=')[0])).to.deep.equal([
        'koa.sess',
        'koa.sess.sig',
      ]);
      expect(store!.only().value['messages']).to.deep.equal([
        [25, 'A'],
        [25, 'B'],
      ]);
      await a.get('/read').expect(200, json(['A', 'B']));
    });

    it('keeps messages added before the handler threw, on cookie storage (its Set-Cookie rides on err.headers)', async () => {
      const { app } = caseApp({ kind: 'cookie', routes });
      const a = agentOf(app);
      const first = await a.get('/add-throw?m=A').expect(500, 'Internal Server Error');
      expect(setCookieOf(first).map((c) => c.split('=')[0])).to.deep.equal(['messages']);
      const second = await a.get('/read-add-throw?m=B').expect(500);
      expect(setCookieOf(second).map((c) => c.split('=')[0])).to.deep.equal(['messages']);
      await a.get('/read').expect(200, json(['A', 'B']));
      await a.get('/read').expect(200, '[]');
    });

    it("keeps messages added before the handler threw, on redis storage, even on a visitor's first request (its id cookie rides on err.headers)", async () => {
      const { app } = caseApp({ kind: 'redis', routes, options: optionsFor('redis') });
      const a = agentOf(app);
      const failed = await a.get('/add-throw?m=A').expect(500, 'Internal Server Error');
      expect(setCookieOf(failed).length).to.be.greaterThan(0);
      await a.get('/read-add-throw?m=B').expect(500);
      await a.get('/read').expect(200, json(['A', 'B']));
      await a.get('/read').expect(200, '[]');
    });

    const eight = Array.from({ length: 8 }, (_, i) => `message number ${i}`);
    const addEightAndThrow = `/read-add-throw?${eight.map((t) => `m=${encodeURIComponent(t)}`).join('&')}`;

    it('keeps messages added before the handler threw, on fallback storage, in the cookie and the overflow alike, for a visitor with a session', async () => {
      const { app, store } = caseApp({
        kind: 'fallback',
        options: { storage: fallbackStorage({ cookie: { maxSize: 128 } }) },
        routes,
      });
      const a = agentOf(app);
      await a.get('/visit').expect(200);
      await a.get('/add?m=first').expect(200);
      await a.get(addEightAndThrow).expect(500);
      // 6 of the 9 went to the session: the cookie holds 128 bytes at most.
      expect((store!.only().value['messages'] as unknown[]).length).to.equal(6);
      await a.get('/read').expect(200, json(['first', ...eight]));
    });

    it("on fallback storage, a failed request keeps the cookie's messages and its overflow when the visitor had no session yet (koa-session's new id cookie rides on the error)", async () => {
      const { app, store } = caseApp({
        kind: 'fallback',
        options: { storage: fallbackStorage({ cookie: { maxSize: 128 } }) },
        routes,
      });
      const a = agentOf(app);
      await a.get('/add?m=first').expect(200);
      // Everything fitted in the cookie: no session was made.
      expect(store!.data.size).to.equal(0);
      const failed = await a.get(addEightAndThrow).expect(500);
      expect(setCookieOf(failed).map((c) => c.split('=')[0])).to.deep.equal([
        'messages',
        'koa.sess',
        'koa.sess.sig',
      ]);
      expect((store!.only().value['messages'] as unknown[]).length).to.equal(6);
      await a.get('/read').expect(200, json(['first', ...eight]));
    });

    it('on fallback storage with koa-session in cookie mode, a failed request keeps the cookie and its overflow', async () => {
      const { app } = caseApp({
        kind: 'fallback',
        options: { storage: fallbackStorage({ cookie: { maxSize: 128 } }) },
        routes,
        sessionStore: 'cookie',
      });
      const a = agentOf(app);
      await a.get('/visit').expect(200);
      await a.get('/add?m=first').expect(200);
      await a.get(addEightAndThrow).expect(500);
      await a.get('/read').expect(200, json(['first', ...eight]));
    });

    it("keeps messages added by a visitor's very first request when it throws, on an external store (the new session id rides on the error)", async () => {
      const { app, store } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      const failed = await a.get('/add-throw?m=A').expect(500);
      expect(setCookieOf(failed).map((c) => c.split('=')[0])).to.deep.equal([
        'koa.sess',
        'koa.sess.sig',
      ]);
      expect(store!.only().value['messages']).to.deep.equal([[25, 'A']]);
      await a.get('/read').expect(200, json(['A']));
      await a.get('/read').expect(200, '[]');
    });

    it('in cookie-session mode keeps the messages read by a failed request and the ones it added (its Set-Cookie rides on the error)', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const failed = await a.get('/read-add-throw?m=B').expect(500, 'Internal Server Error');
      expect(setCookieOf(failed).map((c) => c.split('=')[0])).to.deep.equal([
        'koa.sess',
        'koa.sess.sig',
      ]);
      await a.get('/read').expect(200, json(['A', 'B']));
      await a.get('/read').expect(200, '[]');
    });

    it('in cookie-session mode keeps the messages added by a failed request when an error handler is installed before koa-session', async () => {
      const handleErrors: Middleware = async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          ctx.status = 500;
          ctx.type = 'text';
          ctx.body = 'Sorry, something went wrong.';
          ctx.app.emit('error', error, ctx);
        }
      };
      const { app } = caseApp({ kind: 'session-cookie', routes, outer: [handleErrors] });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const failed = await a.get('/read-add-throw?m=B').expect(500, 'Sorry, something went wrong.');
      expect(setCookieOf(failed).some((c) => c.startsWith('koa.sess='))).to.equal(true);
      await a.get('/read').expect(200, json(['A', 'B']));
    });
  });

  describe('a storage cookie set while finishing a failed request', () => {
    /**
     * A storage written by an app, through the public interface and codec: messages in a plain
     * (unsigned, test-only) cookie. Its Set-Cookie is what the middleware must carry onto the error.
     */
    const cookieJarStorage: MessageStorage = {
      open: (ctx) => ({
        load() {
          const raw = ctx.cookies.get('flash', { signed: false });
          return raw === undefined
            ? []
            : decodeMessages(JSON.parse(decodeURIComponent(raw))).messages;
        },
        save({ kept, added }) {
          const pending = [...kept, ...added].map(encodeMessage);
          ctx.cookies.set(
            'flash',
            pending.length === 0 ? '' : encodeURIComponent(JSON.stringify(pending)),
            {
              signed: false,
              ...(pending.length === 0 ? { expires: new Date(0) } : {}),
            },
          );
        },
      }),
    };

    const throwing: Record<string, (ctx: Context) => unknown> = {
      ...routes,
      '/add-throw-409': (ctx) => {
        add(ctx);
        ctx.throw(409, 'Already voted', { headers: { 'X-Reason': 'duplicate' } });
      },
      '/add-throw-with-cookie': (ctx) => {
        add(ctx);
        throw Object.assign(new Boom('with a cookie of its own'), {
          headers: { 'Set-Cookie': 'own=1; path=/' },
        });
      },
    };

    it("gives the cookie up, never the app's error, when the error's headers cannot be set", async () => {
      const seen: string[] = [];
      const { app } = caseApp({
        kind: 'cookie',
        routes: {
          '/add-throw-readonly': (ctx) => {
            add(ctx);
            const error = Object.assign(new Boom('read-only headers'), {
              status: 409,
              expose: true,
            });
            Object.defineProperty(error, 'headers', { get: () => ({ 'X-Reason': 'upstream' }) });
            throw error;
          },
        },
      });
      app.on('error', (error: Error) => seen.push(`${error.name}: ${error.message}`));
      const failed = await agentOf(app)
        .get('/add-throw-readonly?m=A')
        .expect(409, 'read-only headers');
      expect(failed.headers['x-reason']).to.equal('upstream');
      expect(setCookieOf(failed)).to.deep.equal([]);
      expect(seen).to.deep.equal(['Boom: read-only headers']);
    });

    it('reaches the browser through err.headers, so the added message is shown next', async () => {
      const { app } = caseApp({
        kind: 'memory',
        options: { storage: cookieJarStorage },
        routes: throwing,
      });
      const a = agentOf(app);
      const failed = await a.get('/add-throw?m=A').expect(500, 'Internal Server Error');
      expect(setCookieOf(failed)).to.deep.equal([
        'flash=%5B%5B25%2C%22A%22%5D%5D; path=/; httponly',
      ]);
      await a.get('/read').expect(200, json(['A']));
    });

    it("keeps the error's own headers beside the carried cookie", async () => {
      const { app } = caseApp({
        kind: 'memory',
        options: { storage: cookieJarStorage },
        routes: throwing,
      });
      const failed = await agentOf(app).get('/add-throw-409?m=A').expect(409, 'Already voted');
      expect(failed.headers['x-reason']).to.equal('duplicate');
      expect(setCookieOf(failed)).to.have.length(1);
      expect(setCookieOf(failed)[0]).to.match(/^flash=%5B/);
    });

    it("keeps a Set-Cookie the error already carried, before the storage's", async () => {
      const { app } = caseApp({
        kind: 'memory',
        options: { storage: cookieJarStorage },
        routes: throwing,
      });
      const failed = await agentOf(app).get('/add-throw-with-cookie?m=A').expect(500);
      const cookies = setCookieOf(failed);
      expect(cookies).to.have.length(2);
      expect(cookies[0]).to.equal('own=1; path=/');
      expect(cookies[1]).to.match(/^flash=%5B/);
    });
  });

  describe('requests that are not a person reading consume nothing', () => {
    const probes: [string, (a: ReturnType<typeof agentOf>) => Promise<unknown>][] = [
      ['HEAD to a route that iterates', (a) => a.head('/read').expect(200)],
      ['HEAD to a route that calls ctx.ajax()', (a) => a.head('/ajax').expect(200)],
      ['OPTIONS to a route that iterates', (a) => a.options('/read').expect(200)],
      [
        'a prefetch (Sec-Purpose: prefetch)',
        (a) =>
          a
            .get('/read')
            .set('Sec-Purpose', 'prefetch')
            .expect(200, json(['A'])),
      ],
      [
        'a prerender (Sec-Purpose: prefetch;prerender)',
        (a) =>
          a
            .get('/read')
            .set('Sec-Purpose', 'prefetch;prerender')
            .expect(200, json(['A'])),
      ],
      [
        'a legacy prefetch (Purpose: prefetch)',
        (a) =>
          a
            .get('/ajax')
            .set('Purpose', 'prefetch')
            .expect(200, '{"ok":1,"messages":[{"message":"A","tags":"success"}]}'),
      ],
      [
        'a Firefox prefetch (X-Moz: prefetch)',
        (a) =>
          a
            .get('/read')
            .set('X-Moz', 'prefetch')
            .expect(200, json(['A'])),
      ],
      [
        'a link preview (X-Purpose: preview)',
        (a) =>
          a
            .get('/read')
            .set('X-Purpose', 'preview')
            .expect(200, json(['A'])),
      ],
    ];
    for (const kind of PERSISTENT) {
      for (const [what, probe] of probes) {
        it(`does not consume on ${what}, on ${kind} storage`, async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=A').expect(200);
          await probe(a);
          await a.get('/read').expect(200, json(['A']));
          await a.get('/read').expect(200, '[]');
        });
      }
    }
  });

  describe('the store is bounded by maxMessages', () => {
    it('keeps the newest 100 by default and reports the oldest to onDrop', async () => {
      const { app, drops } = caseApp({
        kind: 'session-cookie',
        routes: {
          ...routes,
          '/flood': (ctx) => {
            for (let i = 0; i < 105; i++) ctx.messages.info(`m${i}`);
            ctx.body = 'flooded';
          },
        },
      });
      const a = agentOf(app);
      await a.get('/flood').expect(200);
      const shown = JSON.parse((await a.get('/read').expect(200)).text) as [
        number,
        string,
        string,
      ][];
      expect(shown.map(([, , text]) => text)).to.deep.equal(
        Array.from({ length: 100 }, (_, i) => `m${i + 5}`),
      );
      expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
        ['max-messages', ['m0', 'm1', 'm2', 'm3', 'm4']],
      ]);
    });

    it('drops the oldest stored messages first when new ones arrive over the limit', async () => {
      const { app, drops } = caseApp({
        kind: 'session-external',
        options: { maxMessages: 3 },
        routes,
      });
      const a = agentOf(app);
      await a.get('/add?m=A&m=B').expect(200);
      await a.get('/add?m=C&m=D').expect(200);
      await a.get('/read').expect(200, json(['B', 'C', 'D']));
      expect(drops).to.have.length(1);
      expect(drops[0]!.reason).to.equal('max-messages');
      expect(drops[0]!.messages).to.deep.equal([
        { level: 25, message: 'A', extraTags: '', html: false },
      ]);
    });

    it('never lets the stored list grow past maxMessages when nobody reads', async () => {
      const { app, store, drops } = caseApp({
        kind: 'session-external',
        options: { maxMessages: 5 },
        routes,
      });
      const a = agentOf(app);
      const lengths: number[] = [];
      for (let i = 0; i < 12; i++) {
        await a.get(`/add?m=x${i}&m=y${i}`).expect(200);
        lengths.push((store!.only().value['messages'] as unknown[]).length);
      }
      expect(lengths).to.deep.equal([2, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
      expect(drops.flatMap((d) => d.messages.map((m) => m.message))).to.deep.equal([
        'x0',
        'y0',
        'x1',
        'y1',
        'x2',
        'y2',
        'x3',
        'y3',
        'x4',
        'y4',
        'x5',
        'y5',
        'x6',
        'y6',
        'x7',
        'y7',
        'x8',
        'y8',
        'x9',
      ]);
      await a.get('/read').expect(200, json(['y9', 'x10', 'y10', 'x11', 'y11']));
    });
  });

  describe('the session replaced or destroyed during the request', () => {
    for (const kind of SESSION_KINDS) {
      describe(`on ${kind} storage`, () => {
        it('shows "You have been logged out." after ctx.session = null, in a fresh session without the old data', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/login').expect(200);
          await a.get('/whoami').expect(200, 'user: ann');
          await a.get('/add?m=Secret').expect(200);
          await a.get('/logout').expect(200, 'logged out');
          await a.get('/whoami').expect(200, 'user: undefined');
          // Unread messages of the old session went with it.
          await a
            .get('/read')
            .expect(200, JSON.stringify([[20, 'info', 'You have been logged out.']]));
        });

        it('keeps the messages the request had already loaded before ctx.session = null', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=Saved').expect(200);
          await a.get('/size-then-logout').expect(200, 'size 1');
          await a.get('/read').expect(
            200,
            JSON.stringify([
              [25, 'success', 'Saved'],
              [20, 'info', 'You have been logged out.'],
            ]),
          );
        });

        it('drops messages pending in the old session on ctx.session = { user } when the request had not loaded them', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/add?m=Please%20log%20in.').expect(200);
          await a.get('/login').expect(200, 'logged in');
          await a.get('/read').expect(200, json(['Welcome, ann.']));
        });

        it('writes messages added around ctx.session = { user } into the new session', async () => {
          const { app } = caseApp({ kind, routes, options: optionsFor(kind) });
          const a = agentOf(app);
          await a.get('/login?m=Signed%20in.').expect(200, 'logged in');
          await a.get('/whoami').expect(200, 'user: ann');
          await a.get('/read').expect(200, json(['Signed in.', 'Welcome, ann.']));
        });
      });
    }

    it('on an external store, logging out keeps the session id and overwrites its data with the messages only', async () => {
      const { app, store } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      await a.get('/login').expect(200);
      const before = store!.only();
      expect(before.value['user']).to.equal('ann');
      await a.get('/logout').expect(200);
      const after = store!.only();
      expect(after.key).to.equal(before.key);
      expect(after.value['user']).to.equal(undefined);
      expect(after.value['messages']).to.deep.equal([[20, 'You have been logged out.']]);
    });

    it('on an external store, ctx.session.regenerate() moves every message to the new session id', async () => {
      const { app, store } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      await a.get('/add?m=Pending').expect(200);
      const before = store!.only().key;
      await a.get('/regenerate').expect(200, 'logged in');
      const after = store!.only();
      expect(after.key).to.not.equal(before);
      await a.get('/whoami').expect(200, 'user: ann');
      await a.get('/read').expect(
        200,
        JSON.stringify([
          [25, 'success', 'Pending'],
          [20, 'info', 'Before regenerate.'],
          [25, 'success', 'Welcome, ann.'],
        ]),
      );
    });
  });

  describe('responses that carry messages are private', () => {
    for (const kind of [...PERSISTENT, 'memory'] as StorageKind[]) {
      it(`marks a page that iterated messages Cache-Control: private, no-store and Vary: Cookie, on ${kind} storage`, async () => {
        const { app } = caseApp({
          kind,
          options: optionsFor(kind),
          routes: {
            '/add-read': (ctx) => {
              add(ctx);
              readJson(ctx);
            },
          },
        });
        const res = await agentOf(app)
          .get('/add-read?m=A')
          .expect(200, json(['A']));
        expect(res.headers['cache-control']).to.equal('private, no-store');
        expect(res.headers['vary']).to.equal('Cookie');
      });
    }

    it('overrides a public Cache-Control and merges Vary on a page that iterated messages', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const res = await a.get('/public-page').expect(200, json(['A']));
      expect(res.headers['cache-control']).to.equal('private, no-store');
      expect(res.headers['vary']).to.equal('Accept-Encoding, Cookie');
    });

    it('leaves a public page that iterated no message cacheable, per cookie', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const res = await agentOf(app).get('/public-page').expect(200, '[]');
      expect(res.headers['cache-control']).to.equal('public, max-age=600');
      expect(res.headers['vary']).to.equal('Accept-Encoding, Cookie');
    });

    it('adds no caching headers to a response that does not touch messages', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const res = await a.get('/untouched').expect(200, 'no messages here');
      expect(res.headers['cache-control']).to.equal(undefined);
      expect(res.headers['vary']).to.equal(undefined);
      expect(setCookieOf(res)).to.deep.equal([]);
    });

    it('marks a ctx.ajax() answer with messages private, no-store, Vary: Cookie and nosniff', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const a = agentOf(app);
      await a.get('/add?m=A').expect(200);
      const res = await a
        .get('/ajax')
        .expect(200, '{"ok":1,"messages":[{"message":"A","tags":"success"}]}');
      expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(res.headers['cache-control']).to.equal('private, no-store');
      expect(res.headers['vary']).to.equal('Cookie');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
    });

    it('marks a ctx.ajax() answer without messages nosniff and Vary: Cookie, not private', async () => {
      const { app } = caseApp({ kind: 'session-cookie', routes });
      const res = await agentOf(app).get('/ajax').expect(200, '{"ok":1}');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['cache-control']).to.equal(undefined);
      expect(res.headers['vary']).to.equal('Cookie');
    });

    const unconsumed: [
      string,
      (a: ReturnType<typeof agentOf>) => Promise<{ headers: Record<string, string> }>,
    ][] = [
      [
        'a prefetch',
        (a) =>
          a
            .get('/read')
            .set('Sec-Purpose', 'prefetch')
            .expect(200, json(['A'])),
      ],
      ['a HEAD request', (a) => a.head('/read').expect(200)],
      ['a 503 answer', (a) => a.get('/read-503').expect(503, json(['A']))],
    ];
    for (const [what, probe] of unconsumed) {
      it(`marks ${what} that showed messages private too, though it consumed nothing`, async () => {
        const { app } = caseApp({ kind: 'session-cookie', routes });
        const a = agentOf(app);
        await a.get('/add?m=A').expect(200);
        const res = await probe(a);
        expect(res.headers['cache-control']).to.equal('private, no-store');
        expect(res.headers['vary']).to.equal('Cookie');
      });
    }
  });
});
