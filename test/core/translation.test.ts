import views from '@ladjs/koa-views';
import { expect } from 'chai';
import type { i18n } from 'i18next';
import Koa, { type Context } from 'koa';
import session from 'koa-session';
import request from 'supertest';

import { templateEnv, VIEWS_DIR } from '../../example/views.js';
import { messages, type Translate } from '../../src/index.js';
import { recordMessages } from '../../src/testing/index.js';
import { agentOf, caseApp, type StorageKind } from '../hardening/helpers.js';
import { useRedis } from '../hardening/redis.js';
import { i18next } from '../node/i18next.js';

// Descriptors and `translate` (docs/translation.md) with a real i18next, in two languages, across
// a redirect where the visitor switches language between the add and the show.

const RESOURCES = {
  en: {
    translation: {
      'vote.recorded_one': 'Vote recorded: {{count}} vote so far.',
      'vote.recorded_other': 'Vote recorded: {{count}} votes so far.',
      'poll.closed': 'The poll “{{question}}” is closed.',
    },
  },
  fr: {
    translation: {
      'vote.recorded_one': 'Vote enregistré : {{count}} vote pour l’instant.',
      'vote.recorded_other': 'Vote enregistré : {{count}} votes pour l’instant.',
      'poll.closed': 'Le sondage « {{question}} » est clos.',
    },
  },
};

async function makeI18n(): Promise<i18n> {
  const instance = i18next.createInstance();
  // koa-messages escapes the translated text itself; i18next escaping values too would double it.
  await instance.init({
    resources: RESOURCES,
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
  });
  return instance;
}

/** The language of a request: its `lang` cookie, else English. */
const langOf = (ctx: Context) => (ctx.cookies.get('lang') === 'fr' ? 'fr' : 'en');

const routes = {
  '/vote': (ctx: Context) => {
    ctx.messages.success({ id: 'vote.recorded', values: { count: 3 } });
    ctx.messages.error({ id: 'poll.closed', values: { question: '<Best> pie?' } });
    ctx.messages.info('Plain text still works.');
    ctx.redirect('/show');
  },
  // Switches the language and reads nothing: the messages stay pending.
  '/lang': (ctx: Context) => {
    ctx.cookies.set('lang', String(ctx.query['to']), { signed: false });
    ctx.body = 'ok';
  },
  '/show': (ctx: Context) => {
    ctx.ajax({});
  },
  '/iterate': (ctx: Context) => {
    ctx.body = [...ctx.messages].map((m) => [String(m), m.descriptor ?? null]);
  },
};

const kinds: StorageKind[] = ['session-cookie', 'session-external', 'cookie', 'fallback', 'redis'];

describe('translated messages', function () {
  this.timeout(20_000);
  const redis = useRedis();
  let translator: i18n;
  let translate: Translate;
  const calls: string[] = [];

  before(async () => {
    translator = await makeI18n();
    translate = (descriptor, ctx) => {
      calls.push(`${descriptor.id}@${langOf(ctx)}`);
      return translator.getFixedT(langOf(ctx))(descriptor.id, { ...descriptor.values });
    };
  });
  beforeEach(() => (calls.length = 0));

  for (const kind of kinds) {
    it(`shows the reader's language after a redirect and a language switch, on ${kind} storage`, async () => {
      const storage = kind === 'redis' ? redis.options() : {};
      const { app, drops } = caseApp({ kind, options: { ...storage, translate }, routes });
      const a = agentOf(app);
      await a.get('/vote').expect(302);
      // Stored as data: nothing was translated in the English request that added them.
      expect(calls).to.deep.equal([]);
      await a.get('/lang').query({ to: 'fr' }).expect(200);
      const res = await a.get('/show').expect(200);
      expect(res.body.messages).to.deep.equal([
        { message: 'Vote enregistré : 3 votes pour l’instant.', tags: 'success' },
        // Escaped after translation, as any text: the value's markup never reaches the page.
        { message: 'Le sondage « &lt;Best&gt; pie? » est clos.', tags: 'error' },
        { message: 'Plain text still works.', tags: 'info' },
      ]);
      expect(calls).to.deep.equal(['vote.recorded@fr', 'poll.closed@fr']);
      // Shown once: the next answer has no messages.
      expect((await a.get('/show').expect(200)).body).to.deep.equal({});
      expect(drops).to.deep.equal([]);
    });
  }

  it('iteration gives the translated text and the descriptor it came from', async () => {
    const { app } = caseApp({ kind: 'session-cookie', options: { translate }, routes });
    const a = agentOf(app);
    await a.get('/vote').expect(302);
    const res = await a.get('/iterate').expect(200);
    expect(res.body).to.deep.equal([
      ['Vote recorded: 3 votes so far.', { id: 'vote.recorded', values: { count: 3 } }],
      [
        'The poll “<Best> pie?” is closed.',
        { id: 'poll.closed', values: { question: '<Best> pie?' } },
      ],
      ['Plain text still works.', null],
    ]);
  });

  it('translates in the htmx HX-Trigger and X-Messages headers', async () => {
    const { app } = caseApp({
      kind: 'session-cookie',
      options: { translate, htmx: true },
      routes: {
        ...routes,
        '/htmx': (ctx: Context) => {
          ctx.messages.success({ id: 'vote.recorded', values: { count: 1 } });
          ctx.body = '<p>partial</p>';
        },
        '/download': (ctx: Context) => {
          ctx.messages.error({ id: 'poll.closed', values: { question: 'Tea & cake?' } });
          ctx.messages.toHeader();
          ctx.status = 204;
        },
      },
    });
    const a = agentOf(app);
    await a.get('/lang').query({ to: 'fr' }).expect(200);
    const htmx = await a.get('/htmx').set('HX-Request', 'true').expect(200);
    expect(JSON.parse(String(htmx.headers['hx-trigger']))).to.deep.equal({
      messages: [{ message: 'Vote enregistré : 1 vote pour l’instant.', tags: 'success' }],
    });
    const download = await a.get('/download').expect(204);
    expect(JSON.parse(String(download.headers['x-messages']))).to.deep.equal({
      messages: [{ message: 'Le sondage « Tea &amp; cake? » est clos.', tags: 'error' }],
    });
  });

  it('renders translated through a nunjucks template, escaped by the template', async () => {
    const app = new Koa();
    app.keys = ['test-key-example-only'];
    app.use(session(app));
    app.use(messages({ translate }));
    app.use(
      views(VIEWS_DIR, {
        extension: 'njk',
        map: { njk: 'nunjucks' },
        options: { nunjucksEnv: templateEnv() },
      }),
    );
    app.use(async (ctx) => {
      if (ctx.path === '/add') {
        ctx.messages.error({ id: 'poll.closed', values: { question: '<script>x</script>' } });
        ctx.redirect('/page');
      } else if (ctx.path === '/lang') {
        ctx.cookies.set('lang', 'fr', { signed: false });
        ctx.body = 'ok';
      } else await ctx.render('_messages');
    });
    const a = request.agent(app.callback());
    await a.get('/add').expect(302);
    await a.get('/lang').expect(200);
    const page = await a.get('/page').expect(200);
    expect(page.text).to.include('Le sondage « &lt;script&gt;x&lt;/script&gt; » est clos.');
    expect(page.text).not.to.include('<script>');
  });

  it('dedupe compares id and values, not the text: the same descriptor is one toast', async () => {
    const { app } = caseApp({
      kind: 'session-cookie',
      options: { translate, dedupe: true },
      routes: {
        ...routes,
        '/twice': (ctx: Context) => {
          ctx.messages.success({ id: 'vote.recorded', values: { count: 3, a: 1 } });
          ctx.messages.success({ id: 'vote.recorded', values: { a: 1, count: 3 } });
          ctx.messages.success({ id: 'vote.recorded', values: { count: 4, a: 1 } });
          // A text that equals a translation is not the descriptor.
          ctx.messages.success('Vote recorded: 4 votes so far.');
          ctx.redirect('/show');
        },
      },
    });
    const { added } = await recordMessages(() => agentOf(app).get('/twice').expect(302));
    expect(added.map((m) => [m.message, m.deduplicated])).to.deep.equal([
      ['Vote recorded: 3 votes so far.', false],
      ['Vote recorded: 3 votes so far.', true],
      ['Vote recorded: 4 votes so far.', false],
      ['Vote recorded: 4 votes so far.', false],
    ]);
  });

  it('a key replaces a pending descriptor message across requests', async () => {
    const { app } = caseApp({
      kind: 'cookie',
      options: { translate },
      routes: {
        ...routes,
        '/count': (ctx: Context) => {
          const count = Number(ctx.query['n']);
          ctx.messages.success({ id: 'vote.recorded', values: { count } }, { key: 'votes' });
          ctx.body = 'ok';
        },
      },
    });
    const a = agentOf(app);
    await a.get('/count').query({ n: 1 }).expect(200);
    await a.get('/count').query({ n: 2 }).expect(200);
    await a.get('/lang').query({ to: 'fr' }).expect(200);
    expect((await a.get('/show').expect(200)).body.messages).to.deep.equal([
      { message: 'Vote enregistré : 2 votes pour l’instant.', tags: 'success' },
    ]);
  });

  it('drops a stored descriptor that fails validation, keeps the rest, never a 500', async () => {
    const { app, store } = caseApp({ kind: 'session-external', options: { translate }, routes });
    const a = agentOf(app);
    await a.get('/vote').expect(302);
    const { key, value } = store!.only();
    const list = value['messages'] as unknown[];
    await store!.set(key, {
      ...value,
      messages: [
        [25, ['vote.recorded', { count: { nested: 1 } }]],
        [25, ['', {}]],
        [25, [42]],
        [25, ['vote.recorded', [1]]],
        ...list,
      ],
    });
    const res = await a.get('/show').expect(200);
    expect(res.body.messages.map((m: { tags: string }) => m.tags)).to.deep.equal([
      'success',
      'error',
      'info',
    ]);
  });

  it('without translate, a stored descriptor shows its id (another deploy wrote it)', async () => {
    const writer = caseApp({ kind: 'session-cookie', options: { translate }, routes });
    const a = agentOf(writer.app);
    const added = await a.get('/vote').expect(302);
    const reader = caseApp({ kind: 'session-cookie', routes });
    const res = await agentOf(reader.app)
      .get('/show')
      .set('Cookie', added.headers['set-cookie'] as unknown as string[])
      .expect(200);
    expect(res.body.messages.map((m: { message: string }) => m.message)).to.deep.equal([
      'vote.recorded',
      'poll.closed',
      'Plain text still works.',
    ]);
  });

  it('a translate that returns no string fails the request, and the messages stay pending', async () => {
    let broken = true;
    const flaky: Translate = (descriptor, ctx) =>
      broken && descriptor.id === 'poll.closed'
        ? (42 as unknown as string)
        : translator.getFixedT(langOf(ctx))(descriptor.id, { ...descriptor.values });
    const { app } = caseApp({ kind: 'session-cookie', options: { translate: flaky }, routes });
    const seen: unknown[] = [];
    app.on('error', (error) => seen.push(error));
    const a = agentOf(app);
    await a.get('/vote').expect(302);
    await a.get('/show').expect(500);
    expect(seen).to.have.length(1);
    expect(seen[0]).to.be.instanceOf(TypeError);
    expect(seen[0]).to.have.property('code', 'ERR_KOA_MESSAGES_OPTION');
    expect((seen[0] as Error).message).to.match(
      /^koa-messages: .*`translate` must return a string, got number/,
    );
    // The failed response delivered nothing: once translate is fixed, all three are shown.
    broken = false;
    const res = await a.get('/show').expect(200);
    expect(res.body.messages.map((m: { tags: string }) => m.tags)).to.deep.equal([
      'success',
      'error',
      'info',
    ]);
  });

  describe('descriptors given to add()', () => {
    // Each bad descriptor's exact error, and that nothing was half done: test/hardening/bad-input.test.ts.

    it('copies the descriptor at add(): changing the object later changes nothing', async () => {
      const { app } = caseApp({
        kind: 'session-cookie',
        options: { translate },
        routes: {
          ...routes,
          '/mutate': (ctx: Context) => {
            const values: Record<string, number> = { count: 1 };
            ctx.messages.success({ id: 'vote.recorded', values });
            values['count'] = 9;
            ctx.redirect('/show');
          },
        },
      });
      const a = agentOf(app);
      await a.get('/mutate').expect(302);
      expect((await a.get('/show').expect(200)).body.messages[0].message).to.equal(
        'Vote recorded: 1 vote so far.',
      );
    });
  });
});
