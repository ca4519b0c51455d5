import { expect } from 'chai';
import type { Context } from 'koa';

import type { MessagesOptions } from '../../src/index.js';
import { agentOf, caseApp, type StorageKind } from '../hardening/helpers.js';
import { useRedis } from '../hardening/redis.js';

// `dedupe` and `add(…, { key })` (docs/dedupe.md), through real HTTP on every persistent storage.

type Add = [level: 'info' | 'success' | 'warning', text: string, extraTags?: string, key?: string];

/** POST a JSON list of adds; the route adds them in order. */
function addFromQuery(ctx: Context): void {
  const adds = JSON.parse(String(ctx.query['adds'] ?? '[]')) as Add[];
  for (const [level, text, extraTags, key] of adds) {
    ctx.messages.add(level, text, {
      ...(extraTags === undefined ? {} : { extraTags }),
      ...(key === undefined ? {} : { key }),
    });
  }
}

const shown = (ctx: Context) => [...ctx.messages].map((m) => [m.message, m.tags, m.key ?? null]);

const routes = {
  '/add': (ctx: Context) => {
    addFromQuery(ctx);
    ctx.status = 303;
    ctx.redirect('/show');
  },
  '/show': (ctx: Context) => {
    ctx.body = shown(ctx);
  },
  // Reads what is pending, then adds: the read messages are consumed before the adds.
  '/read-then-add': (ctx: Context) => {
    const read = shown(ctx);
    addFromQuery(ctx);
    ctx.body = read;
  },
  // Adds, then reads within the same request.
  '/add-show': (ctx: Context) => {
    addFromQuery(ctx);
    ctx.body = shown(ctx);
  },
};

const kinds: [StorageKind, MessagesOptions][] = [
  ['session-cookie', {}],
  ['session-external', {}],
  ['cookie', {}],
  ['fallback', {}],
  ['redis', {}],
];

const q = (adds: Add[]) => ({ adds: JSON.stringify(adds) });

describe('dedupe and keys', function () {
  this.timeout(20_000);
  const redis = useRedis();

  for (const [kind, base] of kinds) {
    describe(`on ${kind} storage`, () => {
      const agentFor = (options: MessagesOptions = {}) => {
        const storage = kind === 'redis' ? redis.options() : {};
        const { app, drops } = caseApp({
          kind,
          options: { ...base, ...storage, ...options },
          routes,
        });
        return { a: agentOf(app), drops };
      };

      it('keeps identical messages without dedupe, as Django does', async () => {
        const { a } = agentFor();
        await a
          .get('/add')
          .query(
            q([
              ['success', 'Saved.'],
              ['success', 'Saved.'],
            ]),
          )
          .expect(303);
        await a
          .get('/add')
          .query(q([['success', 'Saved.']]))
          .expect(303);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.deep.equal([
          ['Saved.', 'success', null],
          ['Saved.', 'success', null],
          ['Saved.', 'success', null],
        ]);
      });

      it('with dedupe, adds nothing equal to a pending message, in this request or stored', async () => {
        const { a, drops } = agentFor({ dedupe: true });
        await a
          .get('/add')
          .query(
            q([
              ['success', 'Saved.'],
              ['success', 'Saved.'],
              // Not equal: another level, other extra tags.
              ['info', 'Saved.'],
              ['success', 'Saved.', 'sticky'],
            ]),
          )
          .expect(303);
        // A double submit: the same add again in the next request, the first still unread.
        await a
          .get('/add')
          .query(
            q([
              ['success', 'Saved.'],
              ['warning', 'New.'],
            ]),
          )
          .expect(303);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.deep.equal([
          ['Saved.', 'success', null],
          ['Saved.', 'info', null],
          ['Saved.', 'sticky success', null],
          ['New.', 'warning', null],
        ]);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([]);
        expect(drops).to.deep.equal([]);
      });

      it('with dedupe, a message already read is not pending: the same text is added again', async () => {
        const { a } = agentFor({ dedupe: true });
        await a
          .get('/add')
          .query(q([['success', 'Saved.']]))
          .expect(303);
        const read = await a
          .get('/read-then-add')
          .query(q([['success', 'Saved.']]))
          .expect(200);
        expect(read.body).to.deep.equal([['Saved.', 'success', null]]);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([
          ['Saved.', 'success', null],
        ]);
      });

      it('replaces the pending message with the same key, across requests: earlier removed, later appended', async () => {
        const { a } = agentFor();
        await a
          .get('/add')
          .query(
            q([
              ['success', '3 items saved.', '', 'items'],
              ['info', 'Other.'],
            ]),
          )
          .expect(303);
        await a
          .get('/add')
          .query(q([['success', '4 items saved.', '', 'items']]))
          .expect(303);
        const res = await a.get('/show').expect(200);
        expect(res.body).to.deep.equal([
          ['Other.', 'info', null],
          ['4 items saved.', 'success', 'items'],
        ]);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([]);
      });

      it('replaces within one request, and keeps messages of other keys', async () => {
        const { a } = agentFor();
        await a
          .get('/add')
          .query(
            q([
              ['success', '1 saved.', '', 'items'],
              ['warning', 'Low disk.', '', 'disk'],
              ['success', '2 saved.', '', 'items'],
              ['success', '3 saved.', '', 'items'],
            ]),
          )
          .expect(303);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([
          ['Low disk.', 'warning', 'disk'],
          ['3 saved.', 'success', 'items'],
        ]);
      });

      it('a key whose stored message was read in this request just appends', async () => {
        const { a } = agentFor();
        await a
          .get('/add')
          .query(q([['success', '3 saved.', '', 'items']]))
          .expect(303);
        const read = await a
          .get('/read-then-add')
          .query(q([['success', '4 saved.', '', 'items']]))
          .expect(200);
        expect(read.body).to.deep.equal([['3 saved.', 'success', 'items']]);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([
          ['4 saved.', 'success', 'items'],
        ]);
      });

      it('with dedupe and a key, an equal keyed message stays where it is; a changed one replaces it', async () => {
        const { a } = agentFor({ dedupe: true });
        await a
          .get('/add')
          .query(
            q([
              ['success', '3 saved.', '', 'items'],
              ['info', 'Other.'],
              ['success', '3 saved.', '', 'items'],
            ]),
          )
          .expect(303);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([
          ['3 saved.', 'success', 'items'],
          ['Other.', 'info', null],
        ]);
        await a
          .get('/add')
          .query(
            q([
              ['success', '3 saved.', '', 'items'],
              ['info', 'Other.'],
            ]),
          )
          .expect(303);
        await a
          .get('/add')
          .query(q([['success', '4 saved.', '', 'items']]))
          .expect(303);
        expect((await a.get('/show').expect(200)).body).to.deep.equal([
          ['Other.', 'info', null],
          ['4 saved.', 'success', 'items'],
        ]);
      });
    });
  }

  it('a keyed message read by ctx.flash(type) is consumed: neither dedupe nor its key sees it', async () => {
    const { app } = caseApp({
      kind: 'cookie',
      options: { flash: true, dedupe: true },
      routes: {
        ...routes,
        '/flash': (ctx: Context) => {
          const read = ctx.flash('success');
          addFromQuery(ctx);
          ctx.body = read;
        },
      },
    });
    const a = agentOf(app);
    await a
      .get('/add')
      .query(q([['success', '3 saved.', '', 'items']]))
      .expect(303);
    const read = await a
      .get('/flash')
      .query(q([['success', '3 saved.', '', 'items']]))
      .expect(200);
    expect(read.body).to.deep.equal(['3 saved.']);
    // Not a duplicate of the message flash() read: it is added, and shown next time.
    expect((await a.get('/show').expect(200)).body).to.deep.equal([
      ['3 saved.', 'success', 'items'],
    ]);
  });

  it('counts replaced messages out of size within one request (memory storage)', async () => {
    const { app } = caseApp({
      kind: 'memory',
      options: { dedupe: true },
      routes: {
        '/': (ctx: Context) => {
          ctx.messages.success('a', { key: 'k' });
          ctx.messages.success('b', { key: 'k' });
          ctx.messages.info('x');
          ctx.messages.info('x');
          const size = ctx.messages.size;
          ctx.body = { size, shown: shown(ctx) };
        },
      },
    });
    const res = await agentOf(app).get('/').expect(200);
    expect(res.body).to.deep.equal({
      size: 2,
      shown: [
        ['b', 'success', 'k'],
        ['x', 'info', null],
      ],
    });
  });
});
