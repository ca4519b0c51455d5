import { createRequire } from 'node:module';

import { expect } from 'chai';
import Koa, { type Context } from 'koa';
import session from 'koa-session';
import request from 'supertest';

/**
 * koa-messages relies on a few internals of other packages (docs/contributing/architecture.md, "Reaches into
 * other packages"). Each is pinned here: when a new version of the package changes it, this fails
 * with a sentence naming the package and version, before anything subtler breaks.
 */
const require = createRequire(import.meta.url);
const versionOf = (name: string): string =>
  (require(`${name}/package.json`) as { version: string }).version;

/** Run one request through `app` and hand its ctx (as the handler saw it) to `inspect`. */
async function withContext(app: Koa, inspect: (ctx: Context) => void): Promise<void> {
  const failures: unknown[] = [];
  app.use((ctx) => {
    try {
      inspect(ctx);
    } catch (error) {
      failures.push(error);
    }
    ctx.body = 'ok';
  });
  await request(app.callback()).get('/').expect(200);
  if (failures.length > 0) throw failures[0];
}

describe('contracts with the internals of other packages', () => {
  it('koa-session keeps its per-request ContextSession as an own symbol property of ctx, made before next() (the session order check)', async () => {
    const app = new Koa();
    app.keys = ['contract-test-key-example'];
    app.use(session(app));
    await withContext(app, (ctx) => {
      const found = Object.getOwnPropertySymbols(ctx).some((key) => {
        const value = (ctx as unknown as Record<symbol, { ctx?: unknown; commit?: unknown }>)[key];
        return value?.ctx === ctx && typeof value.commit === 'function';
      });
      expect(
        found,
        `koa-session ${versionOf('koa-session')} no longer keeps a ContextSession (with ctx and commit()) as an own symbol property of ctx before calling next(): src/storage/session.ts sessionStarted() must change`,
      ).to.equal(true);
    });
  });

  it('koa-session exposes ctx.sessionOptions (key, store, encode, autoCommit) and ctx.session.manuallyCommit()', async () => {
    const app = new Koa();
    app.keys = ['contract-test-key-example'];
    app.use(session(app));
    await withContext(app, (ctx) => {
      const options = (ctx as unknown as { sessionOptions?: Record<string, unknown> })
        .sessionOptions;
      const message = `koa-session ${versionOf('koa-session')} changed ctx.sessionOptions or the Session object: src/storage/session-cookie.ts (the cookie budget, the commit of a failed request) must change`;
      expect(options, message).to.be.an('object');
      expect(options!['key'], message).to.equal('koa.sess');
      expect(options!['encode'], message).to.be.a('function');
      expect(options!['autoCommit'], message).to.equal(true);
      expect('store' in options!, message).to.equal(false);
      const sess = (ctx as unknown as { session: { manuallyCommit?: unknown } }).session;
      expect(sess.manuallyCommit, message).to.be.a('function');
    });
  });

  it("koa's lib/context.js is the prototype every app's context inherits from (ctx.messages before the first request)", async () => {
    // Imported, not required: the Koa 2 run maps `koa/…` to Koa 2 through an import hook.
    const specifier = 'koa/lib/context.js'; // untyped: no declaration file
    const proto: unknown = ((await import(specifier)) as { default: unknown }).default;
    const app = new Koa();
    const koa = process.env['KOA_MAJOR'] === '2' ? 'koa2' : 'koa';
    expect(
      Object.getPrototypeOf(app.context),
      `koa ${versionOf(koa)} no longer builds app.context on lib/context.js: src/middleware.ts sharedKoaContext() must change`,
    ).to.equal(proto);
  });

  it("the cookies package keeps the app's keys as ctx.cookies.keys (the Redis storage's one-HMAC check)", async () => {
    const app = new Koa();
    app.keys = ['contract-test-key-example'];
    await withContext(app, (ctx) => {
      const keys = (ctx.cookies as unknown as { keys?: { sign?: unknown } }).keys;
      expect(
        typeof keys?.sign,
        `cookies ${versionOf('cookies')} no longer exposes ctx.cookies.keys with sign(): src/storage/redis/visitor.ts keysOf() must change`,
      ).to.equal('function');
    });
  });
});
