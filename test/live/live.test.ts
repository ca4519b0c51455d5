import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';

import { expect } from 'chai';
import type { Context } from 'koa';

import {
  type DropEvent,
  memoryOutbox,
  messagesLive,
  type MessagesOptions,
  type Outbox,
} from '../../src/index.js';
import { buildApp } from '../helpers/app.js';
import { connect, listen } from './sse-client.js';

/** The request's user, from a header: these tests are about the stream, not about logging in. */
const headerUser = (ctx: Context): string | undefined => ctx.get('x-user') || undefined;

function liveApp(outbox: Outbox, options: MessagesOptions = {}, live = messagesLive()) {
  return buildApp({
    options: { outbox, user: headerUser, ...options },
    routes: {
      '/live': (ctx) => live(ctx, () => Promise.resolve()),
      '/live-add': (ctx) => {
        ctx.messages.info('Added during the stream.');
        return live(ctx, () => Promise.resolve());
      },
    },
  });
}

describe('messagesLive()', function () {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  async function serve(app: ReturnType<typeof liveApp>) {
    const server = await listen(app);
    servers.push(server);
    return server;
  }

  it('answers an event stream and delivers what was pending at connect', async () => {
    const outbox = memoryOutbox();
    await outbox.info('ann', 'Waiting.');
    await outbox.success('ann', 'Also waiting.', { extraTags: 'big' });
    const { url } = await serve(liveApp(outbox));
    const tab = await connect(url('/live'), { 'x-user': 'ann' });
    expect(tab.response.statusCode).to.equal(200);
    expect(tab.response.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
    expect(tab.response.headers['cache-control']).to.equal('no-store');
    expect(tab.response.headers['x-accel-buffering']).to.equal('no');
    expect(tab.response.headers['set-cookie']).to.equal(undefined);
    await tab.until(() => tab.texts().length === 2);
    const event = tab.events.find((e) => e.event === 'messages')!;
    expect(event.id).to.be.a('string').and.not.equal('');
    expect(JSON.parse(event.data)).to.deep.equal({
      messages: [
        { message: 'Waiting.', tags: 'info' },
        { message: 'Also waiting.', tags: 'big success' },
      ],
    });
    expect((await outbox.claim('ann')).messages).to.deep.equal([]);
    await tab.close();
  });

  it('a send wakes the stream (no heartbeat in between)', async () => {
    const outbox = memoryOutbox();
    const { url } = await serve(liveApp(outbox, {}, messagesLive({ heartbeat: 2 ** 31 - 1 })));
    const tab = await connect(url('/live'), { 'x-user': 'ann' });
    await outbox.info('bob', 'Not for Ann.');
    await outbox.info('ann', 'Your report is ready.');
    await tab.until(() => tab.texts().length === 1);
    expect(tab.texts()).to.deep.equal(['Your report is ready.']);
    expect((await outbox.claim('bob')).messages.map((m) => m.message)).to.deep.equal([
      'Not for Ann.',
    ]);
    await tab.close();
  });

  it('two tabs of one user: each message reaches exactly one', async () => {
    const outbox = memoryOutbox();
    const { url } = await serve(liveApp(outbox));
    const one = await connect(url('/live'), { 'x-user': 'ann' });
    const two = await connect(url('/live'), { 'x-user': 'ann' });
    const sent = Array.from({ length: 30 }, (_, i) => `Message ${i}.`);
    for (const text of sent) await outbox.info('ann', text);
    const all = () => [...one.texts(), ...two.texts()];
    await Promise.race([one.until(() => all().length >= 30), two.until(() => all().length >= 30)]);
    // A last one, after every other: a duplicate, had there been one, would have come before it.
    await outbox.info('ann', 'Last.');
    const last = () => all().includes('Last.');
    await Promise.race([one.until(last), two.until(last)]);
    expect(
      all()
        .filter((t) => t !== 'Last.')
        .sort(),
    ).to.deep.equal([...sent].sort());
    expect(all().filter((t) => t === 'Last.')).to.have.length(1);
    await one.close();
    await two.close();
  });

  it('a reconnecting tab misses nothing and repeats nothing', async () => {
    const inner = memoryOutbox();
    let stopped!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (stopped = resolve));
    const outbox: Outbox = {
      ...inner,
      watch: (user, wake) => {
        const stop = inner.watch(user, wake);
        return () => {
          stop();
          stopped();
        };
      },
    };
    const { url } = await serve(liveApp(outbox));
    const first = await connect(url('/live'), { 'x-user': 'ann' });
    await outbox.info('ann', 'Before.');
    await first.until(() => first.texts().length === 1);
    const lastId = first.events.at(-1)!.id!;
    await first.close();
    // A write to a socket the server has not yet seen closed succeeds and is lost with it
    // (docs/sending.md, "Live in open tabs"): this test is about the reconnect, after the close.
    await serverSawClose;
    await outbox.info('ann', 'While away.');
    const again = await connect(url('/live'), { 'x-user': 'ann', 'last-event-id': lastId });
    await again.until(() => again.texts().length === 1);
    await outbox.info('ann', 'After.');
    await again.until(() => again.texts().length === 2);
    expect(again.texts()).to.deep.equal(['While away.', 'After.']);
    await again.close();
  });

  it('gives back what it could not write: the tab closed while it claimed', async () => {
    const inner = memoryOutbox();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let stopped!: () => void;
    const closed = new Promise<void>((resolve) => (stopped = resolve));
    let claims = 0;
    const outbox: Outbox = {
      ...inner,
      claim: async (user) => {
        const claim = await inner.claim(user);
        if (++claims === 1) await gate;
        return claim;
      },
      watch: (user, wake) => {
        const stop = inner.watch(user, wake);
        return () => {
          stop();
          stopped();
        };
      },
    };
    await inner.info('ann', 'Pending.');
    const { url } = await serve(liveApp(outbox));
    const tab = await connect(url('/live'), { 'x-user': 'ann' });
    await tab.close();
    await closed; // the server saw the close; the claim is still in flight
    release();
    // Given back: the next claim (a page, another tab) gets it.
    let again = await inner.claim('ann');
    while (again.messages.length === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      again = await inner.claim('ann');
    }
    expect(again.messages.map((m) => m.message)).to.deep.equal(['Pending.']);
  });

  it('headers sent: a message added to ctx.messages is reported as headers-sent, no Set-Cookie', async () => {
    const drops: DropEvent[] = [];
    const outbox = memoryOutbox();
    const { url } = await serve(liveApp(outbox, { onDrop: (event) => drops.push(event) }));
    const dropped = new Promise<void>((resolve) => {
      const push = drops.push.bind(drops);
      drops.push = (...events) => {
        const n = push(...events);
        resolve();
        return n;
      };
    });
    const tab = await connect(url('/live-add'), { 'x-user': 'ann' });
    await dropped;
    expect(tab.response.headers['set-cookie']).to.equal(undefined);
    expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
      ['headers-sent', ['Added during the stream.']],
    ]);
    await tab.close();
  });

  it('answers 401 without a user (EventSource does not retry), 204 when asked', async () => {
    const outbox = memoryOutbox();
    await outbox.info('ann', 'Kept.');
    const { url } = await serve(liveApp(outbox));
    const status = async (path: string) => {
      const req = get(url(path), { headers: { accept: 'text/event-stream' } });
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.resume();
      return res.statusCode;
    };
    expect(await status('/live')).to.equal(401);
    const other = await serve(liveApp(outbox, {}, messagesLive({ noUserStatus: 204 })));
    const req = get(other.url('/live'));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    expect(res.statusCode).to.equal(204);
    expect((await outbox.claim('ann')).messages).to.have.length(1);
  });

  it('translates for the request with the app translate', async () => {
    const outbox = memoryOutbox();
    await outbox.info('ann', { id: 'ready', values: { what: 'report' } });
    const { url } = await serve(
      liveApp(outbox, {
        translate: (d, ctx) =>
          ctx.get('accept-language') === 'fr'
            ? `Votre ${String(d.values?.['what'])} est prêt.`
            : d.id,
      }),
    );
    const tab = await connect(url('/live'), { 'x-user': 'ann', 'accept-language': 'fr' });
    await tab.until(() => tab.texts().length === 1);
    expect(tab.texts()).to.deep.equal(['Votre report est prêt.']);
    await tab.close();
  });

  it('misconfiguration: bad options throw; no outbox fails the request', async () => {
    expect(() => messagesLive({ heartbeat: 5 })).to.throw(
      TypeError,
      /messagesLive\(\).*`heartbeat`/,
    );
    expect(() => messagesLive({ colour: 1 } as never)).to.throw(TypeError, /`colour`/);
    const app = buildApp({
      routes: { '/live': (ctx) => messagesLive()(ctx, () => Promise.resolve()) },
    });
    const errors: unknown[] = [];
    app.on('error', (error) => errors.push(error));
    const { url } = await serve(app);
    const req = get(url('/live'), { headers: { accept: 'text/event-stream' } });
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    expect(res.statusCode).to.equal(500);
    expect(String(errors[0])).to.match(
      /koa-messages: messagesLive\(\) needs the messages\(\) options `outbox`/,
    );
  });
});
