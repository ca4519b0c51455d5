import { expect } from 'chai';
import type { Context } from 'koa';
import type { Response } from 'supertest';
import request from 'supertest';

import { fallbackStorage, type MessagesOptions } from '../../src/index.js';
import { agent, buildApp } from '../helpers/app.js';
import {
  addFromQuery,
  cookieHeaders,
  cookieValue,
  DELETE_COOKIE,
  forge,
  payloadOf,
  randomText,
  setCookies,
} from '../helpers/cookie.js';

const sessionOf = (ctx: Context) =>
  (ctx as unknown as { session: Record<string, unknown> | null }).session;

/**
 * A fallback-storage app with real koa-session (its default cookie store, or an external one in
 * this process's memory) and the usual routes.
 */
function fallbackApp(
  options: MessagesOptions = {},
  routes: Parameters<typeof buildApp>[0]['routes'] = {},
  sessionStore: 'cookie' | 'external' = 'cookie',
) {
  const data = new Map<string, unknown>();
  return buildApp({
    session:
      sessionStore === 'cookie'
        ? true
        : {
            store: {
              get: (key: string) => data.get(key),
              set: (key: string, value: unknown) => void data.set(key, value),
              destroy: (key: string) => void data.delete(key),
            },
          },
    options: { storage: 'fallback', ...options },
    routes: {
      '/add': addFromQuery,
      '/show': (ctx) => {
        ctx.ajax();
      },
      '/texts': (ctx) => {
        ctx.body = JSON.stringify([...ctx.messages].map((m) => m.message));
      },
      // What the session holds under the messages key, read outside the messages API.
      '/session': (ctx) => {
        ctx.body = JSON.stringify(
          sessionOf(ctx)?.[typeof ctx.query.key === 'string' ? ctx.query.key : 'messages'] ?? null,
        );
      },
      '/seed': (ctx) => {
        sessionOf(ctx)!['messages'] = JSON.parse(String(ctx.query.json));
        ctx.body = 'seeded';
      },
      ...routes,
    },
  });
}

/** The koa-session cookies a response set (a session write), as `name=value` pairs. */
const sessionWrites = (res: Response) => setCookies(res).filter((h) => h.startsWith('koa.sess'));
const pairs = (res: Response) => sessionWrites(res).map((h) => h.split(';')[0]!);

describe('fallback storage', () => {
  it('keeps everything in the cookie when it fits and never writes the session (Django test_no_fallback)', async () => {
    const a = agent(fallbackApp());
    const texts = Array.from({ length: 5 }, (_, i) => String(i).repeat(100));
    const added = await a.post('/add').query({ m: texts }).expect(303);
    expect(payloadOf(cookieValue(added))).to.deep.equal(texts.map((t) => [25, t]));
    expect(sessionWrites(added)).to.deep.equal([]);
    const shown = await a.get('/texts').expect(200);
    expect(shown.text).to.equal(JSON.stringify(texts));
    expect(setCookies(shown)).to.deep.equal([DELETE_COOKIE]);
  });

  it('reads nothing and writes nothing without a cookie (Django test_get_empty)', async () => {
    const res = await request(fallbackApp().callback()).get('/texts').expect(200);
    expect(res.text).to.equal('[]');
    expect(setCookies(res)).to.deep.equal([]);
  });

  it('keeps the oldest in the cookie, spills the newest into the session, reads them back in order and clears both', async () => {
    // Django's test_session_fallback, sizes recomputed as in the cookie test: 4.5 messages' worth.
    const size = Math.floor((1518 - 4) / 4.5) - 8;
    const texts = Array.from({ length: 5 }, () => randomText(size));
    const a = agent(fallbackApp());
    const added = await a.post('/add').query({ m: texts }).expect(303);
    const value = cookieValue(added);
    expect(value.length).to.be.at.most(2048);
    expect(payloadOf(value)).to.deep.equal([...texts.slice(0, 4).map((t) => [25, t]), 0]);
    expect(sessionWrites(added)).to.have.length(2); // koa.sess and koa.sess.sig
    expect((await a.get('/session').expect(200)).text).to.equal(JSON.stringify([[25, texts[4]]]));

    const shown = await a.get('/texts').expect(200);
    expect(shown.text).to.equal(JSON.stringify(texts));
    expect(cookieHeaders(shown)).to.deep.equal([DELETE_COOKIE]);
    expect(sessionWrites(shown)).to.have.length(2);
    expect((await a.get('/session').expect(200)).text).to.equal('null');
    expect((await a.get('/texts').expect(200)).text).to.equal('[]');
  });

  it('puts a message too big for the cookie wholly into the session behind a marker-only cookie (Django test_session_fallback_only)', async () => {
    const big = randomText(5000);
    // An external session store: 5000 characters would not fit koa-session's own cookie either.
    const a = agent(fallbackApp({}, {}, 'external'));
    const added = await a.post('/add').query({ m: big }).expect(303);
    expect(payloadOf(cookieValue(added))).to.deep.equal([0]);
    expect((await a.get('/session').expect(200)).text).to.equal(JSON.stringify([[25, big]]));
    const shown = await a.get('/texts').expect(200);
    expect(shown.text).to.equal(JSON.stringify([big]));
    expect(cookieHeaders(shown)).to.deep.equal([DELETE_COOKIE]);
  });

  it('reads cookie then session for a cookie ending with the marker (Django test_get_fallback)', async () => {
    const app = fallbackApp();
    const seeded = await request(app.callback())
      .get('/seed')
      .query({ json: '[[20,"4"]]' })
      .expect(200);
    const cookies = [
      ...pairs(seeded),
      `messages=${forge('[[20,"0"],[20,"1"],[20,"2"],[20,"3"],0]')}`,
    ].join('; ');
    const res = await request(app.callback()).get('/texts').set('Cookie', cookies).expect(200);
    expect(res.text).to.equal('["0","1","2","3","4"]');
    expect(cookieHeaders(res)).to.deep.equal([DELETE_COOKIE]);
    expect(sessionWrites(res)).to.have.length(2);
  });

  it('does not read the session unless the cookie ends with the marker (Django test_get)', async () => {
    const app = fallbackApp();
    const seeded = await request(app.callback())
      .get('/seed')
      .query({ json: '[[20,"stale"]]' })
      .expect(200);
    const cookies = [...pairs(seeded), `messages=${forge('[[20,"from the cookie"]]')}`].join('; ');
    const res = await request(app.callback()).get('/texts').set('Cookie', cookies).expect(200);
    expect(res.text).to.equal('["from the cookie"]');
    // The session was not emptied either: it was never looked at.
    expect(sessionWrites(res)).to.deep.equal([]);
  });

  it('does not touch the session when new messages fit, even if it holds old overflow the cookie no longer points to', async () => {
    const a = agent(fallbackApp());
    await a.get('/seed').query({ json: '[[20,"stale"]]' }).expect(200);
    const added = await a.post('/add').query({ m: 'fresh' }).expect(303);
    expect(sessionWrites(added)).to.deep.equal([]);
    expect((await a.get('/texts').expect(200)).text).to.equal('["fresh"]');
  });

  it('ignores and deletes a bad cookie without reading the session', async () => {
    const app = fallbackApp();
    const seeded = await request(app.callback())
      .get('/seed')
      .query({ json: '[[20,"secret overflow"]]' })
      .expect(200);
    const tampered = forge('[[20,"x"],0]', 'attacker-key-example-only');
    const res = await request(app.callback())
      .get('/show')
      .set('Cookie', [...pairs(seeded), `messages=${tampered}`].join('; '))
      .expect(200);
    expect(res.text).to.equal('{}');
    expect(setCookies(res)).to.deep.equal([DELETE_COOKIE]);
  });

  it('deletes a marker-only cookie whose session part is gone', async () => {
    const res = await request(fallbackApp().callback())
      .get('/show')
      .set('Cookie', `messages=${forge('[0]')}`)
      .expect(200);
    expect(res.text).to.equal('{}');
    expect(setCookies(res)).to.deep.equal([DELETE_COOKIE]);
  });

  it('keeps the order across requests that add without reading, moving overflow between cookie and session', async () => {
    const texts = Array.from({ length: 5 }, (_, i) => `${i}:${randomText(600)}`);
    const a = agent(fallbackApp());
    const first = await a
      .post('/add')
      .query({ m: texts.slice(0, 3) })
      .expect(303);
    expect(payloadOf(cookieValue(first))).to.deep.equal([[25, texts[0]], [25, texts[1]], 0]);
    const second = await a
      .post('/add')
      .query({ m: texts.slice(3) })
      .expect(303);
    expect(payloadOf(cookieValue(second))).to.deep.equal([[25, texts[0]], [25, texts[1]], 0]);
    expect((await a.get('/session').expect(200)).text).to.equal(
      JSON.stringify(texts.slice(2).map((t) => [25, t])),
    );
    expect((await a.get('/texts').expect(200)).text).to.equal(JSON.stringify(texts));
  });

  it('empties the session once the rest fits in the cookie again', async () => {
    const a = agent(
      fallbackApp(
        {},
        {
          // Reads, keeps everything (`used = false`) and adds a short one: nothing is consumed.
          '/keep': (ctx) => {
            ctx.body = [...ctx.messages].length;
            ctx.messages.used = false;
          },
          // Consumes the messages and adds one that fits: only it remains, in the cookie.
          '/replace': (ctx) => {
            ctx.body = [...ctx.messages].length;
            ctx.messages.info('short');
          },
        },
      ),
    );
    await a
      .post('/add')
      .query({ m: [randomText(1000), randomText(1000)] })
      .expect(303);
    expect(JSON.parse((await a.get('/session').expect(200)).text)).to.have.length(1);
    const kept = await a.get('/keep').expect(200);
    expect(kept.text).to.equal('2');
    expect(setCookies(kept)).to.deep.equal([]);
    const replaced = await a.get('/replace').expect(200);
    expect(replaced.text).to.equal('2');
    expect(payloadOf(cookieValue(replaced))).to.deep.equal([[20, 'short']]);
    expect((await a.get('/session').expect(200)).text).to.equal('null');
  });

  it('puts overflow into a fresh session when the handler logged the visitor out', async () => {
    const big = randomText(3000);
    const a = agent(
      fallbackApp(
        {},
        {
          '/logout': (ctx) => {
            (ctx as unknown as { session: null }).session = null;
            ctx.messages.info(big);
            ctx.body = 'bye';
          },
        },
      ),
    );
    await a.get('/seed').query({ json: '[]' }).expect(200);
    const out = await a.post('/logout').expect(200);
    expect(payloadOf(cookieValue(out))).to.deep.equal([0]);
    expect((await a.get('/texts').expect(200)).text).to.equal(JSON.stringify([big]));
  });

  it('does not lose cookie or session messages read by a request that then failed', async () => {
    const texts = [randomText(1200), randomText(1200)];
    const a = agent(
      fallbackApp(
        {},
        {
          '/crash': (ctx) => {
            ctx.body = [...ctx.messages].length;
            throw new Error('template crashed');
          },
        },
      ),
    );
    await a.post('/add').query({ m: texts }).expect(303);
    const failed = await a.get('/crash').expect(500);
    expect(setCookies(failed)).to.deep.equal([]);
    expect((await a.get('/texts').expect(200)).text).to.equal(JSON.stringify(texts));
  });

  it('uses the configured session key and cookie options', async () => {
    const a = agent(
      fallbackApp({
        storage: fallbackStorage({ sessionKey: 'flash', cookie: { name: 'notes', maxSize: 256 } }),
      }),
    );
    const texts = ['first message, in the cookie', randomText(300)];
    const added = await a.post('/add').query({ m: texts }).expect(303);
    expect(payloadOf(cookieValue(added, 'notes'))).to.deep.equal([[25, texts[0]], 0]);
    expect((await a.get('/session').query({ key: 'flash' }).expect(200)).text).to.equal(
      JSON.stringify([[25, texts[1]]]),
    );
    expect((await a.get('/texts').expect(200)).text).to.equal(JSON.stringify(texts));
  });

  it('takes a fallbackStorage() instance as the storage option', async () => {
    const a = agent(
      fallbackApp({ storage: fallbackStorage({ sessionKey: 'overflow' }) }, {}, 'external'),
    );
    const big = randomText(3000);
    await a.post('/add').query({ m: big }).expect(303);
    expect((await a.get('/session').query({ key: 'overflow' }).expect(200)).text).to.equal(
      JSON.stringify([[25, big]]),
    );
  });

  it('rejects unknown fallbackStorage() options, a session key koa-session would not save, and bad cookie options', () => {
    expect(() => fallbackStorage({ sesionKey: 'x' } as never)).to.throw(
      TypeError,
      'koa-messages: invalid fallbackStorage() options: unknown option `sesionKey`.',
    );
    expect(() => fallbackStorage({ sessionKey: '_messages' })).to.throw(
      TypeError,
      "koa-messages: invalid fallbackStorage() options: option `sessionKey` must not start with '_': koa-session does not save such keys.",
    );
    expect(() => fallbackStorage({ cookie: { maxSize: 64 } })).to.throw(
      TypeError,
      'koa-messages: invalid fallbackStorage() options: option `cookie.maxSize` must be an integer from 128 to 4096 (bytes of cookie value).',
    );
  });

  it('fails with a TypeError at first use without koa-session', async () => {
    const app = buildApp({
      session: false,
      options: { storage: 'fallback' },
      routes: { '/add': addFromQuery, '/none': (ctx) => void (ctx.body = 'ok') },
    });
    const errors: Error[] = [];
    app.on('error', (error: Error) => errors.push(error));
    await request(app.callback()).get('/none').expect(200);
    await request(app.callback()).post('/add').query({ m: 'x' }).expect(500);
    expect(errors.map((e) => `${e.name}: ${e.message}`)).to.deep.equal([
      'TypeError: koa-messages: storage `fallback` needs koa-session, and ctx.session is undefined. ' +
        "Install it before messages(): app.use(session(app)); app.use(messages({ storage: 'fallback' }));",
    ]);
  });
});
