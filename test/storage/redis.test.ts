import { expect } from 'chai';
import { Cluster, type Redis, Redis as RedisClient } from 'ioredis';
import Keygrip from 'keygrip';
import type { Context } from 'koa';
import Koa from 'koa';
import { createClient } from 'redis';

import { type DropEvent, messages } from '../../src/index.js';
import { redisStorage, type RedisStorageOptions } from '../../src/redis.js';
import { messagesOf, type ResponseLike } from '../../src/testing/index.js';
import { buildApp, readAll } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { CLIENT_KINDS, type ClientKind } from '../helpers/delivery-workload.js';
import {
  clientOf,
  commandsRun,
  connectClient,
  messageKeys,
  type TestClient,
} from '../helpers/redis-client.js';
import { rawCommand, type RedisServer, startRedis } from '../helpers/redis-server.js';

/** The same tests for each client library (the storage's own client; `admin` inspects). */
for (const kind of CLIENT_KINDS) suite(kind);

function suite(kind: ClientKind) {
  describe(`redisStorage() with ${kind}`, function () {
    let server: RedisServer;
    let own: TestClient;
    let client: RedisStorageOptions['client'];
    let admin: Redis;
    let drops: DropEvent[];

    before(async function () {
      this.timeout(300_000); // may apt-get install redis-server first
      server = await startRedis();
      own = await clientOf(kind, server.port);
      client = own.client;
      admin = await connectClient(server.port);
    });

    after(async () => {
      own.close();
      admin.disconnect();
      await server.stop();
    });

    beforeEach(async () => {
      drops = [];
      await admin.flushall();
    });

    const show = (ctx: Context) => {
      ctx.ajax({});
    };

    function app(
      options: Partial<RedisStorageOptions> = {},
      storageClient: RedisStorageOptions['client'] = client,
    ) {
      return buildApp({
        session: false,
        options: {
          storage: redisStorage({ client: storageClient, ...options }),
          onDrop: (event) => drops.push(event),
        },
        routes: {
          '/add': (ctx) => {
            ctx.messages.success(String(ctx.query['text'] ?? 'Saved.'));
            ctx.status = 303;
            ctx.redirect('/show');
          },
          '/add-two': (ctx) => {
            ctx.messages.info(`${String(ctx.query['text'])}1`);
            ctx.messages.warning(`${String(ctx.query['text'])}2`, { extraTags: 'sticky' });
            ctx.body = 'added';
          },
          '/show': show,
          '/plain': (ctx) => {
            ctx.body = 'plain page';
          },
          '/read-then-fail': (ctx) => {
            readAll(ctx);
            ctx.throw(500, 'boom');
          },
          '/count': (ctx) => {
            ctx.body = String(ctx.messages.size);
          },
          '/read-keep': (ctx) => {
            const text = readAll(ctx);
            ctx.messages.used = false;
            ctx.body = text;
          },
          '/dismiss': (ctx) => {
            ctx.messages.used = true;
            ctx.messages.info('Fresh.');
            ctx.body = 'dismissed';
          },
          '/add-then-fail': (ctx) => {
            ctx.messages.error('Not saved.');
            throw new Error('handler failed');
          },
        },
      });
    }

    describe('delivery', () => {
      it('carries a message across a redirect and shows it once', async () => {
        const browser = new Browser(app());
        const added = await browser.go('post', '/add?text=Vote%20recorded.');
        expect(added.status).to.equal(303);
        expect(added.headers['location']).to.equal('/show');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Vote recorded.","tags":"success"}]}',
        );
        expect((await browser.go('get', '/show')).text).to.equal('{}');
      });

      it('keeps messages that a page did not read, for the next page that does', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Kept.');
        expect((await browser.go('get', '/plain')).text).to.equal('plain page');
        expect((await browser.go('get', '/plain')).text).to.equal('plain page');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Kept.","tags":"success"}]}',
        );
      });

      it('delivers messages in the order they were added, unread claimed ones before new ones', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add-two?text=a');
        await browser.go('post', '/add-two?text=b');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"a1","tags":"info"},{"message":"a2","tags":"sticky warning"},' +
            '{"message":"b1","tags":"info"},{"message":"b2","tags":"sticky warning"}]}',
        );
      });

      it('gives claimed messages back when the response fails', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Survives.');
        expect((await browser.go('get', '/read-then-fail')).status).to.equal(500);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Survives.","tags":"success"}]}',
        );
      });

      it('keeps messages added by a handler that then throws, with the cookies on the error response', async () => {
        const browser = new Browser(app());
        const failed = await browser.go('post', '/add-then-fail');
        expect(failed.status).to.equal(500);
        expect(String(failed.headers['set-cookie'])).to.match(/koa-messages\.p\./);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Not saved.","tags":"error"}]}',
        );
      });

      it('does not consume messages on a HEAD request', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Still%20here.');
        expect((await browser.go('head', '/show')).status).to.equal(200);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Still here.","tags":"success"}]}',
        );
      });

      it('counts pending messages with `size` without consuming them', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add-two?text=n');
        expect((await browser.go('get', '/count')).text).to.equal('2');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"n1","tags":"info"},{"message":"n2","tags":"sticky warning"}]}',
        );
      });

      it('keeps everything read when `used` is set back to false, and drops stored ones when set to true', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Stale.');
        expect((await browser.go('get', '/read-keep')).text).to.equal('25:success:Stale.');
        expect((await browser.go('get', '/dismiss')).text).to.equal('dismissed');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Fresh.","tags":"info"}]}',
        );
      });

      it('stores nothing under the visitor key once everything was read', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add');
        await browser.go('get', '/show');
        expect(await messageKeys(admin)).to.deep.equal([]);
        expect(browser.jar.names()).to.deep.equal(['koa-messages', 'koa-messages.sig']);
      });
    });

    describe('keys', () => {
      it('stores a visitor’s messages under prefix + {id}, the id being the cluster hash tag', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add');
        const id = browser.jar.get('koa-messages');
        expect(await messageKeys(admin)).to.deep.equal([`koa-messages:{${id}}`]);
      });

      it('never reads another visitor’s key for a key(ctx) value with braces', async () => {
        const keyed = app({ key: (ctx) => ctx.get('x-user') || undefined, hint: false });
        const browser = new Browser(keyed);
        await browser.send('post', '/add?text=For%20Bob.').set('x-user', 'bob');
        // "{bob}" + the prefix reads like bob's key, koa-messages:{bob}; its own is koa-messages:{{bob}}.
        expect((await browser.send('get', '/show').set('x-user', '{bob}')).text).to.equal('{}');
        expect(await messageKeys(admin)).to.deep.equal(['koa-messages:{bob}']);
        expect((await browser.send('get', '/show').set('x-user', 'bob')).text).to.equal(
          '{"messages":[{"message":"For Bob.","tags":"success"}]}',
        );
      });
    });

    describe('Redis commands per request', () => {
      async function counted(fn: () => Promise<unknown>) {
        const before = await commandsRun(admin);
        await fn();
        const after = await commandsRun(admin);
        return { total: after.total - before.total, scripts: after.scripts - before.scripts };
      }

      it('costs no Redis command for a visitor with nothing pending, before and after reading', async () => {
        const browser = new Browser(app());
        expect(await counted(() => browser.go('get', '/show'))).to.deep.equal({
          total: 0,
          scripts: 0,
        });
        await browser.go('post', '/add');
        await browser.go('get', '/show');
        expect(await counted(() => browser.go('get', '/show'))).to.deep.equal({
          total: 0,
          scripts: 0,
        });
        expect(await counted(() => browser.go('get', '/plain'))).to.deep.equal({
          total: 0,
          scripts: 0,
        });
      });

      it('costs one script to add, one to read, and two to read a page that adds', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add'); // loads the scripts into Redis
        await browser.go('get', '/show');
        expect((await counted(() => browser.go('post', '/add'))).scripts).to.equal(1);
        expect((await counted(() => browser.go('get', '/show'))).scripts).to.equal(1);
        await browser.go('post', '/add');
        expect((await counted(() => browser.go('post', '/add-two?text=x'))).scripts).to.equal(2);
      });
    });

    describe('untrusted input', () => {
      it('ignores a visitor cookie with a forged signature: the forger reads nothing, the owner everything', async () => {
        const owner = new Browser(app());
        await owner.go('post', '/add?text=Private.');
        const forger = new Browser(app());
        for (const name of owner.jar.names()) {
          if (!name.endsWith('.sig')) forger.jar.set(name, owner.jar.get(name)!);
          else forger.jar.set(name, 'forged-signature-xxxxxxxxxx');
        }
        expect((await forger.go('get', '/show')).text).to.equal('{}');
        expect((await owner.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Private.","tags":"success"}]}',
        );
      });

      it('drops malformed entries and non-list values found in Redis, and answers normally', async () => {
        const keyed = app({ key: (ctx) => ctx.get('x-user') || undefined, hint: false });
        const browser = new Browser(keyed);
        await admin.rpush(
          'koa-messages:{alice}',
          '[25,"ok one"]',
          'not json',
          '{"level":25}',
          '[25,""]',
          '[20,"ok two","tag",1]',
          '[20,"bad html flag","",2]',
        );
        await admin.set('koa-messages:{bob}', 'a string, not a list');
        expect((await browser.send('get', '/show').set('x-user', 'alice')).text).to.equal(
          '{"messages":[{"message":"ok one","tags":"success"},{"message":"ok two","tags":"tag info"}]}',
        );
        const bob = await browser.send('get', '/show').set('x-user', 'bob');
        expect([bob.status, bob.text]).to.deep.equal([200, '{}']);
        expect(await messageKeys(admin)).to.deep.equal([]);
      });
    });

    describe('hint cookies', () => {
      it('claims on a hint naming the visitor’s own id whatever its signature, never on a forged hint naming another id', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Mine.');
        const hint = browser.jar.names().find((n) => n.includes('.p.') && !n.endsWith('.sig'))!;
        browser.jar.set(`${hint}.sig`, 'not-a-signature-xxxxxxxxxxx');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Mine.","tags":"success"}]}',
        );
        const other = new Browser(app());
        await other.go('post', '/add?text=Theirs.');
        browser.jar.set('koa-messages.p.AAAAAAAA', other.jar.get('koa-messages')!);
        browser.jar.set('koa-messages.p.AAAAAAAA.sig', 'not-a-signature-xxxxxxxxxxx');
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect((await other.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Theirs.","tags":"success"}]}',
        );
      });

      it('finds a message even when a parallel reader’s cookies arrive after the adder’s', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=first');
        // A reads while B adds, both sent with the same cookies; B's answer reaches the browser first.
        const snapshot = browser.jar.clone();
        const a = await browser.send('get', '/show', snapshot);
        const b = await browser.send('post', '/add?text=second', snapshot);
        expect(a.text).to.equal('{"messages":[{"message":"first","tags":"success"}]}');
        browser.jar.apply(b.headers['set-cookie']);
        browser.jar.apply(a.headers['set-cookie']);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"second","tags":"success"}]}',
        );
      });

      it('finds the messages of parallel first requests that each made a visitor id', async () => {
        const browser = new Browser(app());
        const one = await browser.send('post', '/add?text=one');
        const two = await browser.send('post', '/add?text=two');
        browser.jar.apply(one.headers['set-cookie']);
        browser.jar.apply(two.headers['set-cookie']);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"one","tags":"success"},{"message":"two","tags":"success"}]}',
        );
        expect(await messageKeys(admin)).to.deep.equal([]);
      });

      it('with `key`, keeps one browser’s hints per key: another user neither reads nor spends them', async () => {
        const browser = new Browser(app({ key: (ctx) => ctx.get('x-user') || undefined }));
        const as = async (user: string, path: string) => {
          const res = await browser.send('get', path).set('x-user', user);
          browser.jar.apply(res.headers['set-cookie']);
          return res.text;
        };
        await as('alice', '/add?text=For%20Alice.');
        const before = await commandsRun(admin);
        expect(await as('bob', '/show')).to.equal('{}');
        expect((await commandsRun(admin)).total - before.total).to.equal(0);
        expect(await as('alice', '/show')).to.equal(
          '{"messages":[{"message":"For Alice.","tags":"success"}]}',
        );
        expect(await as('alice', '/show')).to.equal('{}');
        expect(browser.jar.names()).to.deep.equal([]);
      });

      it('reads at most 16 hint cookies per request and leaves the others for the next one', async () => {
        const browser = new Browser(app());
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => browser.send('post', `/add?text=m${i}`)),
        );
        for (const res of answers) browser.jar.apply(res.headers['set-cookie']);
        const shown = (res: ResponseLike) => messagesOf(res).map((m) => m.message);
        const first = shown(await browser.go('get', '/show'));
        const second = shown(await browser.go('get', '/show'));
        // 20 parallel first requests made 20 ids; the id cookie kept the last one (m19's). The first
        // read claims the ids of the first 16 hints plus its own; the next read the remaining three.
        expect([first.length, second.length]).to.deep.equal([17, 3]);
        expect([...first, ...second].sort()).to.deep.equal(
          Array.from({ length: 20 }, (_, i) => `m${i}`).sort(),
        );
        expect((await browser.go('get', '/show')).text).to.equal('{}');
      });

      it('claims on every request of a known visitor when `hint` is false', async () => {
        const browser = new Browser(app({ hint: false, key: () => 'user-1' }));
        await browser.go('post', '/add');
        await browser.go('get', '/show');
        const before = await commandsRun(admin);
        await browser.go('get', '/show');
        expect((await commandsRun(admin)).scripts - before.scripts).to.equal(1);
        expect(browser.jar.names()).to.deep.equal([]);
      });
    });

    describe('Redis down or slow', () => {
      it('answers, reads nothing, and reports adds to onDrop when Redis is unreachable', async () => {
        const dead = await startRedis();
        const deadClient = await clientOf(kind, dead.port);
        await dead.stop();
        try {
          const browser = new Browser(app({ timeout: 300 }, deadClient.client));
          const added = await browser.go('post', '/add?text=Lost.');
          expect(added.status).to.equal(303);
          expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
            ['storage-error', ['Lost.']],
          ]);
          const shown = await browser.go('get', '/show');
          expect([shown.status, shown.text]).to.deep.equal([200, '{}']);
        } finally {
          deadClient.close();
        }
      });

      it('leaves the messages in Redis when a claim reaches a stalled Redis after the app stopped waiting', async function () {
        this.timeout(20_000);
        const browser = new Browser(app({ timeout: 200 }));
        await browser.go('post', '/add?text=Delayed.');
        const sleeping = rawCommand(server.port, 'DEBUG', 'SLEEP', '1');
        await new Promise((r) => setTimeout(r, 50));
        const during = await browser.go('get', '/show');
        expect([during.status, during.text]).to.deep.equal([200, '{}']);
        expect(await sleeping).to.equal('+OK\r\n');
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Delayed.","tags":"success"}]}',
        );
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect(drops).to.deep.equal([]);
      });

      async function lateClaim(storageClient: RedisStorageOptions['client']) {
        // Block the app's event loop right after the claim is sent: Redis runs the claim in time,
        // but the app's timer fires before it reads the answer.
        const stall = (ctx: Context, next: () => Promise<unknown>) => {
          if (ctx.get('x-stall') !== '') {
            setImmediate(() => {
              const until = Date.now() + 400;
              while (Date.now() < until);
            });
          }
          return next();
        };
        const stalled = buildApp({
          session: false,
          before: [stall],
          options: {
            storage: redisStorage({ client: storageClient, timeout: 200 }),
            onDrop: (event) => drops.push(event),
          },
          routes: { '/add': (ctx) => void ctx.messages.info('Answered late.'), '/show': show },
        });
        const browser = new Browser(stalled);
        await browser.go('post', '/add');
        await browser.go('post', '/add'); // second one so the clock is known and nothing else is sent first
        const res = await browser.send('get', '/show').set('x-stall', '1');
        browser.jar.apply(res.headers['set-cookie']);
        // Asked again past its deadline, a claim that ran answers from its record (the same
        // messages, shown now); one that reached Redis after its deadline took nothing (node-redis
        // may write it only once the event loop is free), and the next page shows them.
        const next = await browser.go('get', '/show');
        expect([res.text, next.text].filter((text) => text !== '{}')).to.deep.equal([
          '{"messages":[{"message":"Answered late.","tags":"info"},{"message":"Answered late.","tags":"info"}]}',
        ]);
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect(drops).to.deep.equal([]);
      }

      it('delivers what a claim took when its answer reached a busy app after the timeout', () =>
        lateClaim(client));

      if (kind === 'node-redis') {
        it('delivers a late claim even when the client has a commandOptions.timeout below `timeout`', async () => {
          // Verifies node-redis's semantics rather than assuming them: its own command timeout
          // must not turn the late answer of a claim into a rejection (docs/redis-cluster.md).
          const impatient = createClient({
            socket: { host: '127.0.0.1', port: server.port },
            commandOptions: { timeout: 50 },
          });
          await impatient.connect();
          try {
            await lateClaim(impatient);
          } finally {
            impatient.destroy();
          }
        });
      }
    });

    describe('configuration', () => {
      it('names the option that is wrong', () => {
        expect(() => redisStorage({} as RedisStorageOptions)).to.throw(
          TypeError,
          'koa-messages: invalid redisStorage() options: option `client` must be an ioredis client (new Redis(...) or new Cluster([...])) ' +
            'or a node-redis one (createClient() or createCluster()).',
        );
        expect(() => redisStorage({ client, timeout: 0 })).to.throw(
          TypeError,
          'koa-messages: invalid redisStorage() options: option `timeout`: Too small: expected number to be >0.',
        );
        expect(() =>
          redisStorage({ client, ttl: 1, colour: 'red' } as RedisStorageOptions),
        ).to.throw(
          TypeError,
          'koa-messages: invalid redisStorage() options: unknown option `colour`.',
        );
      });

      it('refuses a client of a kind it does not support, naming `client`', () => {
        const message =
          'koa-messages: invalid redisStorage() options: option `client` must be an ioredis client (new Redis(...) or new Cluster([...])) ' +
          'or a node-redis one (createClient() or createCluster()).';
        const keyValueStore = { get: () => undefined, set: () => undefined };
        for (const wrong of [keyValueStore, RedisClient, 'redis://127.0.0.1:6379', null]) {
          expect(() => redisStorage({ client: wrong } as unknown as RedisStorageOptions)).to.throw(
            TypeError,
            message,
          );
        }
      });

      it('takes a cookie name of letters, digits, - and _ only, as its message says', () => {
        for (const cookie of ['app.messages', 'a$b', 'a b', '']) {
          expect(() => redisStorage({ client, cookie })).to.throw(
            TypeError,
            'koa-messages: invalid redisStorage() options: option `cookie` must be a cookie name of letters, digits, - and _ only.',
          );
        }
        expect(redisStorage({ client, cookie: 'My_app-2' })).to.have.property('enter');
      });

      if (kind === 'ioredis') {
        it('works with a default ioredis client used before it has connected', async () => {
          const fresh = new RedisClient(server.port, '127.0.0.1');
          try {
            const browser = new Browser(app({}, fresh));
            await browser.go('post', '/add?text=Early.');
            expect((await browser.go('get', '/show')).text).to.equal(
              '{"messages":[{"message":"Early.","tags":"success"}]}',
            );
            expect(drops).to.deep.equal([]);
          } finally {
            fresh.disconnect();
          }
        });

        it('refuses a client whose own command timeout would drop late answers', () => {
          const impatient = new RedisClient(server.port, '127.0.0.1', {
            commandTimeout: 500,
            lazyConnect: true,
          });
          expect(() => redisStorage({ client: impatient, timeout: 1000 })).to.throw(
            TypeError,
            'koa-messages: redisStorage() option `client` has commandTimeout 500 ms; leave it unset or above `timeout` (1000 ms): ' +
              'this storage times its commands itself and needs late answers.',
          );
          expect(redisStorage({ client: impatient, timeout: 400 })).to.have.property('enter');
          const impatientCluster = new Cluster([{ host: '127.0.0.1', port: server.port }], {
            redisOptions: { commandTimeout: 500 },
            lazyConnect: true,
          });
          expect(() => redisStorage({ client: impatientCluster, timeout: 1000 })).to.throw(
            TypeError,
            'koa-messages: redisStorage() option `client` has commandTimeout 500 ms',
          );
        });
      } else {
        it('works with a node-redis client whose connection is not ready yet', async () => {
          const fresh = createClient({ socket: { host: '127.0.0.1', port: server.port } });
          const connecting = fresh.connect();
          try {
            const browser = new Browser(app({}, fresh));
            await browser.go('post', '/add?text=Early.');
            expect((await browser.go('get', '/show')).text).to.equal(
              '{"messages":[{"message":"Early.","tags":"success"}]}',
            );
            expect(drops).to.deep.equal([]);
          } finally {
            await connecting;
            fresh.destroy();
          }
        });
      }

      it('signs its cookies with a Keygrip instance given as app.keys, as Koa documents', async () => {
        const grip = new Keygrip(['grip-key-example-only'], 'sha256');
        const keyed = app();
        keyed.keys = grip;
        const browser = new Browser(keyed);
        const added = await browser.go('get', '/add?text=Gripped.');
        expect(added.status).to.equal(303);
        const id = browser.jar.get('koa-messages');
        expect(id).to.match(/^[A-Za-z0-9_-]{22}$/);
        expect(browser.jar.get('koa-messages.sig')).to.equal(grip.sign(`koa-messages=${id}`));
        const shown = await browser.go('get', '/show');
        expect(shown.text).to.equal('{"messages":[{"message":"Gripped.","tags":"success"}]}');
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect(drops).to.deep.equal([]);
      });

      it('writes each cookie exactly as ctx.cookies.set() would, on HTTP and behind an HTTPS proxy', async () => {
        // What Koa's own cookies write for the same names, values and options.
        const reference = new Koa();
        reference.keys = app().keys!;
        reference.proxy = true;
        reference.use((ctx) => {
          const lines = JSON.parse(ctx.get('x-set')) as [string, string][];
          for (const [name, value] of lines) {
            const options = {
              httpOnly: true,
              sameSite: 'lax',
              secure: ctx.secure,
              overwrite: true,
              path: '/',
            } as const;
            // A signed cookie: Koa writes its `.sig` line itself. A deleted one: both unsigned.
            if (value === '') ctx.cookies.set(name, null, { ...options, signed: false });
            else if (!name.endsWith('.sig'))
              ctx.cookies.set(name, value, { ...options, signed: true, maxAge: 14 * 86_400_000 });
          }
          ctx.body = 'ok';
        });
        const expiry = (line: string) => line.replace(/expires=[^;]+/, 'expires=…');
        for (const proto of ['http', 'https']) {
          const proxied = app();
          proxied.proxy = true;
          const browser = new Browser(proxied);
          const set = async (path: string) => {
            const res = await browser.send('get', path).set('x-forwarded-proto', proto);
            browser.jar.apply(res.headers['set-cookie']);
            const lines = (res.headers['set-cookie'] as unknown as string[]).map(expiry);
            const pairs = lines.map((l) => l.slice(0, l.indexOf(';')).split('='));
            const ref = await new Browser(reference)
              .send('get', '/')
              .set('x-forwarded-proto', proto)
              .set('x-set', JSON.stringify(pairs));
            expect(lines).to.deep.equal(
              (ref.headers['set-cookie'] as unknown as string[]).map(expiry),
            );
            return lines;
          };
          const added = await set('/add?text=Exact.');
          expect(added).to.have.length(4);
          expect(added[0]).to.match(
            new RegExp(
              `^koa-messages=[\\w-]{22}; path=/; expires=…; samesite=lax${proto === 'https' ? '; secure' : ''}; httponly$`,
            ),
          );
          expect(await set('/show')).to.have.length(2);
        }
      });

      it('keeps the cookies the app set on the same response, and replaces its own earlier lines', async () => {
        const mixed = buildApp({
          session: false,
          options: { storage: redisStorage({ client }) },
          routes: {
            '/add': (ctx) => {
              ctx.cookies.set('theme', 'dark', { signed: false });
              // A line under the storage's own name, as a second response cookie would be: replaced.
              ctx.cookies.set('koa-messages', 'stale', { signed: false });
              ctx.messages.success('Mixed.');
              ctx.body = 'added';
            },
          },
        });
        const res = await new Browser(mixed).send('get', '/add');
        const names = (res.headers['set-cookie'] as unknown as string[]).map((l) =>
          l.slice(0, l.indexOf('=')),
        );
        expect(names.filter((n) => !n.includes('.p.'))).to.deep.equal([
          'theme',
          'koa-messages',
          'koa-messages.sig',
        ]);
        expect(names.filter((n) => n.includes('.p.'))).to.have.length(2);
      });

      it('reads its cookies after a key rotation, re-signs the visitor cookie with the new key and deletes spent hints', async () => {
        const rotating = app();
        rotating.keys = ['old-key-example-only'];
        const browser = new Browser(rotating);
        await browser.go('post', '/add?text=Before.');
        const id = browser.jar.get('koa-messages')!;
        expect(browser.jar.names().filter((n) => n.includes('.p.'))).to.have.length(2);
        rotating.keys = ['new-key-example-only', 'old-key-example-only'];
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"Before.","tags":"success"}]}',
        );
        expect(browser.jar.get('koa-messages.sig')).to.equal(
          new Keygrip(['new-key-example-only']).sign(`koa-messages=${id}`),
        );
        expect(browser.jar.names()).to.deep.equal(['koa-messages', 'koa-messages.sig']);
        await browser.go('post', '/add?text=After.');
        expect(browser.jar.get('koa-messages')).to.equal(id);
        expect((await browser.go('get', '/show')).text).to.equal(
          '{"messages":[{"message":"After.","tags":"success"}]}',
        );
        expect(drops).to.deep.equal([]);
      });

      it('throws a TypeError on first use when the app has no keys to sign the visitor cookie', async () => {
        const bare = new Koa();
        bare.silent = true;
        const errors: unknown[] = [];
        bare.on('error', (error) => errors.push(error));
        bare.use(messages({ storage: redisStorage({ client }) }));
        bare.use(show);
        const res = await new Browser(bare).go('get', '/');
        expect(res.status).to.equal(500);
        expect(String(errors[0])).to.equal(
          'TypeError: koa-messages: redisStorage() signs its visitor cookie and needs app.keys (app.keys = [secret]), ' +
            'or pass the `key` option to identify visitors yourself.',
        );
      });
    });
  });
}
