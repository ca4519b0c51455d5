import { expect } from 'chai';
import type { Redis } from 'ioredis';

import { redisOutbox } from '../../src/redis.js';
import { CLIENT_KINDS } from '../helpers/delivery-workload.js';
import { clientOf, connectClient } from '../helpers/redis-client.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { loggedIn, sendingApp, texts } from './app.js';
import { rememberEmptySuite } from './remember-empty.js';

const textsOf = (list: readonly { message: string }[]) => list.map((m) => m.message);

describe('redisOutbox() on a Redis Cluster', function () {
  this.timeout(120_000);
  let cluster: RedisCluster;
  before(async function () {
    this.timeout(300_000);
    cluster = await startRedisCluster();
  });
  after(() => cluster.stop());

  describe('users with nothing pending are remembered (a plain SUBSCRIBE on each master)', () => {
    let admins: Redis[] = [];
    before(async () => {
      admins = await Promise.all(cluster.nodes.map((n) => connectClient(n.port)));
    });
    after(() => {
      for (const admin of admins) admin.disconnect();
    });
    for (const kind of CLIENT_KINDS)
      describe(`with ${kind}`, () => {
        beforeEach(async () => {
          for (const admin of admins) await admin.flushall();
        });
        rememberEmptySuite(kind, {
          connect: () => ({ cluster: cluster.nodes.map((n) => n.port) }),
          admins: () => admins,
        });
      });
  });

  for (const kind of CLIENT_KINDS) {
    it(`sends, claims, acks and gives back with ${kind}, users spread over the masters`, async () => {
      const own = await clientOf(kind, { cluster: cluster.nodes.map((n) => n.port) });
      try {
        const box = redisOutbox({ client: own.client, prefix: `${kind}:` });
        const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
        for (const user of users) {
          await box.info(user, `${user} 1.`);
          await box.info(user, `${user} 2.`);
        }
        for (const user of users) {
          const claim = await box.claim(user);
          expect(textsOf(claim.messages)).to.deep.equal([`${user} 1.`, `${user} 2.`]);
          await claim.ack([claim.messages[0]!]);
          await claim.giveBack([claim.messages[1]!]);
          const again = await box.claim(user);
          expect(textsOf(again.messages)).to.deep.equal([`${user} 2.`]);
          await again.ack(again.messages);
        }
        const app = sendingApp(box);
        const browser = await loggedIn(app, 'user-3');
        await box.success('user-3', 'Through the app.');
        expect(texts((await browser.get('/page')).text)).to.deep.equal(['Through the app.']);
      } finally {
        own.close();
      }
    });
  }
});
