import { expect } from 'chai';
import type { Context } from 'koa';

import { memoryOutbox, messagesLive, type Outbox } from '../../src/index.js';
import { redisWake } from '../../src/sending/redis-watch.js';
import { buildApp } from '../helpers/app.js';
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { connect, listen } from './sse-client.js';

const headerUser = (ctx: Context): string | undefined => ctx.get('x-user') || undefined;

/**
 * Two app instances ("processes") sharing one store of messages whose own watch wakes nobody:
 * only Redis pub/sub can tell the instance holding the tab. (A stand-in for redisOutbox(), whose
 * store is shared through Redis; the wake-up path is the same.)
 */
function sharedStore(): Outbox {
  return { ...memoryOutbox(), watch: () => () => {} };
}

const liveApp = (outbox: Outbox) =>
  buildApp({
    options: { outbox, user: headerUser },
    routes: { '/live': (ctx) => messagesLive({ heartbeat: 2 ** 31 - 1 })(ctx, async () => {}) },
  });

describe('live on Redis pub/sub (redisWake)', function () {
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

  async function instance(store: Outbox) {
    const client = await connectClient(redis.port);
    cleanup.push(() => client.disconnect());
    const outbox = redisWake(store, { client });
    const server = await listen(liveApp(outbox));
    cleanup.push(() => server.close());
    return { outbox, url: server.url, client };
  }

  it('a send in one process wakes the tab held by another', async () => {
    const store = sharedStore();
    const a = await instance(store);
    const b = await instance(store);
    const tab = await connect(b.url('/live'), { 'x-user': 'ann' });
    cleanup.push(() => tab.close());
    // Subscribed: the subscription wakes the stream once, which claims nothing; then send from A.
    await waitSubscribed(b.client, 1);
    await a.outbox.info('ann', 'From the worker.');
    await tab.until(() => tab.texts().length === 1);
    expect(tab.texts()).to.deep.equal(['From the worker.']);
  });

  it('one subscriber connection per process, one channel per watched user, unsubscribed when the last tab closes', async () => {
    const store = sharedStore();
    const b = await instance(store);
    const tabs = await Promise.all(
      ['ann', 'ann', 'bob'].map((user) => connect(b.url('/live'), { 'x-user': user })),
    );
    await waitSubscribed(b.client, 2);
    const clients = String(await b.client.client('LIST'));
    expect(clients.split('\n').filter((line) => /sub=[1-9]/.test(line))).to.have.length(1);
    for (const tab of tabs) await tab.close();
    await waitSubscribed(b.client, 0);
  });

  it('a killed subscriber connection misses nothing: on reconnect every watcher claims', async () => {
    const store = sharedStore();
    const a = await instance(store);
    const b = await instance(store);
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

/** Wait until Redis counts `n` subscribed channels (asked again after each reply, a few ms apart). */
async function waitSubscribed(admin: Awaited<ReturnType<typeof connectClient>>, n: number) {
  while (((await admin.pubsub('CHANNELS')) as string[]).length !== n)
    await new Promise((resolve) => setTimeout(resolve, 5));
}
