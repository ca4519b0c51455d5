import { expect } from 'chai';

import { redisOutbox } from '../../src/redis.js';
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { connect, listen, liveApp } from './sse-client.js';

describe('live on Redis pub/sub (redisOutbox across processes)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  // Two app instances ("processes"), each with its own client and outbox: a send in one wakes
  // only its own watchers in memory, so only Redis pub/sub can tell the instance holding the tab.
  async function instance() {
    const client = await connectClient(redis.port);
    cleanup.push(() => client.disconnect());
    const outbox = redisOutbox({ client });
    const server = await listen(liveApp(outbox));
    cleanup.push(() => server.close());
    return { outbox, url: server.url, client };
  }

  it('a send in one process wakes the tab held by another', async () => {
    const a = await instance();
    const b = await instance();
    const tab = await connect(b.url('/live'), { 'x-user': 'ann' });
    cleanup.push(() => tab.close());
    // Subscribed: the subscription wakes the stream once, which claims nothing; then send from A.
    await waitSubscribed(b.client, 1);
    await a.outbox.info('ann', 'From the worker.');
    await tab.until(() => tab.texts().length === 1);
    expect(tab.texts()).to.deep.equal(['From the worker.']);
  });

  it('one subscriber connection per process, one channel per watched user, unsubscribed when the last tab closes', async () => {
    const b = await instance();
    const tabs = await Promise.all(
      ['ann', 'ann', 'bob'].map((user) => connect(b.url('/live'), { 'x-user': user })),
    );
    await waitSubscribed(b.client, 2);
    // One connection holds the tabs' channels; the other is the outbox's "sent" subscriber.
    const clients = String(await b.client.client('LIST'));
    expect(
      clients
        .split('\n')
        .map((line) => /sub=(\d+)/.exec(line)?.[1])
        .filter((n) => n !== undefined && n !== '0')
        .sort(),
    ).to.deep.equal(['1', '2']);
    for (const tab of tabs) await tab.close();
    await waitSubscribed(b.client, 0);
  });

  it('a killed subscriber connection misses nothing: on reconnect every watcher claims', async () => {
    const a = await instance();
    const b = await instance();
    const tab = await connect(b.url('/live'), { 'x-user': 'ann' });
    cleanup.push(() => tab.close());
    await waitSubscribed(b.client, 1);
    // Kill the subscriber, and send before it is back: that publish reaches nobody.
    await a.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await a.outbox.info('ann', 'Sent while the subscriber was down.');
    await tab.until(() => tab.texts().length === 1);
    expect(tab.texts()).to.deep.equal(['Sent while the subscriber was down.']);
  });
});

/** Wait until Redis counts `n` subscribed wake-up channels (asked again after each reply, a few ms apart). */
async function waitSubscribed(admin: Awaited<ReturnType<typeof connectClient>>, n: number) {
  while (((await admin.pubsub('CHANNELS', '*:wake:*')) as string[]).length !== n)
    await new Promise((resolve) => setTimeout(resolve, 5));
}
