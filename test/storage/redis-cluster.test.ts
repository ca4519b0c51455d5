import { expect } from 'chai';
import type { Redis } from 'ioredis';

import type { CookieJar } from '../helpers/cookie-jar.js';
import {
  type AppProcess,
  checkOrder,
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
import { commandsRun, connectClient } from '../helpers/redis-client.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';

/**
 * The hostile workload of redis-concurrency.test.ts against a real Redis Cluster (three masters,
 * one replica each), with each client library: two app processes, many visitors, each firing
 * parallel requests at both with one cookie jar. Keys are hash-tagged per visitor id and each
 * claim touches one id, so no command crosses slots (docs/redis-cluster.md).
 */
describe('redisStorage() on a Redis Cluster across two processes', function () {
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

  for (const kind of ['ioredis', 'node-redis'] as const satisfies readonly ClientKind[]) {
    describe(`with ${kind}`, () => {
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
        const { dropped, errors } = await stats(apps);

        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect(dropped).to.deep.equal([]);
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
});
