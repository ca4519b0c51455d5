import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';

import type { DropEvent } from '../../src/index.js';
import { redisStorage, type RedisStorageOptions } from '../../src/redis.js';
import { buildApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { CLIENT_KINDS, type ClientKind } from '../helpers/delivery-workload.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { clientOf, connectClient, type TestClient } from '../helpers/redis-client.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * The Redis storage when a connection breaks at the worst moment: Redis ran the command, and its
 * answer is lost with the connection (test/helpers/fault-proxy.ts). Every script must be safe to
 * run twice (ioredis sends it again on the new connection; the storage itself re-sends one that
 * node-redis rejected), and nothing may be shown twice or lost unreported.
 */

const SHOWN = (...texts: string[]) =>
  JSON.stringify({ messages: texts.map((message) => ({ message, tags: 'success' })) });

for (const kind of CLIENT_KINDS) suite(kind);

function suite(kind: ClientKind) {
  describe(`redisStorage() through broken connections, with ${kind}`, function () {
    this.timeout(60_000);
    let server: RedisServer;
    let proxy: FaultProxy;
    let own: TestClient;
    let admin: Redis;
    let drops: DropEvent[];

    before(async function () {
      this.timeout(300_000); // may apt-get install redis-server first
      server = await startRedis();
      proxy = await startFaultProxy(server.port);
      own = await clientOf(kind, proxy.port);
      admin = await connectClient(server.port);
    });

    after(async () => {
      own.close();
      admin.disconnect();
      await proxy.close();
      await server.stop();
    });

    beforeEach(async () => {
      drops = [];
      await admin.flushall();
    });

    function app(options: Partial<RedisStorageOptions> = {}) {
      return buildApp({
        session: false,
        options: {
          storage: redisStorage({ client: own.client, ...options }),
          onDrop: (event) => drops.push(event),
        },
        routes: {
          '/add': (ctx) => {
            ctx.messages.success(String(ctx.query['text'] ?? 'Saved.'));
            ctx.body = 'added';
          },
          '/show': (ctx: Context) => {
            ctx.ajax({});
          },
          '/plain': (ctx) => {
            ctx.body = 'plain page';
          },
        },
      });
    }

    /** A browser whose app has loaded its scripts and learnt the server clock. */
    async function warmBrowser(options: Partial<RedisStorageOptions> = {}) {
      const browser = new Browser(app(options));
      await browser.go('post', '/add?text=Warm-up.');
      expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Warm-up.'));
      return browser;
    }

    it('stores a message once when the answer of its save is lost after Redis ran it', async () => {
      const browser = await warmBrowser();
      // The adding request makes one script call, the save: its answer is dropped.
      const dropped = proxy.dropReplyTo('EVALSHA');
      const added = await browser.go('post', '/add?text=Once.');
      await dropped;
      expect(added.text).to.equal('added');
      expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Once.'));
      expect((await browser.go('get', '/show')).text).to.equal('{}');
      expect(drops).to.deep.equal([]);
    });

    it('delivers claimed messages once when the answer of the claim is lost after Redis ran it', async () => {
      const browser = await warmBrowser();
      await browser.go('post', '/add?text=Kept.');
      const before = proxy.counts.droppedReplies;
      // The reading request's first script call is the claim: its answer is dropped.
      const dropped = proxy.dropReplyTo('EVALSHA');
      const first = await browser.go('get', '/show');
      await dropped;
      expect(proxy.counts.droppedReplies).to.equal(before + 1);
      // The retry answers from the claim's record (shown now); at worst a give-back puts them
      // back for the next page. Either way: once.
      const second = await browser.go('get', '/show');
      expect([first.text, second.text].filter((t) => t !== '{}')).to.deep.equal([SHOWN('Kept.')]);
      expect((await browser.go('get', '/show')).text).to.equal('{}');
      expect(drops).to.deep.equal([]);
    });

    it('puts back what a claim took when neither its answer nor a second asking came, before the page’s response leaves', async () => {
      const started: (() => void)[] = [];
      const browser = new Browser(
        buildApp({
          session: false,
          options: {
            storage: redisStorage({ client: own.client }),
            onDrop: (event) => drops.push(event),
          },
          routes: {
            '/add': (ctx) => {
              ctx.messages.success(String(ctx.query['text']));
              ctx.body = 'added';
            },
            '/show': (ctx: Context) => {
              ctx.ajax({});
            },
            // The handler runs once the claim gave up: Redis becomes reachable again then.
            '/plain': (ctx) => {
              for (const go of started.splice(0)) go();
              ctx.body = 'plain page';
            },
          },
        }),
      );
      await browser.go('post', '/add?text=Warm-up.');
      expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Warm-up.'));
      await browser.go('post', '/add?text=Taken.');
      // The claim runs, its answer is lost with the connection, and no new connection gets
      // through: neither a re-sent claim nor the second asking can answer.
      const dropped = proxy.dropReplyTo('EVALSHA');
      void dropped.then(() => (proxy.blocked = true));
      started.push(() => (proxy.blocked = false));
      const page = await browser.go('get', '/plain');
      expect(page.text).to.equal('plain page');
      expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Taken.'));
      expect((await browser.go('get', '/show')).text).to.equal('{}');
      expect(drops).to.deep.equal([]);
    });

    it('gives back messages a page did not read when the answer of that save is lost', async () => {
      const browser = await warmBrowser();
      await browser.go('post', '/add?text=Unread.');
      // Claim (answered), then the save that puts the unread message back: its answer is dropped.
      const dropped = proxy.dropReplyTo('EVALSHA', 1);
      expect((await browser.go('get', '/plain')).text).to.equal('plain page');
      await dropped;
      expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Unread.'));
      expect((await browser.go('get', '/show')).text).to.equal('{}');
      expect(drops).to.deep.equal([]);
    });
  });
}

describe('redisStorage() on a Redis Cluster through broken connections', function () {
  this.timeout(120_000);
  let cluster: RedisCluster;
  let proxies: FaultProxy[] = [];

  before(async function () {
    this.timeout(300_000); // may apt-get install redis-server first
    cluster = await startRedisCluster(3, 0);
    // A proxy before each node, announced by the node as its address: clients learn the
    // proxies' ports from CLUSTER SLOTS and only ever reach the nodes through them.
    proxies = await Promise.all(cluster.nodes.map((node) => startFaultProxy(node.port)));
    const admins = await Promise.all(cluster.nodes.map((node) => connectClient(node.port)));
    await Promise.all(
      admins.map((admin, i) =>
        admin.config('SET', 'cluster-announce-port', String(proxies[i]!.port)),
      ),
    );
    const wanted = proxies.map((p) => p.port).sort();
    for (const admin of admins) {
      // Each node learns the others' announced ports by gossip (a node timeout of 1 s).
      for (;;) {
        const slots = await admin.cluster('SLOTS');
        const seen = [...new Set(slots.map((s) => s[2]?.[1]))].sort();
        if (JSON.stringify(seen) === JSON.stringify(wanted)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      admin.disconnect();
    }
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await cluster?.stop();
  });

  for (const kind of CLIENT_KINDS) {
    describe(`with ${kind}`, () => {
      let own: TestClient;
      let drops: DropEvent[];
      before(async () => {
        own = await clientOf(kind, { cluster: proxies.map((p) => p.port) });
      });
      after(() => own.close());
      beforeEach(() => {
        drops = [];
      });

      const app = () =>
        buildApp({
          session: false,
          options: {
            storage: redisStorage({ client: own.client }),
            onDrop: (event) => drops.push(event),
          },
          routes: {
            '/add': (ctx) => {
              ctx.messages.success(String(ctx.query['text']));
              ctx.body = 'added';
            },
            '/show': (ctx: Context) => {
              ctx.ajax({});
            },
          },
        });

      /** Drop the answer to the next command on the visitor's key, whichever node holds it. */
      async function dropNext(browser: Browser, go: () => Promise<unknown>) {
        const id = browser.jar.get('koa-messages')!;
        const dropped = Promise.race(proxies.map((p) => p.dropReplyTo(`{${id}}`)));
        await go();
        await dropped;
        for (const proxy of proxies) proxy.disarm();
      }

      it('stores a message once when the answer of its save is lost after Redis ran it', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Warm-up.');
        expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Warm-up.'));
        await dropNext(browser, () => browser.go('post', '/add?text=Once.'));
        expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Once.'));
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect(drops).to.deep.equal([]);
      });

      it('delivers claimed messages once when the answer of the claim is lost after Redis ran it', async () => {
        const browser = new Browser(app());
        await browser.go('post', '/add?text=Warm-up.');
        expect((await browser.go('get', '/show')).text).to.equal(SHOWN('Warm-up.'));
        await browser.go('post', '/add?text=Kept.');
        let first = '';
        await dropNext(browser, async () => (first = (await browser.go('get', '/show')).text));
        const second = (await browser.go('get', '/show')).text;
        expect([first, second].filter((t) => t !== '{}')).to.deep.equal([SHOWN('Kept.')]);
        expect((await browser.go('get', '/show')).text).to.equal('{}');
        expect(drops).to.deep.equal([]);
      });
    });
  }
});
