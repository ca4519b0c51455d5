import { expect } from 'chai';
import type { Redis } from 'ioredis';

import { redisOutbox } from '../../src/redis.js';
import type { ClientKind } from '../helpers/delivery-workload.js';
import { clientOf, commandsRun, type TestClient } from '../helpers/redis-client.js';
import { loggedIn, sendingApp, texts } from './app.js';

const CHANNEL = 'koa-messages:outbox:sent';

/** Where the suite runs: one server, or a Cluster of masters only (`admins`: one per node, each with one subscriber). */
export interface Target {
  readonly connect: () => number | { cluster: readonly number[] };
  readonly admins: () => readonly Redis[];
}

/** EVALSHA/EVAL run so far, over every node. */
async function scripts(admins: readonly Redis[]): Promise<number> {
  let n = 0;
  for (const admin of admins) n += (await commandsRun(admin)).scripts;
  return n;
}

/** Wait until `n` connections are subscribed to the outbox's "sent" channel, over every node. */
export async function untilListening(admins: readonly Redis[], n: number): Promise<void> {
  for (;;) {
    let count = 0;
    for (const admin of admins)
      count += Number(((await admin.pubsub('NUMSUB', CHANNEL)) as [string, number])[1]);
    if (count === n) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * `rememberEmpty` (src/sending/redis-empty.ts): a user whose claim found nothing is not claimed for
 * again until a send or give-back to them is heard. Each test attacks the promise that this never
 * hides a message: a send from another process, from this one, a give-back, a killed subscriber.
 *
 * Why "the next page" is deterministic across two clients: Redis writes the PUBLISH a script made
 * to the subscriber's socket before the script's reply to the sender, and on loopback both are in
 * this process's sockets by the time the sender reads its reply; the page's request needs a new
 * connection (another turn of the event loop), so the notice has been read first.
 */
export function rememberEmptySuite(kind: ClientKind, target: Target): void {
  const opened: TestClient[] = [];
  const client = async () => {
    const made = await clientOf(kind, target.connect());
    opened.push(made);
    return made.client;
  };
  afterEach(() => {
    for (const made of opened.splice(0)) made.close();
  });

  /** The app's process (an outbox on its own client), its browser of ann, known empty. */
  async function appWithAnnKnownEmpty(options: { rememberEmpty?: number } = {}) {
    const box = redisOutbox({ client: await client(), ...options });
    const browser = await loggedIn(sendingApp(box), 'ann');
    // The first claim opens the subscriber: it is not live yet, so that claim marks nothing.
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    await untilListening(target.admins(), target.admins().length);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    return { box, browser };
  }

  it('a user with nothing pending: after a claim that found nothing, pages make no round trip', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const before = await scripts(target.admins());
    for (let i = 0; i < 5; i++) expect((await browser.get('/page')).text).to.equal('');
    expect(await scripts(target.admins())).to.equal(before);
  });

  it('a send from another process is shown on the next page, once', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const worker = redisOutbox({ client: await client() });
    await worker.success('ann', 'Your report is ready.');
    expect(texts((await browser.get('/page')).text)).to.deep.equal(['Your report is ready.']);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
  });

  it('a send from this process is shown on the next page', async () => {
    const { box, browser } = await appWithAnnKnownEmpty();
    await box.info('ann', 'From a request of another user.');
    expect(texts((await browser.get('/page')).text)).to.deep.equal([
      'From a request of another user.',
    ]);
  });

  it('a claim that finds nothing while another claim is open marks nothing: a give-back shows next', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const worker = redisOutbox({ client: await client() });
    await worker.info('ann', 'Held by a slow request.');
    const held = await worker.claim('ann');
    const before = await scripts(target.admins());
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    expect(await scripts(target.admins()), 'claimed on both pages').to.equal(before + 2);
    await held.giveBack(held.messages);
    expect(texts((await browser.get('/page')).text)).to.deep.equal(['Held by a slow request.']);
  });

  it('rememberEmpty: 0 claims on every page and opens no subscriber connection', async () => {
    const box = redisOutbox({ client: await client(), rememberEmpty: 0 });
    const browser = await loggedIn(sendingApp(box), 'ann');
    const before = await scripts(target.admins());
    for (let i = 0; i < 3; i++) await browser.get('/page').expect(200);
    expect(await scripts(target.admins())).to.equal(before + 3);
    await untilListening(target.admins(), 0);
  });

  it("the subscriber connection closes with the app's client", async () => {
    const made = await clientOf(kind, target.connect());
    const browser = await loggedIn(sendingApp(redisOutbox({ client: made.client })), 'ann');
    await browser.get('/page').expect(200);
    await untilListening(target.admins(), target.admins().length);
    made.close();
    await untilListening(target.admins(), 0);
  });
}
