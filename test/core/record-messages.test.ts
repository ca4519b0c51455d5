import diagnostics from 'node:diagnostics_channel';

import { expect } from 'chai';
import type { Context } from 'koa';

import { CHANNELS, isMessagesError } from '../../src/index.js';
import { recordMessages } from '../../src/testing/index.js';
import { agentOf, caseApp, readJson } from '../hardening/helpers.js';

// koa-messages/testing's recordMessages(): what one response showed, kept, requeued and dropped,
// read from the diagnostics channels over real HTTP, without cookie keys or HTML.

const routes = {
  '/add': (ctx: Context) => {
    ctx.messages.success('Saved.');
    ctx.messages.warning('Check <this>.', { key: 'check' });
    ctx.body = 'added';
  },
  '/page': (ctx: Context) => {
    ctx.type = 'html';
    ctx.body = `<ul>${[...ctx.messages].map((m) => `<li>${m.message}</li>`).join('')}</ul>`;
  },
  '/ajax': (ctx: Context) => void ctx.ajax({ ok: 1 }),
  '/fragment': (ctx: Context) => void (ctx.body = 'partial'),
  '/download': (ctx: Context) => {
    ctx.messages.toHeader();
    ctx.status = 204;
  },
  '/flash': (ctx: Context) => {
    ctx.body = (ctx as unknown as { flash(type: string): string[] }).flash('success');
  },
  '/fail': (ctx: Context) => {
    readJson(ctx);
    throw new Error('boom');
  },
  '/many': (ctx: Context) => {
    for (const text of ['One.', 'Two.', 'Three.']) ctx.messages.info(text);
    ctx.body = 'ok';
  },
};

const SAVED = { message: 'Saved.', tags: 'success', level: 25 };
const CHECK = { message: 'Check <this>.', tags: 'warning', level: 30 };

describe('recordMessages() (koa-messages/testing)', () => {
  const app = () =>
    caseApp({ kind: 'session-cookie', routes, options: { htmx: true, flash: true } }).app;

  for (const [path, transport, headers] of [
    ['/page', 'iteration', {}],
    ['/ajax', 'ajax', {}],
    ['/fragment', 'hx-trigger', { 'HX-Request': 'true' }],
    ['/download', 'x-messages', {}],
  ] as const) {
    it(`tells what ${path} showed through ${transport}, and returns the response`, async () => {
      const a = agentOf(app());
      await a.get('/add').expect(200);
      const { result, shown, kept, dropped } = await recordMessages(() => a.get(path).set(headers));
      expect(result.status).to.be.oneOf([200, 204]);
      expect(shown).to.deep.equal([
        { ...SAVED, transport },
        { ...CHECK, transport },
      ]);
      expect({ kept, dropped }).to.deep.equal({ kept: [], dropped: [] });
    });
  }

  it('tells what ctx.flash(type) took', async () => {
    const a = agentOf(app());
    await a.get('/add').expect(200);
    const { shown } = await recordMessages(() => a.get('/flash').expect(200));
    expect(shown).to.deep.equal([{ ...SAVED, transport: 'flash' }]);
  });

  it('tells what a failed response read and kept, and why', async () => {
    const a = agentOf(app());
    await a.get('/add').expect(200);
    const { shown, kept } = await recordMessages(() => a.get('/fail').expect(500));
    expect(shown).to.deep.equal([]);
    expect(kept).to.deep.equal([
      { ...SAVED, transport: 'iteration', reason: 'failed' },
      { ...CHECK, transport: 'iteration', reason: 'failed' },
    ]);
  });

  it('tells what was added, with its key', async () => {
    const { added } = await recordMessages(() => agentOf(app()).get('/add').expect(200));
    expect(added).to.deep.equal([
      { ...SAVED, key: undefined, deduplicated: false, replaced: 0 },
      { ...CHECK, key: 'check', deduplicated: false, replaced: 0 },
    ]);
  });

  it('tells what was dropped, and why', async () => {
    const { app: small } = caseApp({ kind: 'cookie', routes, options: { maxMessages: 2 } });
    const { dropped } = await recordMessages(() => agentOf(small).get('/many').expect(200));
    expect(dropped).to.deep.equal([
      { message: 'One.', tags: 'info', level: 20, reason: 'max-messages' },
    ]);
  });

  it('tells what HX-Trigger had no room for', async () => {
    const { app: tight } = caseApp({
      kind: 'memory',
      options: { htmx: true, maxHeaderBytes: 256 },
      routes: {
        '/': (ctx: Context) => {
          ctx.messages.info('Short.');
          ctx.messages.info('x'.repeat(300));
          ctx.body = 'partial';
        },
      },
    });
    const { shown, requeued } = await recordMessages(() =>
      agentOf(tight).get('/').set('HX-Request', 'true').expect(200),
    );
    expect(shown.map((m) => m.message)).to.deep.equal(['Short.']);
    expect(requeued).to.deep.equal([
      { message: 'x'.repeat(300), tags: 'info', level: 20, transport: 'hx-trigger' },
    ]);
  });

  it('unsubscribes when run ends, also when it throws', async () => {
    await recordMessages(() => 1);
    const error = await recordMessages(() => Promise.reject(new Error('run failed'))).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).to.equal('run failed');
    for (const name of [CHANNELS.added, CHANNELS.shown, CHANNELS.kept, CHANNELS.dropped])
      expect(diagnostics.hasSubscribers(name), name).to.equal(false);
  });

  it('rejects a run that is not a function', async () => {
    const error = await recordMessages('GET /' as never).catch((caught: unknown) => caught);
    expect(isMessagesError(error) && error.code).to.equal('ERR_KOA_MESSAGES_ARGUMENT');
  });
});
