import { expect } from 'chai';
import type { Context } from 'koa';

import { type MessagesOptions, type MessageStorage, type StoredMessage } from '../../src/index.js';
import { agentOf, caseApp, type StorageKind } from '../hardening/helpers.js';
import { useRedis } from '../hardening/redis.js';
import { useManualClock } from '../helpers/clock.js';

// `maxAge` and `add(…, { maxAge })` (docs/expiry.md), through real HTTP on every persistent
// storage, on a clock the tests move by hand (test/helpers/clock.ts): no real waits.

const SHORT = 300;
const LONG = 60_000;
const PAST_SHORT = SHORT + 150;

type Add = [text: string, maxAge?: number];

async function addFromQuery(ctx: Context): Promise<void> {
  const adds = JSON.parse(String(ctx.query['adds'] ?? '[]')) as Add[];
  for (const [text, maxAge] of adds)
    ctx.messages.success(text, maxAge === undefined ? undefined : { maxAge });
}

const routes = {
  '/add': async (ctx: Context) => {
    await addFromQuery(ctx);
    ctx.redirect('/show');
  },
  '/show': (ctx: Context) => {
    ctx.body = [...ctx.messages].map((m) => ({
      message: m.message,
      addedAt: m.addedAt ?? null,
      maxAge: m.maxAge ?? null,
    }));
  },
  // Loads what is pending (so expired messages go) without reading it.
  '/count': (ctx: Context) => {
    ctx.body = { size: ctx.messages.size };
  },
};

const q = (adds: Add[]) => ({ adds: JSON.stringify(adds) });

const kinds: StorageKind[] = ['session-cookie', 'session-external', 'cookie', 'fallback', 'redis'];

describe('maxAge: messages that are never stale', function () {
  this.timeout(30_000);
  const redis = useRedis();
  const clock = useManualClock();

  for (const kind of kinds) {
    describe(`on ${kind} storage`, () => {
      const setup = (options: MessagesOptions = {}) => {
        const storage = kind === 'redis' ? redis.options() : {};
        const { app, drops, store } = caseApp({
          kind,
          options: { ...storage, ...options },
          routes,
        });
        return { a: agentOf(app), drops, store };
      };

      it('drops a message older than maxAge when a request loads it, and reports it as expired', async () => {
        const { a, drops } = setup({ maxAge: SHORT });
        await a
          .get('/add')
          .query(q([['Old news.']]))
          .expect(302);
        clock.advance(PAST_SHORT);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.deep.equal([]);
        expect(drops.map((d) => [d.reason, d.messages.map((m) => m.message)])).to.deep.equal([
          ['expired', ['Old news.']],
        ]);
        // Gone from the storage too: nothing comes back, and it is reported once.
        expect((await a.get('/show').expect(200)).body).to.deep.equal([]);
        expect(drops).to.have.length(1);
      });

      it('shows a message younger than maxAge, with the time it was added', async () => {
        const { a, drops } = setup({ maxAge: LONG });
        const before = Date.now();
        await a
          .get('/add')
          .query(q([['Fresh.']]))
          .expect(302);
        const after = Date.now();
        const [shown, ...rest] = (await a.get('/show').expect(200)).body as {
          message: string;
          addedAt: number;
          maxAge: null;
        }[];
        expect(rest).to.deep.equal([]);
        expect(shown!.message).to.equal('Fresh.');
        expect(shown!.addedAt).to.be.within(before, after);
        expect(shown!.maxAge).to.equal(null);
        expect(drops).to.deep.equal([]);
      });

      it("a message's own maxAge overrides the option, shorter or longer", async () => {
        const { a, drops } = setup({ maxAge: SHORT + 100 });
        await a
          .get('/add')
          .query(q([['Short-lived.', SHORT], ['Default.'], ['Long-lived.', LONG]]))
          .expect(302);
        clock.advance(SHORT + 250);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.have.length(1);
        expect(res.body[0]).to.include({ message: 'Long-lived.', maxAge: LONG });
        expect(drops).to.have.length(1);
        expect(drops[0]!.reason).to.equal('expired');
        expect(drops[0]!.messages.map((m) => [m.message, m.maxAge])).to.deep.equal([
          ['Short-lived.', SHORT],
          ['Default.', undefined],
        ]);
      });

      it('a message with its own maxAge expires in an app without the option; the others never do', async () => {
        const { a, drops } = setup();
        await a
          .get('/add')
          .query(q([['Brief.', SHORT], ['Lasting.']]))
          .expect(302);
        clock.advance(PAST_SHORT);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.deep.equal([{ message: 'Lasting.', addedAt: null, maxAge: null }]);
        expect(drops.map((d) => d.reason)).to.deep.equal(['expired']);
      });

      it('a request that loads but does not read keeps the add time: the age is not reset', async () => {
        const { a, drops } = setup({ maxAge: 2 * SHORT });
        await a
          .get('/add')
          .query(q([['Waiting.']]))
          .expect(302);
        clock.advance(SHORT + 50);
        // Loaded, still fresh, not consumed: it goes back to the storage with its first add time.
        expect((await a.get('/count').expect(200)).body).to.deep.equal({ size: 1 });
        clock.advance(SHORT + 100);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([]);
        expect(drops.map((d) => [d.reason, d.messages.length])).to.deep.equal([['expired', 1]]);
      });
    });
  }

  describe('the stored form', () => {
    it('without maxAge, stores exactly the bytes it stored before maxAge existed', async () => {
      const { app, store } = caseApp({ kind: 'session-external', routes });
      const a = agentOf(app);
      await a
        .get('/add')
        .query(q([['Saved.']]))
        .expect(302);
      expect(store!.only().value['messages']).to.deep.equal([[25, 'Saved.']]);
      expect(JSON.stringify(store!.only().value['messages'])).to.equal('[[25,"Saved."]]');
    });

    it('with maxAge, stores the add time, and a message’s own maxAge after it', async () => {
      const { app, store } = caseApp({
        kind: 'session-external',
        options: { maxAge: LONG },
        routes,
      });
      const a = agentOf(app);
      const before = Date.now();
      await a
        .get('/add')
        .query(q([['Saved.'], ['Brief.', SHORT]]))
        .expect(302);
      const [first, second] = store!.only().value['messages'] as unknown[][];
      expect(first!.slice(0, 5)).to.deep.equal([25, 'Saved.', '', 0, '']);
      expect(first![5]).to.be.within(before, Date.now());
      expect(first).to.have.length(6);
      expect(second!.slice(0, 5)).to.deep.equal([25, 'Brief.', '', 0, '']);
      expect(second![6]).to.equal(SHORT);
    });

    it('entries stored without an add time count as fresh when maxAge is turned on', async () => {
      // Written by a deploy without maxAge (the session holds [[25, "From before."]]), then read by
      // one that sets it: the same koa-session store behind both apps.
      const first = caseApp({ kind: 'session-cookie', routes });
      const a = agentOf(first.app);
      await a
        .get('/add')
        .query(q([['From before.']]))
        .expect(302);
      const later = caseApp({ kind: 'session-cookie', options: { maxAge: 1 }, routes });
      clock.advance(5);
      const cookie = (await a.get('/count').expect(200)).request.cookies;
      const res = await agentOf(later.app).get('/show').set('Cookie', cookie).expect(200);
      expect(res.body).to.deep.equal([{ message: 'From before.', addedAt: null, maxAge: null }]);
      expect(later.drops).to.deep.equal([]);
    });
  });

  describe('clock steps and forged times', () => {
    /** A real storage over one in-memory list, standing for any storage whose data was edited. */
    function listStorage(list: StoredMessage[]): MessageStorage & { list: StoredMessage[] } {
      const storage = {
        list,
        open: () => ({
          load: () => storage.list,
          save: ({ pending, changed }: { pending: readonly StoredMessage[]; changed: boolean }) => {
            if (changed) storage.list = [...pending];
          },
        }),
      };
      return storage;
    }

    it('a time in the future counts from the first request that sees it, and is stored so', async () => {
      const year = 365 * 24 * 3600 * 1000;
      const storage = listStorage([
        {
          level: 25,
          message: 'From the future.',
          extraTags: '',
          html: false,
          addedAt: Date.now() + year,
        },
      ]);
      const { app, drops } = caseApp({
        kind: 'memory',
        options: { storage, maxAge: SHORT },
        routes,
      });
      const a = agentOf(app);
      const before = Date.now();
      expect((await a.get('/count').expect(200)).body).to.deep.equal({ size: 1 });
      // Rewritten with the time of that request: it cannot live forever...
      expect(storage.list).to.have.length(1);
      expect(storage.list[0]!.addedAt).to.be.within(before, Date.now());
      clock.advance(PAST_SHORT);
      // ...and lives at most maxAge past it.
      expect((await a.get('/show').expect(200)).body).to.deep.equal([]);
      expect(drops.map((d) => d.reason)).to.deep.equal(['expired']);
      expect(storage.list).to.deep.equal([]);
    });

    it('a time just before now is fresh, one older than maxAge expired, on the same load', async () => {
      const now = Date.now();
      const storage = listStorage([
        { level: 25, message: 'Stale.', extraTags: '', html: false, addedAt: now - LONG - 1000 },
        { level: 25, message: 'Recent.', extraTags: '', html: false, addedAt: now - 10 },
        {
          level: 25,
          message: 'Own limit.',
          extraTags: '',
          html: false,
          addedAt: now - 2000,
          maxAge: 1000,
        },
      ]);
      const { app, drops } = caseApp({
        kind: 'memory',
        options: { storage, maxAge: LONG },
        routes,
      });
      const res = await agentOf(app).get('/show').expect(200);
      expect(res.body.map((m: { message: string }) => m.message)).to.deep.equal(['Recent.']);
      expect(drops.flatMap((d) => d.messages.map((m) => m.message))).to.deep.equal([
        'Stale.',
        'Own limit.',
      ]);
    });
  });
  // Bad maxAge values, to add() and to messages(): test/hardening/bad-input.test.ts.
});
