import { expect } from 'chai';
import type { Redis } from 'ioredis';

import type { CookieJar } from '../helpers/cookie-jar.js';
import {
  CLIENT_KINDS,
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
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * The Redis storage under 20 s of connection resets at random moments, across two app processes
 * (test/storage/redis-faults.test.ts has each fault on its own). It runs once per `npm test`: the
 * Koa 2 pass and the Node legs leave this file out (they re-run the request cycle, which the
 * single-fault tests cover; the chaos tests Redis, not Koa or Node, and takes a minute).
 */

describe('redisStorage() under random connection resets (chaos)', function () {
  this.timeout(180_000);
  let server: RedisServer;
  let admin: Redis;

  before(async function () {
    this.timeout(300_000);
    server = await startRedis();
    admin = await connectClient(server.port);
  });
  after(async () => {
    admin.disconnect();
    await server.stop();
  });

  for (const kind of CLIENT_KINDS) {
    it(`delivers every message at most once and loses none unreported over 20 s of resets, with ${kind}`, async () => {
      const proxy = await startFaultProxy(server.port);
      const apps = await Promise.all([
        startApp(proxy.port, 1000, 'redis', kind),
        startApp(proxy.port, 1000, 'redis', kind),
      ]);
      try {
        const tally = newTally();
        const rng = random(kind === 'ioredis' ? 21 : 22);
        const jars: CookieJar[] = [];
        const stop = proxy.chaos({ minMs: 150, maxMs: 600, seed: 2026 });
        const until = performance.now() + 20_000;
        let visitors = 0;
        const worker = async () => {
          while (performance.now() < until) {
            const v = visitors++;
            jars[v] = await visit(tally, apps, `c${v}`, 10, rng);
          }
        };
        await Promise.all(Array.from({ length: 6 }, worker));
        stop();
        // Once the connections are quiet: two reads per visitor collect what is pending (a
        // give-back's fresh hint may arrive with the first).
        for (let round = 0; round < 2; round++)
          await crowd(visitors, 6, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
        const delivered = tally.deliveries.flat();
        const { dropped, errors } = await stats(apps);
        const shownTwice = duplicates(delivered);
        const lost = tally.added.filter((id) => !delivered.includes(id) && !dropped.includes(id));
        const reportedAndShown = dropped.filter((id) => delivered.includes(id));
        console.log(
          `      ${kind}: ${tally.requests} requests, ${tally.added.length} added, ${delivered.length} delivered, ` +
            `${dropped.length} reported to onDrop, ${shownTwice.length} shown twice, ${lost.length} lost unreported, ` +
            `${reportedAndShown.length} reported and shown; ${proxy.counts.resets} resets, ` +
            `${proxy.counts.droppedReplies} answers dropped after Redis ran the command`,
        );
        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect({ shownTwice, lost, reportedAndShown }).to.deep.equal({
          shownTwice: [],
          lost: [],
          reportedAndShown: [],
        });
        expect(await leftInRedis(admin)).to.deep.equal([]);
        expect(proxy.counts.droppedReplies).to.be.greaterThan(5);
      } finally {
        await Promise.all(apps.map(stopApp));
        await proxy.close();
      }
    });
  }
});
