import { AssertionError } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import Keygrip from 'keygrip';
import Koa from 'koa';
import request from 'supertest';

import { messages } from '../src/index.js';
import { assertMessages, messagesOf } from '../src/testing/index.js';
import { agent, buildApp, TEST_KEYS } from './helpers/app.js';
import { addFromQuery, forge, randomText } from './helpers/cookie.js';

const routes = {
  '/add': addFromQuery,
  '/show': (ctx: Koa.Context) => {
    ctx.ajax({ page: 'show' });
  },
  '/html': (ctx: Koa.Context) => {
    ctx.body = '<p>no JSON here</p>';
  },
};

const ajaxApp = () => buildApp({ routes });
const cookieApp = (storage: 'cookie' | 'fallback' = 'cookie') =>
  buildApp({ session: storage === 'fallback', options: { storage }, routes });

/** What a failed assertion threw, for a look at its fields. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('koa-messages/testing', () => {
  describe('messagesOf()', () => {
    it('reads the messages of a ctx.ajax() body, extra tags included', async () => {
      const a = agent(ajaxApp());
      await a.get('/add?m=Saved.&m=Twice.&tags=sticky').expect(303);
      const res = await a.get('/show').expect(200);
      expect(messagesOf(res)).to.deep.equal([
        { message: 'Saved.', tags: 'sticky success' },
        { message: 'Twice.', tags: 'sticky success' },
      ]);
      expect(messagesOf(await a.get('/show'))).to.deep.equal([]);
    });

    it('reads the messages cookie of the cookie storage, verified with the keys', async () => {
      const res = await request(cookieApp().callback())
        .get('/add?m=Saved.&level=warning')
        .expect(303);
      expect(messagesOf(res, { keys: TEST_KEYS })).to.deep.equal([
        { message: 'Saved.', tags: 'warning' },
      ]);
      // The same response without keys: a redirect is not a JSON answer.
      expect(() => messagesOf(res)).to.throw(AssertionError, /not JSON/);
    });

    it('reads the cookie part of the fallback storage, and refuses a cookie whose rest is in the session', async () => {
      const a = agent(cookieApp('fallback'));
      const fits = await a.get('/add?m=Saved.').expect(303);
      expect(messagesOf(fits, { keys: TEST_KEYS })).to.deep.equal([
        { message: 'Saved.', tags: 'success' },
      ]);
      const big = `/add?${Array.from({ length: 5 }, () => `m=${randomText(600)}`).join('&')}`;
      const overflow = await a.get(big).expect(303);
      expect(() => messagesOf(overflow, { keys: TEST_KEYS })).to.throw(
        AssertionError,
        /not-finished marker/,
      );
    });

    it('gives [] for a response that deletes the cookie or sets none', async () => {
      const a = agent(cookieApp());
      await a.get('/add?m=Saved.').expect(303);
      const shown = await a.get('/show').expect(200);
      expect(shown.headers['set-cookie']).to.have.length(1); // the deletion
      expect(messagesOf(shown, { keys: TEST_KEYS })).to.deep.equal([]);
      expect(messagesOf(await a.get('/html'), { keys: TEST_KEYS })).to.deep.equal([]);
    });

    it('fails on a cookie that other keys signed, and verifies with a Keygrip too', async () => {
      const res = await request(cookieApp().callback()).get('/add?m=Saved.').expect(303);
      expect(() => messagesOf(res, { keys: ['another-example-key'] })).to.throw(
        AssertionError,
        /does not verify/,
      );
      const app = cookieApp();
      app.keys = new Keygrip(TEST_KEYS, 'sha256') as unknown as string[];
      const signed = await request(app.callback()).get('/add?m=Saved.').expect(303);
      expect(
        messagesOf(signed, { keys: new Keygrip(TEST_KEYS, 'sha256') }).map((m) => m.message),
      ).to.deep.equal(['Saved.']);
    });

    it('fails on a forged cookie whose entries are not messages', () => {
      const res = {
        headers: { 'set-cookie': [`messages=${forge('[[25,""]]')}; path=/`] },
      };
      expect(() => messagesOf(res, { keys: TEST_KEYS })).to.throw(AssertionError, /not verify/);
    });

    it('reads a fetch Response through a Promise, leaving its body for the test', async () => {
      const server = ajaxApp().listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const added = await fetch(`${base}/add?m=Saved.`, { redirect: 'manual' });
        const cookie = added.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; ');
        const res = await fetch(`${base}/show`, { headers: { cookie } });
        expect(await messagesOf(res)).to.deep.equal([{ message: 'Saved.', tags: 'success' }]);
        expect(await res.json()).to.deep.equal({
          page: 'show',
          messages: [{ message: 'Saved.', tags: 'success' }],
        });
      } finally {
        server.close();
      }
    });

    it('says, on an HTML page, to check the page itself: its messages are no longer in the cookie', async () => {
      const app = buildApp({
        session: false,
        options: { storage: 'cookie' },
        routes: {
          '/add': addFromQuery,
          '/page': (ctx: Koa.Context) => {
            ctx.body = `<ul>${[...ctx.messages].map((m) => `<li>${m.message}</li>`).join('')}</ul>`;
          },
        },
      });
      const a = agent(app);
      await a.get('/add?m=Saved.').expect(303);
      const page = await a.get('/page').expect(200);
      expect(page.text).to.equal('<ul><li>Saved.</li></ul>');
      // The cookie no longer holds what the page showed: { keys } would read an empty list.
      expect(messagesOf(page, { keys: TEST_KEYS })).to.deep.equal([]);
      const error = thrown(() => messagesOf(page));
      expect(error).to.be.instanceOf(AssertionError);
      expect((error as Error).message).to.equal(
        'koa-messages: the response is not JSON (Content-Type: text/html; charset=utf-8): without { keys }, ' +
          'messagesOf() and assertMessages() read the messages of a ctx.ajax() JSON body. Messages an HTML ' +
          "page showed are in its markup: check the page's text. With { keys } they read the messages " +
          'cookie, which holds what is still pending for the next request, not what this response showed.',
      );
    });

    it('throws a TypeError for bad options or something that is not a response', () => {
      const res = { headers: {} };
      expect(() => messagesOf(res, { keys: [] })).to.throw(TypeError, /option `keys`/);
      expect(() => messagesOf(res, { cookieName: 'a b' })).to.throw(TypeError, /`cookieName`/);
      expect(() => messagesOf(res, { key: TEST_KEYS } as never)).to.throw(
        TypeError,
        /invalid messagesOf\(\) options: unknown option `key`/,
      );
      expect(() => messagesOf('200 OK' as never)).to.throw(TypeError, /supertest or fetch/);
    });
  });

  describe('assertMessages()', () => {
    const shown = async () => {
      const a = agent(ajaxApp());
      await a.get('/add?m=Saved.&m=Sent.&tags=sticky').expect(303);
      return a.get('/show').expect(200);
    };

    it('passes on texts, { message, tags } and { message, level }, in order', async () => {
      const res = await shown();
      assertMessages(res, ['Saved.', 'Sent.']);
      assertMessages(res, [
        { message: 'Saved.', tags: 'sticky success' },
        { message: 'Sent.', level: 'success' },
      ]);
      assertMessages(res, [{ message: 'Saved.', level: 25 }, 'Sent.']);
    });

    it('fails with a diff of what it compared when the order, a text, the tags or the level differ', async () => {
      const res = await shown();
      const error = thrown(() => assertMessages(res, ['Sent.', 'Saved.']));
      expect(error).to.be.instanceOf(AssertionError);
      expect((error as AssertionError).actual).to.deep.equal([
        { message: 'Saved.' },
        { message: 'Sent.' },
      ]);
      expect((error as AssertionError).expected).to.deep.equal([
        { message: 'Sent.' },
        { message: 'Saved.' },
      ]);
      expect(() => assertMessages(res, ['Saved.'])).to.throw(AssertionError);
      expect(() => assertMessages(res, ['Saved.', 'Sent.', 'More.'])).to.throw(AssertionError);
      expect(() => assertMessages(res, ['Saved.', { message: 'Sent.', tags: 'success' }])).to.throw(
        AssertionError,
      );
      const level = thrown(() =>
        assertMessages(res, ['Saved.', { message: 'Sent.', level: 'error' }]),
      );
      // { message, level } against { message, level }: the level as it was written, a name...
      expect((level as AssertionError).actual).to.deep.equal([
        { message: 'Saved.' },
        { message: 'Sent.', level: 'success' },
      ]);
      expect((level as AssertionError).expected).to.deep.equal([
        { message: 'Saved.' },
        { message: 'Sent.', level: 'error' },
      ]);
      // ...or an integer.
      const numeric = thrown(() =>
        assertMessages(res, ['Saved.', { message: 'Sent.', level: 40 }]),
      );
      expect([
        (numeric as AssertionError).actual,
        (numeric as AssertionError).expected,
      ]).to.deep.equal([
        [{ message: 'Saved.' }, { message: 'Sent.', level: 25 }],
        [{ message: 'Saved.' }, { message: 'Sent.', level: 40 }],
      ]);
    });

    it('ignores the order with { ordered: false }, but not the count', async () => {
      const res = await shown();
      assertMessages(res, ['Sent.', { message: 'Saved.', level: 'success' }], { ordered: false });
      expect(() => assertMessages(res, ['Sent.', 'Sent.'], { ordered: false })).to.throw(
        AssertionError,
        /in any order/,
      );
    });

    it('compares levels exactly when reading the cookie', async () => {
      const app = buildApp({
        session: false,
        options: { storage: 'cookie', level: 'debug', tags: { 29: 'notice' } },
        routes: {
          '/add': (ctx) => {
            ctx.messages.add(29, 'Custom.');
            ctx.status = 303;
            ctx.redirect('/show');
          },
        },
      });
      const res = await request(app.callback()).get('/add').expect(303);
      // The cookie holds the level; the tag map of the app is not known to the helper.
      assertMessages(res, [{ message: 'Custom.', level: 29 }], { keys: TEST_KEYS });
      expect(() =>
        assertMessages(res, [{ message: 'Custom.', level: 30 }], { keys: TEST_KEYS }),
      ).to.throw(AssertionError);
    });

    it('reads a fetch Response through a Promise', async () => {
      const app = new Koa();
      app.use(messages({ storage: 'memory' }));
      app.use((ctx) => {
        ctx.messages.error('Failed.');
        ctx.ajax({}, false);
      });
      const server = app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        await assertMessages(res, [{ message: 'Failed.', level: 'error' }]);
        let failure: unknown;
        await assertMessages(res, ['Other.']).catch((error: unknown) => (failure = error));
        expect(failure).to.be.instanceOf(AssertionError);
      } finally {
        server.close();
      }
    });

    it('throws a TypeError for an expected of the wrong shape, before reading the response', () => {
      const notRead = { headers: {} }; // not JSON: reading it would be an AssertionError
      const cases: [unknown, RegExp][] = [
        ['Saved.', /expected must be an array/],
        [[42], /expected\[0\] is number/],
        [[null], /expected\[0\] is null/],
        [[{ text: 'x' }], /expected\[0\] has unknown key `text`/],
        [[{ message: 'x' }], /exactly one of `tags` and `level`/],
        [[{ message: 'x', tags: 'a', level: 'info' }], /exactly one of/],
        [['ok', { message: 1, tags: '' }], /expected\[1\] has a `message` that is number/],
        [[{ message: 'x', level: 'notice' }], /'notice' is not a level name/],
        [[{ message: 'x', tags: ['a'] }], /`tags` that are an array/],
      ];
      for (const [expected, pattern] of cases) {
        expect(() => assertMessages(notRead, expected as never), String(pattern)).to.throw(
          TypeError,
          pattern,
        );
      }
      expect(() => assertMessages(notRead, [], { ordered: 'no' } as never)).to.throw(
        TypeError,
        /option `ordered` must be a boolean/,
      );
    });
  });
});

describe('docs/testing.md', () => {
  it('has a mocha + supertest example that passes as written, against the built package', async function () {
    this.timeout(60_000);
    const markdown = await readFile(new URL('../docs/testing.md', import.meta.url), 'utf8');
    const block = /## Example[^\n]*\n+```ts\n([\s\S]*?)\n```/.exec(markdown)?.[1];
    expect(block, 'a ```ts block under "## Example"').to.be.a('string');
    // Inside the repository, so that `koa-messages` resolves to dist/ through the exports map.
    const dir = new URL('../build-output/', import.meta.url);
    await mkdir(dir, { recursive: true });
    const file = fileURLToPath(new URL('testing-example.test.ts', dir));
    await writeFile(file, block!);
    const run = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('../node_modules/mocha/bin/mocha.js', import.meta.url)),
        '--no-config',
        '--node-option',
        'import=tsx',
        '--reporter',
        'dot',
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(
      { status: run.status, passing: /1 passing/.test(run.stdout) },
      run.stdout + run.stderr,
    ).to.deep.equal({
      status: 0,
      passing: true,
    });
  });
});
