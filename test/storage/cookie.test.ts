import { expect } from 'chai';
import fc from 'fast-check';
import Keygrip from 'keygrip';
import Koa from 'koa';
import request from 'supertest';

import {
  cookieStorage,
  type DropEvent,
  fallbackStorage,
  messages,
  type MessagesOptions,
} from '../../src/index.js';
import { assertMessages } from '../../src/testing/index.js';
import { agent, buildApp, TEST_KEYS } from '../helpers/app.js';
import {
  addFromQuery,
  cookieHeaders,
  cookieValue,
  DELETE_COOKIE,
  forge,
  payloadOf,
  randomText,
  setCookies,
  signPayload,
  tagOf,
  VALUE_FORMAT,
} from '../helpers/cookie.js';

/** A cookie-storage app (no koa-session at all) with the usual routes. */
function cookieApp(
  options: MessagesOptions = {},
  routes: Parameters<typeof buildApp>[0]['routes'] = {},
) {
  return buildApp({
    session: false,
    options: { storage: 'cookie', ...options },
    routes: {
      '/add': addFromQuery,
      '/show': (ctx) => {
        ctx.ajax();
      },
      '/list': (ctx) => {
        ctx.body = JSON.stringify([...ctx.messages].map((m) => m.message));
      },
      '/count': (ctx) => {
        ctx.body = `pending: ${ctx.messages.size}`;
      },
      '/none': (ctx) => {
        ctx.body = 'no messages touched';
      },
      ...routes,
    },
  });
}

/** Collects what `onDrop` receives, as `reason:text|text`. */
function dropLog(): { options: MessagesOptions; events: string[] } {
  const events: string[] = [];
  return {
    events,
    options: {
      onDrop: (e: DropEvent) => {
        events.push(`${e.reason}:${e.messages.map((m) => m.message).join('|')}`);
      },
    },
  };
}

describe('cookie storage', () => {
  describe('round trip', () => {
    it('carries a message across a redirect in one signed cookie and deletes the cookie once read', async () => {
      const a = agent(cookieApp());
      const added = await a.post('/add').query({ m: 'Vote recorded.' }).expect(303);
      const value = cookieValue(added);
      expect(setCookies(added)).to.deep.equal([
        `messages=${value}; path=/; samesite=lax; httponly`,
      ]);
      expect(value).to.match(VALUE_FORMAT);
      expect(payloadOf(value)).to.deep.equal([[25, 'Vote recorded.']]);
      const [payload, tag] = value.split('.');
      expect(tag).to.equal(tagOf(payload!));

      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"Vote recorded.","tags":"success"}]}');
      expect(setCookies(shown)).to.deep.equal([DELETE_COOKIE]);

      const again = await a.get('/show').expect(200);
      expect(again.text).to.equal('{}');
      expect(setCookies(again)).to.deep.equal([]);
    });

    it('round-trips non-ASCII text, quotes, commas, semicolons, backslashes and HTML through a real redirect', async () => {
      const app = cookieApp(
        {},
        {
          '/add-odd': (ctx) => {
            ctx.messages.info('Grüße, “Zoë”; 日本語 🎉');
            ctx.messages.warning('He said "hi", then left; C:\\temp\\ is full', {
              extraTags: 'a, b; "c"',
            });
            ctx.messages.success('<b>Saved</b> & <i>done</i>', { html: true });
            ctx.messages.error('<script>alert("x")</script>');
            ctx.status = 303;
            ctx.redirect('/show');
          },
        },
      );
      const a = agent(app);
      const added = await a.post('/add-odd').expect(303);
      const value = cookieValue(added);
      // RFC 6265 cookie-octet: no space, DQUOTE, comma, semicolon or backslash (Django's test_message_rfc6265).
      expect(value).to.match(VALUE_FORMAT);
      expect(value).not.to.match(/[\s",;\\]/);
      const shown = await a.get('/show').redirects(0).expect(200);
      expect(shown.text).to.equal(
        '{"messages":[' +
          '{"message":"Grüße, “Zoë”; 日本語 🎉","tags":"info"},' +
          '{"message":"He said &quot;hi&quot;, then left; C:\\\\temp\\\\ is full","tags":"a, b; \\"c\\" warning"},' +
          '{"message":"<b>Saved</b> & <i>done</i>","tags":"success"},' +
          '{"message":"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;","tags":"error"}]}',
      );
    });

    it("encodes Django's RFC 6265 test strings with cookie-safe characters only and reads them back (Django test_message_rfc6265)", async () => {
      const texts = ['\\te,st', ';m"e', '\u2019', '123"NOTRECEIVED"'];
      const a = agent(cookieApp());
      const added = await a.post('/add').query({ m: texts }).expect(303);
      expect(cookieValue(added)).to.match(VALUE_FORMAT);
      const listed = await a.get('/list').expect(200);
      expect(listed.text).to.equal(JSON.stringify(texts));
    });

    it('reads a cookie that holds ["test", "me"] (Django test_get)', async () => {
      const res = await request(cookieApp().callback())
        .get('/show')
        .set('Cookie', `messages=${forge('[[20,"test"],[20,"me"]]')}`)
        .expect(200);
      expect(res.text).to.equal(
        '{"messages":[{"message":"test","tags":"info"},{"message":"me","tags":"info"}]}',
      );
      expect(setCookies(res)).to.deep.equal([DELETE_COOKIE]);
    });

    it('keeps extra tags and the html flag, and leaves out what holds its default', async () => {
      const app = cookieApp(
        {},
        {
          '/add-tags': (ctx) => {
            ctx.messages.info('plain');
            ctx.messages.info('tagged', { extraTags: 'some tags' });
            ctx.messages.info('<b>trusted</b>', { html: true });
            ctx.status = 303;
            ctx.redirect('/show');
          },
        },
      );
      const added = await request(app.callback()).post('/add-tags').expect(303);
      expect(payloadOf(cookieValue(added))).to.deep.equal([
        [20, 'plain'],
        [20, 'tagged', 'some tags'],
        [20, '<b>trusted</b>', '', 1],
      ]);
    });

    it('keeps unread messages and appends new ones, in order (three requests)', async () => {
      const a = agent(cookieApp());
      await a.post('/add').query({ m: 'A' }).expect(303);
      const counted = await a.get('/count').expect(200);
      expect(counted.text).to.equal('pending: 1');
      expect(setCookies(counted)).to.deep.equal([]);
      const second = await a.post('/add').query({ m: 'B', level: 'warning' }).expect(303);
      expect(payloadOf(cookieValue(second))).to.deep.equal([
        [25, 'A'],
        [30, 'B'],
      ]);
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal(
        '{"messages":[{"message":"A","tags":"success"},{"message":"B","tags":"warning"}]}',
      );
    });
  });

  describe('laziness', () => {
    it('does not parse or rewrite the cookie on a request that does not touch messages', async () => {
      const a = agent(cookieApp());
      await a.post('/add').query({ m: 'Still here.' }).expect(303);
      const untouched = await a.get('/none').expect(200);
      expect(untouched.text).to.equal('no messages touched');
      expect(setCookies(untouched)).to.deep.equal([]);
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"Still here.","tags":"success"}]}');
    });

    it('leaves even a bad cookie alone on a request that does not touch messages', async () => {
      const res = await request(cookieApp().callback())
        .get('/none')
        .set('Cookie', 'messages=garbage')
        .expect(200);
      expect(setCookies(res)).to.deep.equal([]);
    });

    it('sends no Set-Cookie when the messages are iterated and there was no cookie (nothing to delete)', async () => {
      const res = await request(cookieApp().callback()).get('/list').expect(200);
      expect(res.text).to.equal('[]');
      expect(setCookies(res)).to.deep.equal([]);
    });

    it('sends no Set-Cookie when the messages are only counted', async () => {
      const res = await request(cookieApp().callback())
        .get('/count')
        .set('Cookie', `messages=${forge('[[20,"x"]]')}`)
        .expect(200);
      expect(res.text).to.equal('pending: 1');
      expect(setCookies(res)).to.deep.equal([]);
    });

    it('needs no session middleware: no session cookie is ever set', async () => {
      const a = agent(cookieApp());
      const added = await a.post('/add').query({ m: 'x' }).expect(303);
      expect(setCookies(added).map((h) => h.split('=')[0])).to.deep.equal(['messages']);
    });
  });

  describe('bad cookies', () => {
    const good = forge('[[25,"Vote recorded."]]');
    const [payload] = good.split('.') as [string];
    const flip = (s: string, i: number) =>
      s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const cases: Record<string, string> = {
      'with a tampered payload': flip(good, 3),
      'with a tampered tag': flip(good, good.length - 2),
      'truncated at the start (Django test_get_bad_cookie)': good.slice(1),
      'truncated at the end': good.slice(0, -1),
      'without a tag': payload,
      'with a trailing dot after the tag': `${good}.`,
      'signed with another key': forge('[[25,"Vote recorded."]]', 'some-other-key-example-only'),
      'signed for another cookie name': forge('[[25,"Vote recorded."]]', undefined, 'flash'),
      'signed but not base64url': signPayload('W1syNS!!!wiWCJdXQ'),
      'signed but of an impossible base64 length': signPayload(payload.slice(0, 9)),
      'signed but not UTF-8': signPayload(
        Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]).toString('base64url'),
      ),
      'signed but not JSON': forge('[[25,"Vote recorded."]'),
      'signed but holding an object, not a list': forge('{"level":25,"message":"x"}'),
      'signed but holding a string, not a list': forge('"Vote recorded."'),
      'signed but with an entry without text': forge('[[25]]'),
      'signed but with a level name instead of a number': forge('[["success","Vote recorded."]]'),
      'signed but with an empty text': forge('[[25,""]]'),
      'signed but with `true` as the html flag': forge('[[25,"x","",true]]'),
      'signed but with the marker before the end': forge('[0,[25,"Vote recorded."]]'),
      'signed but with one bad entry among good ones': forge('[[25,"ok"],[25,"Vote recorded.",7]]'),
      'signed but longer than cookie.maxSize': forge(JSON.stringify([[25, 'x'.repeat(2100)]])),
    };

    for (const [kind, value] of Object.entries(cases)) {
      it(`ignores a messages cookie ${kind}: status 200, no messages, the cookie deleted`, async () => {
        const res = await request(cookieApp().callback())
          .get('/show')
          .set('Cookie', `messages=${value}`)
          .expect(200);
        expect(res.text).to.equal('{}');
        expect(setCookies(res)).to.deep.equal([DELETE_COOKIE]);
      });
    }

    it('deletes a bad cookie even when the request only counts the messages', async () => {
      const res = await request(cookieApp().callback())
        .get('/count')
        .set('Cookie', `messages=${cases['signed with another key']}`)
        .expect(200);
      expect(res.text).to.equal('pending: 0');
      expect(setCookies(res)).to.deep.equal([DELETE_COOKIE]);
    });

    it('replaces a bad cookie with one holding only the messages added in the request', async () => {
      const res = await request(cookieApp().callback())
        .post('/add')
        .query({ m: 'Fresh.' })
        .set('Cookie', `messages=${cases['with a tampered payload']}`)
        .expect(303);
      expect(payloadOf(cookieValue(res))).to.deep.equal([[25, 'Fresh.']]);
    });

    it('accepts a valid cookie of the longest length under cookie.maxSize and rejects the next longer one', async () => {
      // 1518 bytes of JSON make 2024 base64url characters (2047 with the dot and tag); 1519 make 2026 (2049).
      const longest = forge(JSON.stringify([[25, 'x'.repeat(1518 - '[[25,""]]'.length)]]));
      const over = forge(JSON.stringify([[25, 'x'.repeat(1519 - '[[25,""]]'.length)]]));
      expect([longest.length, over.length]).to.deep.equal([2047, 2049]);
      const accepted = await request(cookieApp().callback())
        .get('/count')
        .set('Cookie', `messages=${longest}`)
        .expect(200);
      expect(accepted.text).to.equal('pending: 1');
      const rejected = await request(cookieApp().callback())
        .get('/count')
        .set('Cookie', `messages=${over}`)
        .expect(200);
      expect(rejected.text).to.equal('pending: 0');
      expect(setCookies(rejected)).to.deep.equal([DELETE_COOKIE]);
    });
  });

  describe('size budget', () => {
    it('drops the oldest of five messages sized for four and a half (Django test_max_cookie_length)', async () => {
      // Recomputed for this encoding: 2048 - 23 (dot + tag) = 2025 base64url characters = 1518 bytes
      // of JSON; a message costs its text + 8 bytes ([25,"…"] and a comma), the list 2 + 2 (marker).
      const size = Math.floor((1518 - 4) / 4.5) - 8;
      const texts = Array.from({ length: 5 }, () => randomText(size));
      const drops = dropLog();
      const res = await request(cookieApp(drops.options).callback())
        .post('/add')
        .query({ m: texts })
        .expect(303);
      const value = cookieValue(res);
      expect(value.length).to.be.at.most(2048);
      expect(payloadOf(value)).to.deep.equal([...texts.slice(1).map((t) => [25, t]), 0]);
      expect(drops.events).to.deep.equal([`cookie-size:${texts[0]}`]);
    });

    it('keeps only the marker when even the newest message does not fit, and deletes that cookie once loaded', async () => {
      const drops = dropLog();
      const a = agent(cookieApp(drops.options));
      const big = randomText(3000);
      const added = await a.post('/add').query({ m: big }).expect(303);
      expect(payloadOf(cookieValue(added))).to.deep.equal([0]);
      expect(drops.events).to.deep.equal([`cookie-size:${big}`]);
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{}');
      expect(setCookies(shown)).to.deep.equal([DELETE_COOKIE]);
    });

    it('honours a smaller cookie.maxSize, keeping the newest messages that fit', async () => {
      const drops = dropLog();
      const a = agent(cookieApp({ storage: cookieStorage({ maxSize: 256 }), ...drops.options }));
      const texts = Array.from({ length: 10 }, (_, i) => `Row ${i} imported`);
      const added = await a.post('/add').query({ m: texts }).expect(303);
      const value = cookieValue(added);
      expect(value.length).to.be.at.most(256);
      // 256 - 23 = 233 characters = 174 bytes of JSON. A row is [25,"Row 0 imported"] (21 bytes) and a
      // comma: 7 rows and the marker make 2 + 7 * 22 + 2 = 158 bytes, 8 rows 180.
      expect(payloadOf(value)).to.deep.equal([...texts.slice(3).map((t) => [25, t]), 0]);
      expect(drops.events).to.deep.equal([`cookie-size:${texts.slice(0, 3).join('|')}`]);
      assertMessages(await a.get('/show').expect(200), texts.slice(3));
    });

    it('never exceeds the budget and keeps the longest run of newest messages (random text)', async () => {
      let current: { level: number; text: string; tags: string; html: boolean }[] = [];
      let maxSize = 2048;
      const dropped: string[][] = [];
      const app = new Koa();
      app.keys = TEST_KEYS;
      app.silent = true;
      app.use(async (ctx, next) => {
        // A fresh messages() per request so the budget can vary; the storage is stateless across requests.
        await messages({
          storage: cookieStorage({ maxSize }),
          level: 0,
          onDrop: (e) => dropped.push(e.messages.map((m) => m.message)),
        })(ctx, next);
      });
      app.use((ctx) => {
        for (const m of current)
          ctx.messages.add(m.level, m.text, { extraTags: m.tags, html: m.html });
        ctx.status = 204;
      });
      const message = fc.record({
        level: fc.integer({ min: 0, max: 100 }),
        text: fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }),
        tags: fc.oneof(fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 20 })),
        html: fc.boolean(),
      });
      const entry = (m: (typeof current)[number]) =>
        m.html
          ? [m.level, m.text, m.tags, 1]
          : m.tags !== ''
            ? [m.level, m.text, m.tags]
            : [m.level, m.text];
      // The documented size: base64url of the UTF-8 JSON (ceil(4n/3)), a dot and a 22-character tag.
      const sizeOf = (list: unknown[]) =>
        Math.ceil((Buffer.byteLength(JSON.stringify(list)) * 4) / 3) + 23;

      await fc.assert(
        fc.asyncProperty(
          fc.array(message, { minLength: 1, maxLength: 25 }),
          fc.integer({ min: 128, max: 4096 }),
          async (list, budget) => {
            current = list;
            maxSize = budget;
            dropped.length = 0;
            const res = await request(app.callback()).post('/').expect(204);
            const value = cookieValue(res);
            expect(value).to.match(VALUE_FORMAT);
            expect(value.length).to.equal(sizeOf(payloadOf(value) as unknown[]));
            expect(value.length).to.be.at.most(budget);
            const entries = list.map(entry);
            const stored = payloadOf(value) as unknown[];
            if (sizeOf(entries) <= budget) {
              expect(stored).to.deep.equal(entries);
              expect(dropped).to.deep.equal([]);
            } else {
              const kept = stored.length - 1;
              expect(stored.at(-1)).to.equal(0);
              expect(stored.slice(0, kept)).to.deep.equal(entries.slice(entries.length - kept));
              // Maximal: one more (older) message would not have fit.
              expect(sizeOf([...entries.slice(entries.length - kept - 1), 0])).to.be.above(budget);
              expect(dropped).to.deep.equal([list.slice(0, list.length - kept).map((m) => m.text)]);
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('costs 89 bytes of cookie value for one 40-character message, and 64 for each further one', async () => {
      // JSON [25,"<40 characters>"] is 47 bytes (+1 comma after the first), base64url 4/3 of it,
      // plus 25 per cookie: the list brackets, the dot and the 22-character tag.
      const forty = 'Your profile changes were saved, thanks!';
      expect(forty).to.have.length(40);
      const lengths: number[] = [];
      for (const count of [1, 2, 3]) {
        const res = await request(cookieApp().callback())
          .post('/add')
          .query({ m: Array(count).fill(forty) })
          .expect(303);
        lengths.push(cookieValue(res).length);
      }
      expect(lengths).to.deep.equal([89, 153, 217]);
      expect(lengths[0]).to.be.below(100);
    });
  });

  describe('keys', () => {
    it('reads cookies signed with an older key and writes with the newest (key rotation)', async () => {
      const app = cookieApp();
      app.keys = ['old-key-example-only'];
      const a = agent(app);
      const first = await a.post('/add').query({ m: 'Signed with the old key.' }).expect(303);
      const [p1, t1] = cookieValue(first).split('.');
      expect(t1).to.equal(tagOf(p1!, 'old-key-example-only'));

      app.keys = ['new-key-example-only', 'old-key-example-only'];
      const second = await a.post('/add').query({ m: 'Signed with the new key.' }).expect(303);
      const [p2, t2] = cookieValue(second).split('.');
      expect(t2).to.equal(tagOf(p2!, 'new-key-example-only'));
      expect(payloadOf(cookieValue(second))).to.deep.equal([
        [25, 'Signed with the old key.'],
        [25, 'Signed with the new key.'],
      ]);

      app.keys = ['new-key-example-only'];
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal(
        '{"messages":[{"message":"Signed with the old key.","tags":"success"},{"message":"Signed with the new key.","tags":"success"}]}',
      );
    });

    it('rejects a cookie signed with a key that was removed from app.keys', async () => {
      const app = cookieApp();
      app.keys = ['retired-key-example-only'];
      const a = agent(app);
      await a.post('/add').query({ m: 'Old.' }).expect(303);
      app.keys = ['new-key-example-only'];
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{}');
      expect(setCookies(shown)).to.deep.equal([DELETE_COOKIE]);
    });

    it('signs with a Keygrip instance given as app.keys, as Koa documents', async () => {
      const app = cookieApp();
      app.keys = new Keygrip(['grip-key-example-only'], 'sha256');
      const a = agent(app);
      const added = await a.post('/add').query({ m: 'Via keygrip.' }).expect(303);
      const value = cookieValue(added);
      // keygrip's full sha256 digest: 43 base64url characters.
      expect(value).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
      const [p] = value.split('.');
      expect(value.slice(p!.length + 1)).to.equal(
        new Keygrip(['grip-key-example-only'], 'sha256').sign(`koa-messages\0messages\0${p}`),
      );
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"Via keygrip.","tags":"success"}]}');
      const forged = await request(app.callback())
        .get('/show')
        .set('Cookie', `messages=${forge('[[25,"x"]]')}`)
        .expect(200);
      expect(forged.text).to.equal('{}');
    });

    for (const [label, keys] of [
      ['not set', undefined],
      ['empty', []],
      ['holding an empty key', ['']],
      ['a string, not a list', 'secret-example-only'],
    ] as const) {
      it(`fails with a TypeError at first use when app.keys is ${label}, never sending an unsigned cookie`, async () => {
        const app = cookieApp();
        (app as { keys: unknown }).keys = keys;
        const errors: unknown[] = [];
        app.on('error', (error) => errors.push(error));
        const untouched = await request(app.callback()).get('/none').expect(200);
        expect(untouched.text).to.equal('no messages touched');
        const res = await request(app.callback()).post('/add').query({ m: 'x' }).expect(500);
        expect(setCookies(res)).to.deep.equal([]);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.be.instanceOf(TypeError);
        expect((errors[0] as Error).message).to.equal(
          `koa-messages: storage \`cookie\` needs app.keys to sign its cookie, and app.keys is ${label === 'not set' || label === 'empty' ? 'not set' : 'not a list of non-empty strings'}. ` +
            'Set app.keys = [secret] (newest first) before the first request; the cookie is never sent unsigned.',
        );
      });
    }
  });

  describe('cookie attributes', () => {
    it('sets domain, Secure and SameSite=Strict, and deletes with the same attributes (Django test_cookie_settings)', async () => {
      const app = cookieApp({
        storage: cookieStorage({ domain: '.example.com', secure: true, sameSite: 'strict' }),
      });
      app.proxy = true;
      const a = agent(app);
      const added = await a
        .post('/add')
        .set('X-Forwarded-Proto', 'https')
        .query({ m: 'test' })
        .expect(303);
      const value = cookieValue(added);
      expect(setCookies(added)).to.deep.equal([
        `messages=${value}; path=/; domain=.example.com; samesite=strict; secure; httponly`,
      ]);
      // No Expires and no Max-Age: a browser-session cookie.
      const shown = await request(app.callback())
        .get('/show')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', `messages=${value}`)
        .expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"test","tags":"success"}]}');
      expect(setCookies(shown)).to.deep.equal([
        'messages=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; domain=.example.com; samesite=strict; secure; httponly',
      ]);
    });

    it('uses the configured name and path, and can drop HttpOnly and SameSite', async () => {
      const app = cookieApp({
        storage: cookieStorage({ name: 'flash', path: '/app', httpOnly: false, sameSite: false }),
      });
      const added = await request(app.callback()).post('/add').query({ m: 'x' }).expect(303);
      const value = cookieValue(added, 'flash');
      expect(setCookies(added)).to.deep.equal([`flash=${value}; path=/app`]);
      const [p, t] = value.split('.');
      expect(t).to.equal(tagOf(p!, undefined, 'flash'));
    });

    it('marks the cookie Secure on HTTPS requests when `secure` is left out', async () => {
      const app = cookieApp();
      app.proxy = true;
      const added = await request(app.callback())
        .post('/add')
        .set('X-Forwarded-Proto', 'https')
        .query({ m: 'x' })
        .expect(303);
      expect(cookieHeaders(added)[0]).to.equal(
        `messages=${cookieValue(added)}; path=/; samesite=lax; secure; httponly`,
      );
    });

    it('fails with a TypeError naming cookie.secure when a Secure cookie would go over plain HTTP', async () => {
      const app = cookieApp({ storage: cookieStorage({ secure: true }) });
      const errors: Error[] = [];
      app.on('error', (error: Error) => errors.push(error));
      await request(app.callback()).post('/add').query({ m: 'x' }).expect(500);
      expect(errors.map((e) => e.message)).to.deep.equal([
        'koa-messages: option `secure` is true but this request is not HTTPS (behind a TLS proxy, ' +
          'set app.proxy = true so Koa trusts X-Forwarded-Proto).',
      ]);
    });
  });

  describe('failed requests', () => {
    it('carries the cookie of a message added before the handler threw onto the error response', async () => {
      const a = agent(
        cookieApp(
          {},
          {
            '/fail': (ctx) => {
              ctx.messages.error('Could not save.');
              ctx.throw(400, 'Bad form');
            },
          },
        ),
      );
      const failed = await a.post('/fail').expect(400);
      expect(failed.text).to.equal('Bad form');
      expect(payloadOf(cookieValue(failed))).to.deep.equal([[40, 'Could not save.']]);
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"Could not save.","tags":"error"}]}');
    });

    it('does not lose messages read by a request that then failed', async () => {
      const a = agent(
        cookieApp(
          {},
          {
            '/read-then-fail': (ctx) => {
              ctx.body = [...ctx.messages].map((m) => m.message).join();
              throw new Error('template crashed');
            },
          },
        ),
      );
      await a.post('/add').query({ m: 'Keep me.' }).expect(303);
      const failed = await a.get('/read-then-fail').expect(500);
      expect(setCookies(failed)).to.deep.equal([]);
      const shown = await a.get('/show').expect(200);
      expect(shown.text).to.equal('{"messages":[{"message":"Keep me.","tags":"success"}]}');
    });
  });

  describe('options', () => {
    const cases: [string, () => unknown, string][] = [
      [
        'a maxSize below the minimum',
        () => cookieStorage({ maxSize: 100 }),
        'koa-messages: invalid cookieStorage() options: option `maxSize` must be an integer from 128 to 4096 (bytes of cookie value).',
      ],
      [
        'a maxSize browsers would not keep',
        () => cookieStorage({ maxSize: 5000 }),
        'koa-messages: invalid cookieStorage() options: option `maxSize` must be an integer from 128 to 4096 (bytes of cookie value).',
      ],
      [
        'a name that is not a token',
        () => cookieStorage({ name: 'my messages' }),
        'koa-messages: invalid cookieStorage() options: option `name` must be a cookie name (an RFC 6265 token).',
      ],
      [
        'an unknown cookie option',
        () => cookieStorage({ maxAge: 10 } as never),
        'koa-messages: invalid cookieStorage() options: unknown option `maxAge`.',
      ],
      [
        "sameSite 'none' without secure",
        () => fallbackStorage({ cookie: { sameSite: 'none', secure: false } }),
        "koa-messages: invalid fallbackStorage() options: option `cookie.sameSite` must not be 'none' when `secure` is false: browsers reject SameSite=None cookies that are not Secure.",
      ],
      [
        'cookie options given to messages()',
        () => messages({ storage: 'cookie', cookie: { maxSize: 1024 } } as MessagesOptions),
        'koa-messages: invalid messages() options: option `cookie` belongs to the storage: pass `storage: cookieStorage({ … }) or fallbackStorage({ cookie: { … } })`.',
      ],
      [
        'an unknown storage name',
        () => messages({ storage: 'cookies' as never }),
        "koa-messages: invalid messages() options: option `storage` must be 'session', 'cookie', 'fallback', 'memory', or a storage object with an open(ctx) method.",
      ],
    ];
    for (const [label, make, message] of cases) {
      it(`rejects ${label} with a TypeError naming the option`, () => {
        expect(make).to.throw(TypeError).with.property('message', message);
      });
    }

    it('validates options given to cookieStorage() directly', () => {
      expect(() => cookieStorage({ maxSize: 1.5, path: 'app' }))
        .to.throw(TypeError)
        .with.property(
          'message',
          "koa-messages: invalid cookieStorage() options: option `maxSize` must be an integer from 128 to 4096 (bytes of cookie value); option `path` must start with '/' and hold no space, ';' or '<'.",
        );
    });

    it('takes a cookieStorage() instance as the storage option', async () => {
      const app = buildApp({
        session: false,
        options: { storage: cookieStorage({ name: 'notes' }) },
        routes: { '/add': addFromQuery },
      });
      const res = await request(app.callback()).post('/add').query({ m: 'x' }).expect(303);
      expect(payloadOf(cookieValue(res, 'notes'))).to.deep.equal([[25, 'x']]);
    });
  });
});
