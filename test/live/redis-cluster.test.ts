import { expect } from 'chai';

import { redisOutbox } from '../../src/redis.js';
import { clientOf, connectClient } from '../helpers/redis-client.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { connect, listen, liveApp } from './sse-client.js';

/** Until some server of `ports` lists a (shard) channel subscribed; asked again a few ms apart. */
async function subscribed(ports: readonly number[], sharded: boolean): Promise<void> {
  const admins = await Promise.all(ports.map((port) => connectClient(port)));
  try {
    for (;;) {
      for (const admin of admins) {
        const reply = (await admin.call(
          'PUBSUB',
          sharded ? 'SHARDCHANNELS' : 'CHANNELS',
        )) as string[];
        if (reply.length > 0) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    for (const admin of admins) admin.disconnect();
  }
}

for (const kind of ['ioredis', 'node-redis'] as const) {
  describe(`live wake-ups across two app instances, ${kind}`, function () {
    this.timeout(120_000);
    let redis: RedisServer;
    let cluster: RedisCluster;
    before(async function () {
      this.timeout(10 * 60_000);
      redis = await startRedis();
      cluster = await startRedisCluster(3);
    });
    after(async () => {
      await redis?.stop();
      await cluster?.stop();
    });

    async function run(target: number | { cluster: readonly number[] }, ports: readonly number[]) {
      const a = await clientOf(kind, target);
      const b = await clientOf(kind, target);
      // Two outboxes, as two processes have: only Redis pub/sub wakes the one holding the tab.
      const worker = redisOutbox({ client: a.client });
      const server = await listen(liveApp(redisOutbox({ client: b.client })));
      const tab = await connect(server.url('/live'), { 'x-user': 'ann' });
      try {
        await subscribed(ports, typeof target !== 'number');
        await worker.info('ann', 'From the other process.');
        await tab.until(() => tab.texts().length === 1);
        expect(tab.texts()).to.deep.equal(['From the other process.']);
      } finally {
        await tab.close();
        await server.close();
        a.close();
        b.close();
      }
    }

    it('a single server: PUBLISH/SUBSCRIBE on the user channel', () =>
      run(redis.port, [redis.port]));

    it('a Cluster: sharded pub/sub (SPUBLISH/SSUBSCRIBE) on the shard of the user slot', () => {
      const ports = cluster.startup.map((n) => n.port);
      return run({ cluster: ports }, ports);
    });
  });
}
