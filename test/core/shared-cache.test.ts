import { expect } from 'chai';
import Koa, { type Middleware } from 'koa';
import session from 'koa-session';

import { cookieStorage, messages, type MessagesOptions } from '../../src/index.js';
import { TEST_KEYS } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';

/**
 * A shared cache in front of the app, as a CDN or a reverse proxy that is told `public` would be:
 * it keys GET responses by URL plus the request headers the response's `Vary` names, stores every
 * header (Set-Cookie too: some CDNs do), and refuses what is `private` or `no-store`.
 */
function sharedCache(): { middleware: Middleware; hits: () => number } {
  const entries = new Map<
    string,
    {
      vary: string[];
      key: string;
      status: number;
      headers: Record<string, unknown>;
      body: string;
    }[]
  >();
  let hits = 0;
  const keyOf = (ctx: Koa.Context, vary: string[]) =>
    vary.map((name) => `${name}=${ctx.get(name)}`).join('\n');
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.method !== 'GET') return next();
    for (const entry of entries.get(ctx.url) ?? []) {
      if (entry.key !== keyOf(ctx, entry.vary)) continue;
      hits += 1;
      ctx.status = entry.status;
      ctx.set(entry.headers as Record<string, string>);
      ctx.body = entry.body;
      return;
    }
    await next();
    const cacheControl = String(ctx.response.get('Cache-Control'));
    if (!/\bpublic\b/.test(cacheControl) || /\b(private|no-store)\b/.test(cacheControl)) return;
    const vary = String(ctx.response.get('Vary'))
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== '');
    if (vary.includes('*')) return;
    const body = typeof ctx.body === 'string' ? ctx.body : JSON.stringify(ctx.body);
    const list = entries.get(ctx.url) ?? [];
    list.push({
      vary,
      key: keyOf(ctx, vary),
      status: ctx.status,
      headers: { ...ctx.response.headers },
      body,
    });
    entries.set(ctx.url, list);
  };
  return { middleware, hits: () => hits };
}

/** Routes that all say `public, max-age=60`, as a handler that does not think about messages would. */
function cachedApp(options: MessagesOptions, withSession: boolean) {
  const app = new Koa();
  app.keys = TEST_KEYS;
  app.silent = true;
  const cache = sharedCache();
  app.use(cache.middleware);
  if (withSession) app.use(session(app));
  app.use(messages(options));
  app.use((ctx) => {
    ctx.set('Cache-Control', 'public, max-age=60');
    if (ctx.path === '/add') {
      ctx.messages.success('Welcome back, Ann.');
      ctx.body = 'added';
    } else if (ctx.path === '/page') {
      ctx.body = [...ctx.messages].map((m) => m.message).join('|') || 'no messages';
    } else if (ctx.path === '/count') {
      ctx.body = `${ctx.messages.size} pending`;
    } else if (ctx.path === '/ajax') {
      ctx.ajax({ ok: 1 });
    } else {
      ctx.body = 'static page';
    }
  });
  return { app, cache };
}

const setups: [string, MessagesOptions, boolean][] = [
  ['session', {}, true],
  ['cookie', { storage: cookieStorage() }, false],
  ['fallback', { storage: 'fallback' }, true],
];

describe('behind a shared cache, no visitor ever gets another visitor’s message', () => {
  for (const [name, options, withSession] of setups) {
    describe(`storage ${name}`, () => {
      it('never stores a response that only adds a message (its Set-Cookie carries it)', async () => {
        const { app, cache } = cachedApp(options, withSession);
        const ann = new Browser(app);
        const res = await ann.go('get', '/add');
        expect(res.headers['cache-control']).to.equal('private, no-store');
        expect(res.headers['vary']).to.equal('Cookie');
        const bob = new Browser(app);
        await bob.go('get', '/add');
        // Bob's request reached the app (his own cookie, not Ann's copy), and his page shows his own.
        expect(cache.hits()).to.equal(0);
        expect((await bob.go('get', '/page')).text).to.equal('Welcome back, Ann.');
        expect((await new Browser(app).go('get', '/page')).text).to.equal('no messages');
      });

      it('never stores a page that shows messages', async () => {
        const { app, cache } = cachedApp(options, withSession);
        const ann = new Browser(app);
        await ann.go('get', '/add');
        const shown = await ann.go('get', '/page');
        expect(shown.text).to.equal('Welcome back, Ann.');
        expect(shown.headers['cache-control']).to.equal('private, no-store');
        expect((await new Browser(app).go('get', '/page')).text).to.equal('no messages');
        expect(cache.hits()).to.equal(0);
      });

      it('stores a page that looked for messages and found none only per cookie', async () => {
        const { app, cache } = cachedApp(options, withSession);
        const carol = new Browser(app);
        const empty = await carol.go('get', '/count');
        expect(empty.text).to.equal('0 pending');
        expect(empty.headers['cache-control']).to.equal('public, max-age=60');
        expect(empty.headers['vary']).to.equal('Cookie');
        // Ann has a message pending: her Cookie differs, so she is not served Carol's copy.
        const ann = new Browser(app);
        await ann.go('get', '/add');
        expect((await ann.go('get', '/count')).text).to.equal('1 pending');
        // Carol again, same cookies: a hit is fine, it is her own page.
        expect((await carol.go('get', '/count')).text).to.equal('0 pending');
        expect(cache.hits()).to.equal(1);
      });

      it('keeps every header of a response that never touches messages, and caches it', async () => {
        const { app, cache } = cachedApp(options, withSession);
        const res = await new Browser(app).go('get', '/static');
        expect(res.headers['cache-control']).to.equal('public, max-age=60');
        expect(res.headers['vary']).to.equal(undefined);
        expect(res.headers['set-cookie']).to.equal(undefined);
        await new Browser(app).go('get', '/static');
        expect(cache.hits()).to.equal(1);
      });

      it('never stores a ctx.ajax() answer that carries messages', async () => {
        const { app, cache } = cachedApp(options, withSession);
        const ann = new Browser(app);
        await ann.go('get', '/add');
        expect((await ann.go('get', '/ajax')).text).to.equal(
          '{"ok":1,"messages":[{"message":"Welcome back, Ann.","tags":"success"}]}',
        );
        expect((await new Browser(app).go('get', '/ajax')).text).to.equal('{"ok":1}');
        expect(cache.hits()).to.equal(0);
      });
    });
  }
});
