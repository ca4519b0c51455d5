import { expect } from 'chai';

import { isMessagesError, memoryOutbox, messages } from '../../src/index.js';
import { PERSISTENT_STORAGES } from '../helpers/storages.js';
import { loggedIn, sendingApp, texts } from './app.js';
import { sendingSuite } from './suite.js';

for (const { name, options } of PERSISTENT_STORAGES)
  sendingSuite(`memoryOutbox() with the ${name} storage`, () => memoryOutbox(), options);

describe('memoryOutbox()', function () {
  it('drops the oldest beyond maxMessages and reports them in the send result', async () => {
    const outbox = memoryOutbox({ maxMessages: 2 });
    await outbox.info('ann', 'One.');
    await outbox.info('ann', 'Two.');
    const report = await outbox.info('ann', 'Three.');
    expect(report.dropped.map((m) => m.message)).to.deep.equal(['One.']);
    const app = sendingApp(outbox);
    const browser = await loggedIn(app, 'ann');
    expect(texts((await browser.get('/page')).text)).to.deep.equal(['Two.', 'Three.']);
  });

  it('gives back unshown messages ahead of those sent since', async () => {
    const outbox = memoryOutbox();
    await outbox.info('ann', 'First.');
    const claim = await outbox.claim('ann');
    await outbox.info('ann', 'Later.');
    expect((await outbox.claim('ann')).messages.map((m) => m.message)).to.deep.equal(['Later.']);
    await claim.giveBack(claim.messages);
    await claim.giveBack(claim.messages); // twice: once
    await outbox.info('ann', 'Last.');
    const again = await outbox.claim('ann');
    expect(again.messages.map((m) => m.message)).to.deep.equal(['First.', 'Last.']);
  });

  it('wakes watchers of the user after a send, until stopped', async () => {
    const outbox = memoryOutbox();
    let woken = 0;
    const woke = new Promise<void>((resolve) => {
      const stop = outbox.watch('ann', () => {
        woken++;
        stop();
        resolve();
      });
    });
    await outbox.info('bob', 'Not Ann.');
    await outbox.info('ann', 'Ann.');
    await woke;
    await outbox.info('ann', 'Again.');
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).to.equal(1);
  });

  it('refuses bad options', () => {
    for (const bad of [{ maxMessages: 0 }, { maxMessages: 1.5 }, { colour: 1 }]) {
      expect(() => memoryOutbox(bad)).to.throw(TypeError, /memoryOutbox\(\)/);
    }
  });

  it('messages() takes outbox and user together or neither', () => {
    const outbox = memoryOutbox();
    for (const [options, named] of [
      [{ outbox }, '`outbox` needs option `user`'],
      [{ user: () => 'ann' }, '`user` needs option `outbox`'],
      [{ claimOn: () => true }, '`claimOn` needs option `outbox`'],
      [{ outbox: {}, user: () => 'ann' }, '`outbox`'],
    ] as const) {
      let error: unknown;
      try {
        messages(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(isMessagesError(error) && error.code).to.equal('ERR_KOA_MESSAGES_OPTION');
      expect((error as Error).message).to.include(named);
    }
  });
});
