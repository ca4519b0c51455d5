import { expect } from 'chai';
import Koa, { type Context } from 'koa';
import request from 'supertest';

import { messages, sessionStorage } from '../../src/index.js';
import { agent, buildApp, readAll } from '../helpers/app.js';

describe("storage: 'session'", () => {
  const routes = {
    '/add': (ctx: Context) => {
      ctx.messages.info(String(ctx.query['m'] ?? 'Hello'));
      ctx.status = 204;
    },
    '/read': (ctx: Context) => {
      ctx.body = readAll(ctx);
    },
    '/raw': (ctx: Context) => {
      ctx.body = JSON.stringify(
        (ctx as unknown as { session: Record<string, unknown> }).session['flash'] ?? null,
      );
    },
    '/plant': (ctx: Context) => {
      // What another app, an old deploy or a hand-edited store might have left under the key.
      (ctx as unknown as { session: Record<string, unknown> }).session['flash'] = JSON.parse(
        String(ctx.query['v']),
      );
      ctx.status = 204;
    },
  };

  it('keeps messages under the session key as compact tuples', async () => {
    const a = agent(buildApp({ options: { storage: sessionStorage({ key: 'flash' }) }, routes }));
    await a.get('/add').query({ m: 'Saved.' }).expect(204);
    expect((await a.get('/raw')).text).to.equal('[[20,"Saved."]]');
    expect((await a.get('/read')).text).to.equal('20:info:Saved.');
    expect((await a.get('/raw')).text).to.equal('null');
  });

  it('drops malformed entries from the session, keeps the valid ones, and cleans the key', async () => {
    const a = agent(buildApp({ options: { storage: sessionStorage({ key: 'flash' }) }, routes }));
    const planted = [
      [20, 'ok'],
      [20],
      'text',
      null,
      { level: 20 },
      [1.5, 'x'],
      [20, 5],
      [20, ''],
      [30, 'warn', 'tag', 1],
      [20, 'y', 'z', 2],
    ];
    await a
      .get('/plant')
      .query({ v: JSON.stringify(planted) })
      .expect(204);
    expect((await a.get('/read')).text).to.equal('20:info:ok|30:tag warning:warn');
    expect((await a.get('/raw')).text).to.equal('null');
  });

  for (const garbage of [
    '"a string"',
    '{"__proto__":{"polluted":1}}',
    '42',
    'true',
    '{"length":3}',
  ]) {
    it(`treats ${garbage} under the key as no messages, answers 200 and removes it once read`, async () => {
      const a = agent(buildApp({ options: { storage: sessionStorage({ key: 'flash' }) }, routes }));
      await a.get('/plant').query({ v: garbage }).expect(204);
      expect((await a.get('/read').expect(200)).text).to.equal('');
      expect((await a.get('/raw')).text).to.equal('null');
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    });
  }

  it('appends new messages to cleaned stored ones when the request adds without reading', async () => {
    const a = agent(buildApp({ options: { storage: sessionStorage({ key: 'flash' }) }, routes }));
    await a
      .get('/plant')
      .query({ v: JSON.stringify([[20, 'old'], 'junk']) })
      .expect(204);
    await a.get('/add').query({ m: 'new' }).expect(204);
    expect((await a.get('/raw')).text).to.equal('[[20,"old"],[20,"new"]]');
  });

  it('fails the request with an error naming koa-session and the app.use order when no session is installed', async () => {
    const app = buildApp({ session: false, routes });
    const errors: Error[] = [];
    app.on('error', (error: Error) => errors.push(error));
    await request(app.callback()).get('/add').expect(500);
    expect(errors.map((e) => `${e.name}: ${e.message}`)).to.deep.equal([
      'TypeError: koa-messages: storage `session` needs koa-session, and ctx.session is undefined. ' +
        'Install it before messages(): app.use(session(app)); app.use(messages());',
    ]);
  });

  it('needs no session for a request that does not touch messages', async () => {
    const app = buildApp({ session: false, routes: { '/': (ctx) => (ctx.body = 'fine') } });
    await request(app.callback()).get('/').expect(200, 'fine');
  });
});

describe('messages() middleware wiring', () => {
  it('explains the app.use order when ctx.messages is read before messages() ran', async () => {
    const app = new Koa();
    app.silent = true;
    const errors: string[] = [];
    app.on('error', (error: Error) => errors.push(error.message));
    app.use(async (ctx, next) => {
      if (ctx.path === '/early') ctx.messages.info('too early');
      await next();
    });
    app.use(messages({ storage: 'memory' }));
    app.use((ctx) => {
      ctx.body = 'ok';
    });
    const client = request(app.callback());
    await client.get('/warm').expect(200, 'ok');
    await client.get('/early').expect(500);
    expect(errors).to.deep.equal([
      'koa-messages: ctx.messages was used where messages() middleware has not run; ' +
        'app.use(messages()) must come before the middleware or router that uses it.',
    ]);
  });

  it('lets an inner messages() defer to the outer one, so one store serves the request', async () => {
    const app = new Koa();
    app.use(messages({ storage: 'memory' }));
    app.use(async (ctx, next) => {
      ctx.messages.info('outer');
      await next();
    });
    app.use(messages({ storage: 'memory' }));
    app.use((ctx) => {
      ctx.messages.info('inner');
      ctx.ajax();
    });
    const res = await request(app.callback()).get('/').expect(200);
    expect(res.text).to.equal(
      '{"messages":[{"message":"outer","tags":"info"},{"message":"inner","tags":"info"}]}',
    );
  });
});
