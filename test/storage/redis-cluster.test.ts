import { expect } from 'chai';
import type { Redis } from 'ioredis';

import type { DropEvent } from '../../src/index.js';
import { redisStorage } from '../../src/redis.js';
import { buildApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import type { CookieJar } from '../helpers/cookie-jar.js';
import {
  type AppProcess,
  checkOrder,
  CLIENT_KINDS,
  type ClientKind,
  crowd,
  duplicates,
  leftInRedis,
  newTally,
  random,
  send,
  startApp,
  stats,
  stopApp,
  visit,
} from '../helpers/delivery-workload.js';
import { clientOf, commandsRun, connectClient, type TestClient } from '../helpers/redis-client.js';
import { killReplicated, type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { freePort } from '../helpers/redis-server.js';

/**
 * The hostile workload of redis-concurrency.test.ts against a real Redis Cluster (three masters,
 * one replica each), with each client library: two app processes, many visitors, each firing
 * parallel requests at both with one cookie jar. Keys are hash-tagged per visitor id and each
 * claim touches one id, so no command crosses slots (docs/redis-cluster.md).
 */
describe('redisStorage() on a Redis Cluster', function () {
  this.timeout(120_000);
  let cluster: RedisCluster;
  let masters: Redis[] = [];

  before(async function () {
    this.timeout(300_000); // may apt-get install redis-server first
    cluster = await startRedisCluster(3, 1);
    masters = await Promise.all((await cluster.masters()).map((port) => connectClient(port)));
  });

  after(async () => {
    for (const admin of masters) admin.disconnect();
    await cluster?.stop();
  });

  async function left(): Promise<string[]> {
    for (const admin of masters) admin.disconnect();
    masters = await Promise.all((await cluster.masters()).map((port) => connectClient(port)));
    return leftInRedis(...masters);
  }

  for (const kind of CLIENT_KINDS) {
    describe(`across two processes, with ${kind}`, () => {
      const apps: AppProcess[] = [];
      before(async () => {
        const ports = cluster.startup.map((n) => n.port);
        apps.push(
          ...(await Promise.all([
            startApp({ cluster: ports }, 5000, 'redis', kind),
            startApp({ cluster: ports }, 5000, 'redis', kind),
          ])),
        );
      });
      after(async () => {
        await Promise.all(apps.map(stopApp));
      });

      it('delivers every message exactly once to 200 visitors sending 20 parallel requests each', async () => {
        const tally = newTally();
        const rng = random(2026);
        const jars: CookieJar[] = [];
        await crowd(200, 8, async (v) => {
          jars[v] = await visit(tally, apps, `v${v}`, 20, rng);
        });
        await crowd(200, 8, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
        checkOrder(tally);
        const delivered = tally.deliveries.flat();
        const { dropped, errors, dropErrors } = await stats(apps);

        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect(dropped, `onDrop errors: ${JSON.stringify(dropErrors)}`).to.deep.equal([]);
        expect(duplicates(delivered)).to.deep.equal([]);
        expect(delivered.length).to.equal(tally.added.length);
        expect([...delivered].sort()).to.deep.equal([...tally.added].sort());
        expect(await left()).to.deep.equal([]);
        expect(tally.requests).to.equal(4200);
        // The visitors' keys were spread over the three masters: each ran scripts.
        const scripts = await Promise.all(masters.map(async (m) => (await commandsRun(m)).scripts));
        expect(scripts.filter((n) => n > 0)).to.have.length(3);
        console.log(
          `      ${tally.requests} requests, ${delivered.length} messages delivered once, slowest answer ${Math.round(tally.slowest)} ms`,
        );
      });
    });
  }

  describe('faults', () => {
    const TIMEOUT = 300;
    let drops: DropEvent[];
    const clients: TestClient[] = [];
    beforeEach(() => {
      drops = [];
    });
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });

    function app(testClient: TestClient) {
      clients.push(testClient);
      return buildApp({
        session: false,
        options: {
          storage: redisStorage({ client: testClient.client, timeout: TIMEOUT }),
          onDrop: (event) => drops.push(event),
        },
        routes: {
          '/add': (ctx) => {
            ctx.messages.info(String(ctx.query['text']));
            ctx.body = 'added';
          },
          '/show': (ctx) => {
            ctx.ajax({});
          },
        },
      });
    }

    /** Each request answered, none waiting more than the documented 4 × timeout (a hang detector). */
    async function timed(browser: Browser, method: 'get' | 'post', path: string) {
      const started = performance.now();
      const res = await browser.go(method, path);
      expect(performance.now() - started).to.be.below(4 * TIMEOUT + 1000);
      return res;
    }

    for (const kind of CLIENT_KINDS) {
      describe(`with ${kind}`, () => {
        it('delivers normally when the first start-up node is down', async () => {
          const ports = [await freePort(), ...cluster.startup.map((n) => n.port)];
          const browser = new Browser(app(await clientOf(kind, { cluster: ports })));
          for (let i = 0; i < 10; i++) {
            await timed(browser, 'post', `/add?text=m${i}`);
            expect((await timed(browser, 'get', '/show')).text).to.equal(
              `{"messages":[{"message":"m${i}","tags":"info"}]}`,
            );
          }
          expect(drops).to.deep.equal([]);
        });

        it('answers every request and reports the adds to onDrop when no start-up node answers', async () => {
          const ports = [await freePort(), await freePort()];
          const browser = new Browser(app(await clientOf(kind, { cluster: ports })));
          for (let i = 0; i < 3; i++) {
            expect((await timed(browser, 'post', `/add?text=lost${i}`)).text).to.equal('added');
            expect((await timed(browser, 'get', '/show')).text).to.equal('{}');
          }
          expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
            ['storage-error', ['lost0']],
            ['storage-error', ['lost1']],
            ['storage-error', ['lost2']],
          ]);
        });

        it('reports every add to onDrop, naming the mistake, when a standalone client is connected to a cluster node', async () => {
          const browser = new Browser(app(await clientOf(kind, cluster.startup[0]!.port)));
          for (let i = 0; i < 3; i++) {
            expect((await timed(browser, 'post', `/add?text=m${i}`)).text).to.equal('added');
            expect((await timed(browser, 'get', '/show')).text).to.equal('{}');
          }
          const code = (e: unknown) => (e as { code?: unknown }).code;
          expect(
            drops.map((d) => [d.reason, d.messages.length, code(d.error), String(d.error)]),
          ).to.deep.equal(
            Array.from({ length: 3 }, () => [
              'storage-error',
              1,
              'ERR_KOA_MESSAGES_OPTION',
              'TypeError: koa-messages: redisStorage() option `client` is a standalone client connected to a Redis Cluster node; ' +
                'pass a cluster client: new Cluster([...]) (ioredis) or createCluster() (node-redis).',
            ]),
          );
        });
      });
    }
  });

  // Last: they change the cluster (a killed master stays dead), resharding before failovers since
  // `redis-cli --cluster reshard` wants every node up.
  describe('topology changes during traffic', () => {
    const TIMEOUT = 500;

    /** How many slots the node `id` owns, from CLUSTER NODES. */
    async function slotsOf(id: string): Promise<number> {
      const port = cluster.startup.find((n) => cluster.nodes.some((c) => c.port === n.port))!.port;
      const line = (await cluster.cli('-p', String(port), 'CLUSTER', 'NODES'))
        .split('\n')
        .find((l) => l.startsWith(id))!;
      let count = 0;
      for (const range of line.split(' ').slice(8)) {
        const [a, b] = range.split('-').map(Number) as [number, number | undefined];
        if (!range.startsWith('[')) count += (b ?? a) - a + 1;
      }
      return count;
    }

    /**
     * 60 visitors × 20 parallel requests over two app processes, `change` run 300 ms in; then
     * every visitor reads once more. Every request answers, none waits more than the documented
     * 4 × timeout (plus scheduling slack on a loaded machine), nothing is delivered twice, and
     * every message is delivered or reported to onDrop.
     */
    async function during(kind: ClientKind, seed: number, change: () => Promise<void>) {
      const ports = cluster.startup.map((n) => n.port);
      const apps = await Promise.all([
        startApp({ cluster: ports }, TIMEOUT, 'redis', kind),
        startApp({ cluster: ports }, TIMEOUT, 'redis', kind),
      ]);
      try {
        const tally = newTally();
        const rng = random(seed);
        const jars: CookieJar[] = [];
        const traffic = crowd(60, 6, async (v) => {
          jars[v] = await visit(tally, apps, `t${seed}.${v}`, 20, rng);
        });
        await new Promise((r) => setTimeout(r, 300));
        await change();
        await traffic;
        await cluster.ready();
        await crowd(60, 6, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
        // A claim that failed just after the change (a client still rediscovering the slots)
        // leaves its messages in Redis and its hint in the jar: read again while hints remain,
        // as a visitor's next pages would (the guarantee: a message in Redis has a hint).
        const hinted = (v: number) => jars[v]!.names().some((n) => n.includes('.p.'));
        for (let round = 0; round < 10 && jars.some((_, v) => hinted(v)); round++) {
          await new Promise((r) => setTimeout(r, 300));
          await crowd(60, 6, async (v) => {
            if (hinted(v)) await send(tally, jars[v]!, apps[v % 2]!.base, 'read', []);
          });
        }
        checkOrder(tally);
        const delivered = tally.deliveries.flat();
        const { dropped, errors, dropErrors } = await stats(apps);
        const unaccounted = tally.added.filter(
          (id) => !delivered.includes(id) && !dropped.includes(id),
        );
        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect(duplicates(delivered)).to.deep.equal([]);
        expect({ unaccounted, left: await left() }).to.deep.equal({ unaccounted: [], left: [] });
        expect(tally.slowest).to.be.below(4 * TIMEOUT + 2000);
        console.log(
          `      ${tally.requests} requests, ${delivered.length} delivered, ${dropped.length} reported to onDrop, ` +
            `slowest answer ${Math.round(tally.slowest)} ms (timeout ${TIMEOUT} ms)`,
        );
        return { dropped, dropErrors };
      } finally {
        await Promise.all(apps.map(stopApp));
      }
    }

    for (const [i, kind] of CLIENT_KINDS.entries()) {
      it(`moves 2,000 slots between masters during traffic, with ${kind}: none lost unreported, none repeated`, async () => {
        const [from, to] = await cluster.topology();
        const before = { from: await slotsOf(from!.id), to: await slotsOf(to!.id) };
        const { dropErrors } = await during(kind, 100 + i, async () => {
          await cluster.cli(
            '--cluster',
            'reshard',
            `127.0.0.1:${from!.port}`,
            '--cluster-from',
            from!.id,
            '--cluster-to',
            to!.id,
            '--cluster-slots',
            '2000',
            '--cluster-yes',
          );
        });
        // The slots did move. A source node busy migrating keys may answer later than `timeout`:
        // those adds are reported to onDrop, as documented, and nothing else goes missing
        // (checked in during()).
        expect([await slotsOf(from!.id), await slotsOf(to!.id)]).to.deep.equal([
          before.from - 2000,
          before.to + 2000,
        ]);
        console.log(`      reported to onDrop: ${JSON.stringify(dropErrors)}`);
      });
    }

    for (const [i, kind] of CLIENT_KINDS.entries()) {
      it(`fails over a killed master during traffic, with ${kind}: no hang, adds it could not store reported, none repeated`, async () => {
        const victim = (await cluster.topology()).find((m) => m.replicated)!;
        const node = cluster.nodes.find((n) => n.port === victim.port)!;
        const { dropped } = await during(kind, 200 + i, () => killReplicated(node));
        expect(dropped.length).to.be.above(0);
      });
    }
  });
});
