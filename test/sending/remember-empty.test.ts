import { expect } from 'chai';
import { Redis } from 'ioredis';

import { redisOutbox } from '../../src/redis.js';
import { EmptyUsers } from '../../src/sending/redis-empty.js';
import { useManualClock } from '../helpers/clock.js';
import { CLIENT_KINDS } from '../helpers/delivery-workload.js';
import { clientOf, commandsRun, connectClient, type TestClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { loggedIn, sendingApp, texts } from './app.js';
import { rememberEmptySuite, untilKnownEmpty, untilShown } from './remember-empty.js';

const CHANNEL = 'koa-messages:outbox:sent';
const keyOf = (user: string) => `koa-messages:outbox:{${Buffer.from(user).toString('base64url')}}`;

describe('redisOutbox() remembers users with nothing pending (rememberEmpty)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let admin: Redis;
  before(async function () {
    this.timeout(300_000); // may apt-get install redis-server first
    server = await startRedis();
    admin = await connectClient(server.port);
  });
  after(async () => {
    admin.disconnect();
    await server.stop();
  });
  beforeEach(() => admin.flushall());

  for (const kind of CLIENT_KINDS)
    describe(`with ${kind}`, () => {
      rememberEmptySuite(kind, { connect: () => server.port, admins: () => [admin] });
    });

  describe('when a notice is lost', () => {
    const clock = useManualClock();
    const opened: TestClient[] = [];
    afterEach(() => {
      for (const made of opened.splice(0)) made.close();
    });
    for (const kind of CLIENT_KINDS) {
      const knownEmpty = async () => {
        const made = await clientOf(kind, server.port);
        opened.push(made);
        const box = redisOutbox({ client: made.client });
        const browser = await loggedIn(sendingApp(box), 'ann');
        await untilKnownEmpty(browser, [admin]);
        return { box, browser };
      };

      it(`${kind}: a killed subscriber forgets every user; a send while it is down shows next, and it comes back`, async () => {
        const { box, browser } = await knownEmpty();
        const bob = await loggedIn(sendingApp(box), 'bob');
        await untilKnownEmpty(bob, [admin]);
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        const worker = redisOutbox({ client: admin, rememberEmpty: 0 }); // another process
        await worker.info('ann', 'Sent while nobody listened.');
        await worker.info('bob', 'From another process, unheard.');
        // Once this process has seen the connection drop, bob's page claims, and makes a new
        // connection (at most one attempt a second, at a claim) ...
        clock.advance(1000);
        expect(await untilShown(bob)).to.deep.equal(['From another process, unheard.']);
        await untilKnownEmpty(bob, [admin]);
        // ... and on the new one, live again, ann's mark from before the kill is not trusted.
        expect(texts((await browser.get('/page')).text)).to.deep.equal([
          'Sent while nobody listened.',
        ]);
        await untilKnownEmpty(browser, [admin]);
      });

      it(`${kind}: a message written without a notice waits at most rememberEmpty`, async () => {
        const { box, browser } = await knownEmpty();
        // A notice lost on a connection not yet seen dead: the message reaches ann's list silently.
        await box.info('tmp', 'Arrived without a notice.');
        await admin.rename(keyOf('tmp'), keyOf('ann'));
        expect(texts((await browser.get('/page')).text), 'still known empty').to.deep.equal([]);
        clock.advance(10_000);
        expect(texts((await browser.get('/page')).text)).to.deep.equal([
          'Arrived without a notice.',
        ]);
      });
    }
  });

  it('a notice heard while a claim is in flight: that claim marks nothing', async () => {
    const made = await clientOf('ioredis', server.port);
    try {
      const users = new EmptyUsers(made.client, CHANNEL, 10_000);
      users.end(users.begin('first'), true); // opens the subscriber; not live yet: no mark
      expect(users.has('first')).to.equal(false);
      // Live once a claim that found nothing marks (the control).
      for (;;) {
        users.end(users.begin('k'), true);
        if (users.has('k')) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const pending = users.begin('k');
      await admin.publish(CHANNEL, 'k');
      // Heard: the mark is gone.
      while (users.has('k')) await new Promise((resolve) => setTimeout(resolve, 5));
      users.end(pending, true);
      expect(users.has('k'), 'the claim that heard it marks nothing').to.equal(false);
    } finally {
      made.close();
    }
  });

  it('an ACL user without the channel still sends once and shows on the next page (nothing remembered)', async () => {
    await admin.call(
      'ACL',
      'SETUSER',
      'no-channels',
      'on',
      '>example-password',
      '~*',
      '+@all',
      'resetchannels',
    );
    const limited = new Redis(server.port, '127.0.0.1', {
      username: 'no-channels',
      password: 'example-password',
    });
    try {
      const box = redisOutbox({ client: limited });
      const browser = await loggedIn(sendingApp(box), 'ann');
      await browser.get('/page').expect(200); // tries to subscribe: NOPERM
      await box.info('ann', 'Sent without the right to publish.');
      expect(texts((await browser.get('/page')).text)).to.deep.equal([
        'Sent without the right to publish.',
      ]);
      const before = (await commandsRun(admin)).scripts;
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      expect((await commandsRun(admin)).scripts, 'claims: nothing can be remembered').to.equal(
        before + 1,
      );
    } finally {
      limited.disconnect();
      await admin.call('ACL', 'DELUSER', 'no-channels');
    }
  });

  it('keeps at most 10 000 users: the oldest is forgotten first', async function () {
    this.timeout(120_000);
    const made = await clientOf('ioredis', server.port);
    try {
      const box = redisOutbox({ client: made.client });
      // Live once a second claim of the same user costs nothing.
      for (;;) {
        await box.claim('warm-up');
        const before = (await commandsRun(admin)).scripts;
        await box.claim('warm-up');
        if ((await commandsRun(admin)).scripts === before) break;
      }
      for (let i = 0; i <= 10_000; i += 500)
        await Promise.all(
          Array.from({ length: Math.min(500, 10_001 - i) }, (_, j) => box.claim(`u${i + j}`)),
        );
      const before = (await commandsRun(admin)).scripts;
      await box.claim('u10000');
      expect((await commandsRun(admin)).scripts, 'the newest is remembered').to.equal(before);
      await box.claim('u0');
      expect((await commandsRun(admin)).scripts, 'the oldest is claimed for').to.equal(before + 1);
    } finally {
      made.close();
    }
  });

  it('refuses a bad rememberEmpty, naming it', async () => {
    const made = await clientOf('ioredis', server.port);
    try {
      for (const bad of [-1, 1.5, '10s'])
        expect(() => redisOutbox({ client: made.client, rememberEmpty: bad as number })).to.throw(
          TypeError,
          /^koa-messages: .*rememberEmpty/,
        );
    } finally {
      made.close();
    }
  });
});
