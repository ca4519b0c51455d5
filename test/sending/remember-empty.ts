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
export async function scripts(admins: readonly Redis[]): Promise<number> {
  let n = 0;
  for (const admin of admins) n += (await commandsRun(admin)).scripts;
  return n;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Wait until `n` connections are subscribed to the outbox's "sent" channel, over every node. */
export async function untilListening(admins: readonly Redis[], n: number): Promise<void> {
  for (;;) {
    let count = 0;
    for (const admin of admins)
      count += Number(((await admin.pubsub('NUMSUB', CHANNEL)) as [string, number])[1]);
    if (count === n) return;
    await tick();
  }
}

type Browser = Awaited<ReturnType<typeof loggedIn>>;

/**
 * Load pages (showing nothing) until one costs no script: the user is known empty. The
 * subscription being live is this process's state, which Redis cannot show (it may count the
 * subscriber before this process has read the reply), so the test waits for its effect.
 */
export async function untilKnownEmpty(browser: Browser, admins: readonly Redis[]): Promise<void> {
  for (;;) {
    const before = await scripts(admins);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    if ((await scripts(admins)) === before) return;
    await tick();
  }
}

/**
 * Load pages until one shows something: a notice from another process arrives a moment after the
 * send (Redis may write the sender's reply first), so "the next page" is not a promise across
 * processes; "shown, once" is. The test's timeout is the bound; `rememberEmpty` is set far above
 * it, so only the notice can end the wait.
 */
export async function untilShown(browser: Browser): Promise<string[]> {
  for (;;) {
    const shown = texts((await browser.get('/page')).text);
    if (shown.length > 0) return shown;
    await tick();
  }
}

/**
 * `rememberEmpty` (src/sending/redis-empty.ts): a user whose claim found nothing is not claimed for
 * again until a send or give-back to them is heard. Each test attacks the promise that this never
 * hides a message: a send from another process, from this one, a give-back, a killed subscriber.
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
  const FAR = 10 * 60_000; // far above the test's timeout: no mark expires during a test

  /** The app's process (an outbox on its own client), its browser of ann, known empty. */
  async function appWithAnnKnownEmpty() {
    const box = redisOutbox({ client: await client(), rememberEmpty: FAR });
    const browser = await loggedIn(sendingApp(box), 'ann');
    await untilKnownEmpty(browser, target.admins());
    return { box, browser };
  }

  it('a user with nothing pending: after a claim that found nothing, pages make no round trip', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const before = await scripts(target.admins());
    for (let i = 0; i < 5; i++) expect((await browser.get('/page')).text).to.equal('');
    expect(await scripts(target.admins())).to.equal(before);
  });

  it('a send from another process is shown once its notice arrives, once', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const worker = redisOutbox({ client: await client() });
    await worker.success('ann', 'Your report is ready.');
    expect(await untilShown(browser)).to.deep.equal(['Your report is ready.']);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
  });

  it('a send from this process is shown on the next page', async () => {
    const { box, browser } = await appWithAnnKnownEmpty();
    await box.info('ann', 'From a request of another user.');
    expect(texts((await browser.get('/page')).text)).to.deep.equal([
      'From a request of another user.',
    ]);
  });

  it('a claim that finds nothing while another claim is open marks nothing; a give-back is shown', async () => {
    const { browser } = await appWithAnnKnownEmpty();
    const worker = redisOutbox({ client: await client() });
    await worker.info('ann', 'Held by a slow request.');
    const held = await worker.claim('ann');
    // Once the send's notice is heard, ann's pages claim (finding nothing: it is held) ...
    for (;;) {
      const before = await scripts(target.admins());
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      if ((await scripts(target.admins())) === before + 1) break;
    }
    // ... and keep claiming while the claim is open.
    const before = await scripts(target.admins());
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    expect(await scripts(target.admins()), 'claimed on both pages').to.equal(before + 2);
    await held.giveBack(held.messages);
    expect(await untilShown(browser)).to.deep.equal(['Held by a slow request.']);
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
