import { expect } from 'chai';
import type { Redis } from 'ioredis';

import { isMessagesError, type Outbox } from '../../src/index.js';
import { redisOutbox, redisStorage } from '../../src/redis.js';
import { CLIENT_KINDS, type ClientKind } from '../helpers/delivery-workload.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { clientOf, connectClient, type TestClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { PERSISTENT_STORAGES } from '../helpers/storages.js';
import { loggedIn, sendingApp, texts } from './app.js';
import { sendingSuite } from './suite.js';

const textsOf = (list: readonly { message: string }[]) => list.map((m) => m.message);

for (const kind of CLIENT_KINDS) suite(kind);

function suite(kind: ClientKind) {
  describe(`redisOutbox() with ${kind}`, function () {
    this.timeout(30_000);
    let server: RedisServer;
    let own: TestClient;
    let admin: Redis;
    const outbox = (options: Partial<Parameters<typeof redisOutbox>[0]> = {}) =>
      redisOutbox({ client: own.client, ...options });

    before(async function () {
      this.timeout(300_000); // may apt-get install redis-server first
      server = await startRedis();
      own = await clientOf(kind, server.port);
      admin = await connectClient(server.port);
    });
    after(async () => {
      own.close();
      admin.disconnect();
      await server.stop();
    });
    beforeEach(() => admin.flushall());

    const fresh = async () => void (await admin.flushall());
    const storages = [
      ...PERSISTENT_STORAGES,
      {
        name: 'redis',
        options: {
          get storage() {
            return redisStorage({ client: own.client });
          },
        },
      },
    ];
    for (const { name, options } of kind === 'ioredis' ? storages : storages.slice(0, 1))
      sendingSuite(`with the ${name} storage`, () => outbox(), options, fresh);

    it('drops the oldest beyond maxMessages inside the send, and reports them', async () => {
      const box = outbox({ maxMessages: 2 });
      await box.info('ann', 'One.');
      await box.info('ann', 'Two.');
      expect(textsOf((await box.info('ann', 'Three.')).dropped)).to.deep.equal(['One.']);
      expect(textsOf((await box.claim('ann')).messages)).to.deep.equal(['Two.', 'Three.']);
    });

    it('returns a claim nobody settled to the user after its lease, ahead of newer sends', async () => {
      const box = outbox({ lease: 1 });
      await box.info('ann', 'Claimed by a request that died.');
      const dead = await box.claim('ann');
      expect(dead.messages).to.have.length(1);
      const leaseEnd = Date.now() + 2;
      while (Date.now() <= leaseEnd) await new Promise((resolve) => setImmediate(resolve));
      await box.info('ann', 'Newer.');
      const next = await box.claim('ann');
      expect(textsOf(next.messages)).to.deep.equal(['Claimed by a request that died.', 'Newer.']);
      // The slow request wakes up and acks: the message leaves the list if it is back there.
      await next.giveBack(next.messages);
      await dead.ack(dead.messages);
      expect(textsOf((await box.claim('ann')).messages)).to.deep.equal(['Newer.']);
    });

    it('holds a claim for its lease: a second claim takes nothing, giveBack returns in order', async () => {
      const box = outbox();
      await box.info('ann', 'A.');
      await box.info('ann', 'B.');
      const first = await box.claim('ann');
      expect((await box.claim('ann')).messages).to.deep.equal([]);
      await box.info('ann', 'C.');
      await first.ack([first.messages[0]!]);
      await first.giveBack([first.messages[1]!]);
      await first.giveBack([first.messages[1]!]); // twice: once
      expect(textsOf((await box.claim('ann')).messages)).to.deep.equal(['B.', 'C.']);
      expect(await admin.keys('*')).to.satisfy((keys: string[]) =>
        keys.every((k) => /:(c:|s:|claims)/.test(k)),
      );
    });

    it('keeps a translated descriptor, key and options through Redis', async () => {
      const box = outbox();
      await box.send(
        'ann',
        'warning',
        { id: 'export.ready', values: { n: 2 } },
        {
          extraTags: 'big',
          html: true,
          key: 'export',
          maxAge: 60_000,
        },
      );
      const [m] = (await box.claim('ann')).messages;
      expect(m).to.include({
        level: 30,
        message: 'export.ready',
        extraTags: 'big',
        html: true,
        key: 'export',
        maxAge: 60_000,
      });
      expect(m?.descriptor).to.deep.equal({ id: 'export.ready', values: { n: 2 } });
    });

    it('drops what is not a message in the outbox instead of failing the request', async () => {
      const box = outbox();
      await box.info('ann', 'Good.');
      const [key] = await admin.keys('*{*}');
      await admin.rpush(key!, 'not json', '["id", [1]]', '[1, 2]');
      const app = sendingApp(box);
      const browser = await loggedIn(app, 'ann');
      expect(texts((await browser.get('/page').expect(200)).text)).to.deep.equal(['Good.']);
    });

    it('rejects a send while Redis is unreachable, and a page still answers', async () => {
      const dead = await startRedis();
      const deadClient = await clientOf(kind, dead.port);
      await dead.stop();
      try {
        const box = redisOutbox({ client: deadClient.client, timeout: 200 });
        const error: unknown = await box.info('ann', 'Lost?').then(
          () => 'resolved',
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(Error);
        const browser = await loggedIn(sendingApp(box), 'ann');
        expect(texts((await browser.get('/page').expect(200)).text)).to.deep.equal([]);
      } finally {
        deadClient.close();
      }
    });

    it('refuses bad options', () => {
      for (const bad of [
        {},
        { client: {} },
        { client: own.client, prefix: 'a{b}' },
        { client: own.client, lease: 0 },
        { client: own.client, colour: 1 },
      ]) {
        let error: unknown;
        try {
          redisOutbox(bad as never);
        } catch (caught) {
          error = caught;
        }
        expect(isMessagesError(error) && error.code, JSON.stringify(Object.keys(bad))).to.equal(
          'ERR_KOA_MESSAGES_OPTION',
        );
      }
    });
  });

  describe(`redisOutbox() through broken connections, with ${kind}`, function () {
    this.timeout(60_000);
    let server: RedisServer;
    let proxy: FaultProxy;
    let own: TestClient;
    let admin: Redis;
    let box: Outbox;

    before(async function () {
      this.timeout(300_000);
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
      await admin.flushall();
      box = redisOutbox({ client: own.client, timeout: 10_000 });
      // Every script known to the server first, so a dropped reply is one of a script that ran
      // (not of an EVALSHA answered NOSCRIPT).
      await box.info('warm-up', 'Warm up.');
      const warm = await box.claim('warm-up');
      await warm.ack(warm.messages);
    });

    it('a send whose reply was lost is stored once', async () => {
      const dropped = proxy.dropReplyTo('Once.');
      await box.info('ann', 'Once.');
      await dropped;
      expect(textsOf((await box.claim('ann')).messages)).to.deep.equal(['Once.']);
    });

    it('a claim whose reply was lost returns the same messages, and nothing is claimed twice', async () => {
      await box.info('ann', 'Once.');
      const dropped = proxy.dropReplyTo(':claims');
      const claim = await box.claim('ann');
      await dropped;
      expect(textsOf(claim.messages)).to.deep.equal(['Once.']);
      expect((await box.claim('ann')).messages).to.deep.equal([]);
      await claim.ack(claim.messages);
    });

    for (const mode of ['ack', 'back'] as const) {
      it(`a ${mode === 'ack' ? 'ack' : 'giveBack'} whose reply was lost neither doubles nor loses`, async () => {
        await box.info('ann', 'A.');
        await box.info('ann', 'B.');
        const claim = await box.claim('ann');
        await box.info('ann', 'C.');
        const dropped = proxy.dropReplyTo(':claims');
        if (mode === 'ack') await claim.ack(claim.messages);
        else await claim.giveBack(claim.messages);
        await dropped;
        expect(textsOf((await box.claim('ann')).messages)).to.deep.equal(
          mode === 'ack' ? ['C.'] : ['A.', 'B.', 'C.'],
        );
      });
    }
  });
}
