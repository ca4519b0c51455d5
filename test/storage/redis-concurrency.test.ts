import { expect } from 'chai';
import type { Redis } from 'ioredis';

import { CookieJar } from '../helpers/cookie-jar.js';
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
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * Two app processes (test/fixtures/redis-app.ts) sharing one Redis, and many visitors, each
 * firing parallel requests at both processes with one cookie jar. Every message added must be
 * delivered exactly once (see test/helpers/delivery-workload.ts for the workload).
 */

for (const kind of CLIENT_KINDS) suite(kind);

function suite(kind: ClientKind) {
  describe(`redisStorage() across two processes, with ${kind}`, function () {
    this.timeout(120_000);
    let redis: RedisServer;
    let admin: Redis;

    before(async function () {
      this.timeout(300_000); // may apt-get install redis-server first
      redis = await startRedis();
      admin = await connectClient(redis.port);
    });

    after(async () => {
      admin.disconnect();
      await redis.stop();
    });

    /** Two app processes for the tests of one `describe`, with the storage's command `timeout`. */
    function appPair(timeout: number): AppProcess[] {
      const apps: AppProcess[] = [];
      before(async () => {
        apps.push(
          ...(await Promise.all([
            startApp(redis.port, timeout, 'redis', kind),
            startApp(redis.port, timeout, 'redis', kind),
          ])),
        );
      });
      after(async () => {
        await Promise.all(apps.map(stopApp));
      });
      return apps;
    }

    describe('with Redis answering', () => {
      // A timeout far above any answer time on a loaded 2-core machine: this test is about
      // interleavings, the ones below about a slow or dead Redis.
      const apps = appPair(5000);

      it('delivers every message exactly once to 200 visitors sending 20 parallel requests each', async () => {
        const tally = newTally();
        const rng = random(2026);
        const jars: CookieJar[] = [];
        await crowd(200, 8, async (v) => {
          jars[v] = await visit(tally, apps, `v${v}`, 20, rng);
        });
        // Every answer has reached each jar: one more read per visitor collects what is pending.
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
        expect(await leftInRedis(admin)).to.deep.equal([]);
        expect(tally.requests).to.equal(4200);
        console.log(
          `      ${tally.requests} requests, ${delivered.length} messages delivered once, slowest answer ${Math.round(tally.slowest)} ms`,
        );
      });
    });

    describe('with Redis failing', () => {
      // Short enough that the 1.5 s stall below outlasts every command, long enough that a loaded
      // 2-core machine does not keep the apps' event loops blocked for two timeouts in a row (the one
      // case the storage documents as able to hold a message back, see src/storage/redis/exchange.ts).
      const TIMEOUT = 500;
      const apps = appPair(TIMEOUT);

      it('answers every request while Redis stalls, and delivers each message at most once and never loses one unreported', async () => {
        const tally = newTally();
        const rng = random(7);
        const jars: CookieJar[] = [];
        const traffic = crowd(60, 6, async (v) => {
          jars[v] = await visit(tally, apps, `s${v}`, 20, rng);
        });
        await new Promise((r) => setTimeout(r, 150));
        redis.process.kill('SIGSTOP');
        await new Promise((r) => setTimeout(r, 1500));
        redis.process.kill('SIGCONT');
        await traffic;
        await crowd(60, 6, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
        checkOrder(tally);
        const delivered = tally.deliveries.flat();
        const { dropped, errors } = await stats(apps);

        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect(duplicates(delivered)).to.deep.equal([]);
        const unaccounted = tally.added.filter(
          (id) => !delivered.includes(id) && !dropped.includes(id),
        );
        const left = await leftInRedis(admin);
        expect({ unaccounted, left }).to.deep.equal({ unaccounted: [], left: [] });
        console.log(
          `      ${tally.requests} requests, ${delivered.length} delivered, ${dropped.length} reported to onDrop, ` +
            `slowest answer ${Math.round(tally.slowest)} ms (timeout ${TIMEOUT} ms)`,
        );
      });

      it('answers every request while Redis is killed and restarted, reports the adds it lost, then works again', async () => {
        const tally = newTally();
        const rng = random(11);
        const before = (await stats(apps)).dropped.length;
        const traffic = crowd(40, 6, async (v) => {
          await visit(tally, apps, `k${v}`, 20, rng);
        });
        await new Promise((r) => setTimeout(r, 150));
        await redis.stop(); // SIGKILL: every stored message is gone with it (no persistence)
        await new Promise((r) => setTimeout(r, 1000));
        redis = await startRedis(redis.port);
        await traffic;
        const { dropped, errors } = await stats(apps);
        const delivered = tally.deliveries.flat();

        expect(tally.problems).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
        expect(duplicates(delivered)).to.deep.equal([]);
        expect(dropped.length - before).to.be.above(0);
        expect(apps.map((app) => app.child.exitCode)).to.deep.equal([null, null]);

        // Back to normal: the apps reconnect, and a message goes across the two processes.
        admin.disconnect();
        admin = await connectClient(redis.port);
        const after = newTally();
        const jar = new CookieJar();
        for (let attempt = 0; attempt < 50 && after.deliveries.flat().length === 0; attempt++) {
          await send(after, jar, apps[0]!.base, 'add', [
            `after.${attempt}.a`,
            `after.${attempt}.b`,
          ]);
          await send(after, jar, apps[1]!.base, 'read', []);
          if (after.deliveries.flat().length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        expect(after.deliveries.flat().slice(-2)).to.deep.equal([
          after.added.at(-2),
          after.added.at(-1),
        ]);
        console.log(
          `      ${tally.requests} requests, ${delivered.length} delivered, ${dropped.length - before} reported to onDrop, ` +
            `slowest answer ${Math.round(tally.slowest)} ms (timeout ${TIMEOUT} ms)`,
        );
      });
    });
  });
}
