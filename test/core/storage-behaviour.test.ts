import { expect } from 'chai';
import type { Context } from 'koa';

import { LEVELS } from '../../src/index.js';
import { agent, buildApp } from '../helpers/app.js';
import { PERSISTENT_STORAGES } from '../helpers/storages.js';

// Django's tests/messages_tests/base.py (BaseTests), through real HTTP, for every persistent storage.

/** Levels by name, as Django's test URLconf takes them. */
function levelOf(name: string): number {
  return LEVELS[name as keyof typeof LEVELS];
}

function list(ctx: Context): string {
  return JSON.stringify([...ctx.messages].map((m) => [m.level, m.message, m.tags]));
}

const queryAll = (ctx: Context, key: string): string[] => {
  const value = ctx.query[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};

for (const { name, options } of PERSISTENT_STORAGES) {
  describe(`storage behaviour (Django BaseTests): ${name}`, () => {
    const routes = {
      // add/<level>/: every `m` at that level, then redirect to show/ (303, as after a POST).
      '/add/:level': (ctx: Context) => {
        for (const text of queryAll(ctx, 'm')) ctx.messages.add(levelOf(ctx.params.level), text);
        ctx.status = 303;
        ctx.redirect('/show');
      },
      '/show': (ctx: Context) => {
        ctx.body = list(ctx);
      },
      '/count': (ctx: Context) => {
        ctx.body = String(ctx.messages.size);
      },
      '/ignore': (ctx: Context) => {
        ctx.body = 'nothing';
      },
    };

    it('carries five messages at each level across a redirect, in order, and shows them once', async () => {
      const a = agent(buildApp({ options: { ...options, level: 'debug' }, routes }));
      for (const level of ['debug', 'info', 'success', 'warning', 'error'] as const) {
        const texts = [0, 1, 2, 3, 4].map((i) => `Test message ${i}`);
        const add = await a.post(`/add/${level}`).query({ m: texts }).expect(303);
        expect(add.headers['location']).to.equal('/show');
        const shown = await a.get('/show').expect(200);
        expect(shown.text).to.equal(JSON.stringify(texts.map((t) => [LEVELS[level], t, level])));
        const again = await a.get('/show').expect(200);
        expect(again.text).to.equal('[]');
      }
    });

    it('lists 25 messages from five POSTs in POST order on one GET', async () => {
      const a = agent(buildApp({ options: { ...options, level: 'debug' }, routes }));
      const expected: unknown[] = [];
      for (const level of ['debug', 'info', 'success', 'warning', 'error'] as const) {
        const texts = [0, 1, 2, 3, 4].map((i) => `${level} ${i}`);
        await a.post(`/add/${level}`).query({ m: texts }).expect(303);
        expected.push(...texts.map((t) => [LEVELS[level], t, level]));
      }
      expect((await a.get('/show')).text).to.equal(JSON.stringify(expected));
    });

    it('stores the same text twice when it is added twice', async () => {
      const a = agent(buildApp({ options, routes }));
      await a
        .post('/add/info')
        .query({ m: ['Test message 1', 'Test message 1'] })
        .expect(303);
      expect((await a.get('/show')).text).to.equal(
        '[[20,"Test message 1","info"],[20,"Test message 1","info"]]',
      );
    });

    it('keeps unread messages through requests that add without reading', async () => {
      const a = agent(buildApp({ options, routes }));
      await a.post('/add/info').query({ m: 'A' });
      await a.post('/add/info').query({ m: 'B' });
      await a.get('/ignore').expect(200, 'nothing');
      expect((await a.get('/show')).text).to.equal('[[20,"A","info"],[20,"B","info"]]');
      expect((await a.get('/show')).text).to.equal('[]');
    });

    it('does not consume messages when only their count is read', async () => {
      const a = agent(buildApp({ options, routes }));
      await a.post('/add/warning').query({ m: 'Careful' });
      expect((await a.get('/count')).text).to.equal('1');
      expect((await a.get('/count')).text).to.equal('1');
      expect((await a.get('/show')).text).to.equal('[[30,"Careful","warning"]]');
      expect((await a.get('/count')).text).to.equal('0');
    });

    it('drops everything read, then keeps only what was added after the read', async () => {
      const app = buildApp({
        options,
        routes: {
          ...routes,
          '/read-then-add': (ctx: Context) => {
            const seen = list(ctx);
            ctx.messages.info('Added after reading');
            ctx.body = seen;
          },
          '/add-then-read': (ctx: Context) => {
            ctx.messages.info('Added before reading');
            ctx.body = list(ctx);
          },
        },
      });
      const a = agent(app);
      await a.post('/add/info').query({ m: ['Test message 1', 'Test message 2'] });
      expect((await a.get('/read-then-add')).text).to.equal(
        '[[20,"Test message 1","info"],[20,"Test message 2","info"]]',
      );
      expect((await a.get('/show')).text).to.equal('[[20,"Added after reading","info"]]');

      await a.post('/add/info').query({ m: ['Test message 1', 'Test message 2'] });
      expect((await a.get('/add-then-read')).text).to.equal(
        '[[20,"Test message 1","info"],[20,"Test message 2","info"],[20,"Added before reading","info"]]',
      );
      expect((await a.get('/show')).text).to.equal('[]');
    });

    it('keeps everything for the next request when `used` is set back to false after reading', async () => {
      const app = buildApp({
        options,
        routes: {
          ...routes,
          '/peek': (ctx: Context) => {
            const seen = list(ctx);
            ctx.messages.used = false;
            ctx.body = seen;
          },
          '/peek-and-add': (ctx: Context) => {
            const seen = list(ctx);
            ctx.messages.used = false;
            ctx.messages.info('B');
            ctx.body = seen;
          },
        },
      });
      const a = agent(app);
      await a.post('/add/info').query({ m: 'A' });
      expect((await a.get('/peek')).text).to.equal('[[20,"A","info"]]');
      expect((await a.get('/peek-and-add')).text).to.equal('[[20,"A","info"]]');
      expect((await a.get('/show')).text).to.equal('[[20,"A","info"],[20,"B","info"]]');
      expect((await a.get('/show')).text).to.equal('[]');
    });

    it('drops stored messages without reading them when `used` is set to true, keeping new ones', async () => {
      const app = buildApp({
        options,
        routes: {
          ...routes,
          '/dismiss': (ctx: Context) => {
            ctx.messages.used = true;
            ctx.messages.info('Fresh');
            ctx.body = 'ok';
          },
        },
      });
      const a = agent(app);
      await a.post('/add/info').query({ m: 'Stale' });
      await a.get('/dismiss').expect(200);
      expect((await a.get('/show')).text).to.equal('[[20,"Fresh","info"]]');
    });

    it('writes nothing on a request that neither adds nor reads', async () => {
      const a = agent(buildApp({ options, routes }));
      await a.post('/add/info').query({ m: 'Pending' });
      const res = await a.get('/ignore').expect(200);
      expect(res.headers['set-cookie']).to.equal(undefined);
      expect((await a.get('/show')).text).to.equal('[[20,"Pending","info"]]');
    });

    it('answers the show page with no Set-Cookie at all for a visitor who never had messages', async () => {
      const a = agent(buildApp({ options, routes }));
      const res = await a.get('/show').expect(200, '[]');
      expect(res.headers['set-cookie']).to.equal(undefined);
    });
  });
}
