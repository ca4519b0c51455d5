import { expect } from 'chai';

import {
  type DropEvent,
  isMessagesError,
  type MessagesOptions,
  type Outbox,
} from '../../src/index.js';
import { agent } from '../helpers/app.js';
import { loggedIn, sendingApp, texts } from './app.js';

/** An outbox that counts its claims (the round trips a request pays), over a real one. */
export function counting(outbox: Outbox): Outbox & { claims: number } {
  const counted = {
    ...outbox,
    name: outbox.name,
    claims: 0,
    claim(user: string | number) {
      counted.claims++;
      return outbox.claim(user);
    },
  };
  return counted;
}

/**
 * Messages sent to users, through real HTTP, for one outbox and one visitor storage: the
 * behaviour every outbox must give (docs/sending.md).
 */
export function sendingSuite(
  title: string,
  make: () => Outbox,
  visitor: MessagesOptions,
  fresh: () => Promise<void> = () => Promise.resolve(),
): void {
  describe(title, function () {
    let outbox: Outbox;
    beforeEach(async () => {
      await fresh();
      outbox = make();
    });

    it('shows a sent message once, on the next page of its user, after the visitor messages', async () => {
      const app = sendingApp(outbox, visitor);
      const browser = await loggedIn(app, 'ann');
      await outbox.success('ann', 'Your export is ready.');
      await outbox.send(42, 'info', 'For user 42.');
      await browser.get('/add').query({ text: 'Saved.' }).expect(302);
      const page = await browser.get('/page').expect(200);
      expect(texts(page.text)).to.deep.equal(['Saved.', 'Your export is ready.']);
      expect(texts((await browser.get('/page').expect(200)).text)).to.deep.equal([]);
      const other = await loggedIn(app, '42');
      expect(texts((await other.get('/page')).text)).to.deep.equal(['For user 42.']);
    });

    it('keeps sent messages on HEAD, prefetch, failed, and htmx-navigation responses', async () => {
      const app = sendingApp(outbox, { ...visitor, htmx: true });
      const browser = await loggedIn(app, 'ann');
      await outbox.info('ann', 'Waiting.');
      await browser.head('/page').expect(200);
      await browser.get('/page').set('Sec-Purpose', 'prefetch').expect(200);
      await browser.get('/fail').expect(500);
      await browser.get('/nav').set('HX-Request', 'true').expect(200);
      await browser.get('/quiet').expect(200);
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['Waiting.']);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    });

    it('never shows a user message to the next user of the same browser', async () => {
      const app = sendingApp(outbox, visitor);
      const browser = await loggedIn(app, 'ann');
      await outbox.info('ann', 'For Ann only.');
      await browser.get('/fail').expect(500); // claimed, read, not shown: given back to Ann
      await browser.get('/quiet').expect(200); // claimed, not read: given back
      await browser.get('/logout').expect(200);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      await browser.get('/login').query({ user: 'bob' }).expect(200);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      await browser.get('/login').query({ user: 'ann' }).expect(200);
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['For Ann only.']);
    });

    it('waits while its user is logged out, and for a visitor claims nothing', async () => {
      const counted = counting(outbox);
      const app = sendingApp(counted, visitor);
      const browser = agent(app);
      await outbox.info('ann', 'While you were away.');
      await browser.get('/page').expect(200);
      expect(counted.claims).to.equal(0);
      await browser.get('/login').query({ user: 'ann' }).expect(200);
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['While you were away.']);
    });

    it('claims once per (d) cycle: not on the form POST, once on the GET it redirects to', async () => {
      const counted = counting(outbox);
      const app = sendingApp(counted, visitor);
      const browser = await loggedIn(app, 'ann');
      counted.claims = 0;
      await browser.post('/add').query({ text: 'Saved.' }).type('form').send('a=1').expect(302);
      expect(counted.claims).to.equal(0);
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['Saved.']);
      expect(counted.claims).to.equal(1);
      await browser.options('/page');
      await browser.head('/page');
      expect(counted.claims).to.equal(1);
      // fetch() for ctx.ajax() claims, whatever its method
      await outbox.info('ann', 'Live.');
      const ajax = await browser.post('/ajax').set('Accept', 'application/json').expect(200);
      expect(
        (ajax.body as { messages: { message: string }[] }).messages.map((m) => m.message),
      ).to.deep.equal(['Live.']);
      expect(counted.claims).to.equal(2);
    });

    it('shows a message to exactly one of two devices loading at once', async () => {
      const app = sendingApp(outbox, visitor);
      const phone = await loggedIn(app, 'ann');
      const laptop = await loggedIn(app, 'ann');
      for (let round = 0; round < 10; round++) {
        await outbox.info('ann', `Round ${round}.`);
        const [a, b] = await Promise.all([phone.get('/page'), laptop.get('/page')]);
        expect([...texts(a.text), ...texts(b.text)]).to.deep.equal([`Round ${round}.`]);
      }
    });

    it('keys: a later send replaces the pending one; an add with the key replaces a claimed one', async () => {
      const app = sendingApp(outbox, visitor);
      const browser = await loggedIn(app, 'ann');
      await outbox.info('ann', '1 export ready.', { key: 'exports' });
      await outbox.info('ann', '2 exports ready.', { key: 'exports' });
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['2 exports ready.']);
      await outbox.info('ann', 'Old progress.', { key: 'progress' });
      const page = await browser.get('/keyed').query({ text: 'New progress.', key: 'progress' });
      expect(texts(page.text)).to.deep.equal(['New progress.']);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    });

    it('drops a sent message past its maxAge when claimed, to onDrop', async () => {
      const drops: DropEvent[] = [];
      const app = sendingApp(outbox, { ...visitor, onDrop: (e) => drops.push(e) });
      const browser = await loggedIn(app, 'ann');
      await outbox.info('ann', 'Brief.', { maxAge: 1 });
      await outbox.info('ann', 'Lasting.');
      const deadline = Date.now() + 2; // the first is past its age once the clock moves 2 ms
      while (Date.now() <= deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(texts((await browser.get('/page')).text)).to.deep.equal(['Lasting.']);
      expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
        ['expired', ['Brief.']],
      ]);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
    });

    it('fails the request when the user resolver throws, claiming nothing', async () => {
      const app = sendingApp(outbox, {
        ...visitor,
        user: (ctx) => {
          if (ctx.path === '/page') throw new Error('no user store');
          return 'ann';
        },
      });
      const browser = agent(app);
      await outbox.info('ann', 'Still here.');
      await browser.get('/page').expect(500);
      const ajax = await browser.get('/ajax').set('Accept', 'application/json').expect(200);
      const shown = (ajax.body as { messages: { message: string }[] }).messages;
      expect(shown.map((m) => m.message)).to.deep.equal(['Still here.']);
    });

    it('refuses bad user ids, messages and options before writing anything', async () => {
      const app = sendingApp(outbox, visitor);
      const browser = await loggedIn(app, 'ann');
      const bad: [unknown, unknown, unknown, unknown][] = [
        ['', 'info', 'x', undefined],
        ['a'.repeat(257), 'info', 'x', undefined],
        ['a\nb', 'info', 'x', undefined],
        [{ id: 1 }, 'info', 'x', undefined],
        [1.5, 'info', 'x', undefined],
        ['ann', 'loud', 'x', undefined],
        ['ann', 'info', 42, undefined],
        ['ann', 'info', 'x', { maxAge: -1 }],
        ['ann', 'info', 'x', { colour: 'red' }],
        ['ann', 'info', 'x', { key: '' }],
      ];
      for (const [user, level, message, options] of bad) {
        const send = outbox.send.bind(outbox) as (...args: unknown[]) => Promise<unknown>;
        const error: unknown = await send(user, level, message, options).then(
          () => 'resolved',
          (e: unknown) => e,
        );
        expect(
          isMessagesError(error),
          `${String(user)} ${String(level)} ${String(message)}`,
        ).to.equal(true);
      }
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      expect((await outbox.send('ann', 'info', '')).dropped).to.deep.equal([]);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      expect(texts((await browser.get('/page')).text)).to.deep.equal([]);
      await outbox.info('a'.repeat(256), 'Longest id.');
      expect((await outbox.claim('a'.repeat(256))).messages.map((m) => m.message)).to.deep.equal([
        'Longest id.',
      ]);
    });
  });
}
