import diagnostics from 'node:diagnostics_channel';

import { expect } from 'chai';
import type { Context } from 'koa';
import type { Test } from 'supertest';

import {
  type AddedEvent,
  CHANNELS,
  type DroppedEvent,
  type KeptEvent,
  type MessagesOptions,
  type MessageStorage,
  type RequeuedEvent,
  type ShownEvent,
  type StorageOperation,
  type StoredMessage,
} from '../../src/index.js';
import { agentOf, caseApp, readJson, type StorageKind } from '../hardening/helpers.js';
import { useRedis } from '../hardening/redis.js';

// Every koa-messages:* event, subscribed to and checked payload for payload, over real HTTP on
// each storage and each transport (docs/observability.md). Subscriptions end after each test.

const PLAIN = [CHANNELS.added, CHANNELS.shown, CHANNELS.kept, CHANNELS.requeued, CHANNELS.dropped];
const PHASES = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

interface Seen {
  channel: string;
  event: unknown;
}

/** What a subscriber saw, in order; the storage operations as a snapshot per phase. */
class Listener {
  readonly seen: Seen[] = [];
  readonly storage: string[] = [];
  readonly #plain = new Map<string, (event: unknown) => void>();
  readonly #tracing = diagnostics.tracingChannel<string, StorageOperation>(CHANNELS.storage);
  readonly #handlers = Object.fromEntries(
    PHASES.map((phase) => [
      phase,
      (op: StorageOperation) => {
        const result =
          op.result === undefined
            ? ''
            : op.result === null
              ? ' → null'
              : Array.isArray(op.result)
                ? ` → ${op.result.length} message(s)`
                : ' → ' + typeof op.result;
        const error = op.error === undefined ? '' : ` ! ${(op.error as Error).message}`;
        const path = op.ctx.path;
        this.storage.push(`${path} ${op.storage} ${op.operation} ${phase}${result}${error}`);
      },
    ]),
  ) as unknown as diagnostics.TracingChannelSubscribers<StorageOperation>;

  constructor() {
    for (const channel of PLAIN) {
      const listener = (event: unknown) => this.seen.push({ channel, event });
      this.#plain.set(channel, listener);
      diagnostics.subscribe(channel, listener);
    }
    this.#tracing.subscribe(this.#handlers);
  }

  stop(): void {
    for (const [channel, listener] of this.#plain) diagnostics.unsubscribe(channel, listener);
    this.#tracing.unsubscribe(this.#handlers);
  }

  of<T>(channel: string): T[] {
    return this.seen.filter((s) => s.channel === channel).map((s) => s.event as T);
  }
}

const brief = (m: StoredMessage & { tags?: string }) => ({
  level: m.level,
  message: m.message,
  tags: m.tags,
  key: m.key,
});

let listener: Listener | undefined;
const listen = () => (listener = new Listener());
afterEach(() => {
  listener?.stop();
  listener = undefined;
});

const SHOW: Record<string, (ctx: Context) => void> = {
  iteration: readJson,
  ajax: (ctx) => void ctx.ajax({}),
  'hx-trigger': (ctx) => void (ctx.body = 'partial'),
  'x-messages': (ctx) => {
    ctx.messages.toHeader();
    ctx.status = 204;
  },
  flash: (ctx) => void (ctx.body = JSON.stringify(ctx.flash())),
};

const routes = {
  '/add': (ctx: Context) => {
    ctx.messages.success('Stored.');
    ctx.body = 'added';
  },
  '/both/:transport': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    SHOW[ctx.params.transport!]!(ctx);
  },
  '/dedupe': (ctx: Context) => {
    ctx.messages.success('Same.');
    ctx.messages.success('Same.');
    ctx.messages.info('3 saved', { key: 'count' });
    ctx.messages.info('4 saved', { key: 'count' });
    ctx.body = 'ok';
  },
  '/read': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    readJson(ctx);
  },
  '/fail': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    readJson(ctx);
    throw new Error('handler failed');
  },
  '/error-status': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    readJson(ctx);
    ctx.status = 503;
  },
  '/streamed': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    readJson(ctx);
    ctx.flushHeaders();
  },
  '/navigate': (ctx: Context) => {
    ctx.messages.info('Fresh.');
    readJson(ctx);
    ctx.set('HX-Redirect', '/elsewhere');
  },
  '/two': (ctx: Context) => {
    ctx.messages.info('Short.');
    ctx.messages.info('x'.repeat(400));
    ctx.body = 'partial';
  },
  '/many': (ctx: Context) => {
    ctx.messages.info('Oldest.');
    ctx.messages.info('Newest.');
    ctx.body = 'ok';
  },
};

const redis = useRedis();
const KINDS: StorageKind[] = [
  'session-cookie',
  'session-external',
  'cookie',
  'fallback',
  'memory',
  'redis',
];
const NAME: Record<StorageKind, string> = {
  'session-cookie': 'session',
  'session-external': 'session',
  cookie: 'cookie',
  fallback: 'fallback',
  memory: 'memory',
  redis: 'redis',
};

for (const kind of KINDS) {
  describe(`diagnostics channels: ${kind}`, () => {
    const persistent = kind !== 'memory';
    const make = (options: MessagesOptions = {}) =>
      caseApp({
        kind,
        routes,
        options: {
          htmx: true,
          flash: true,
          dedupe: true,
          ...(kind === 'redis' ? redis.options() : {}),
          ...options,
        },
      });

    it('publishes each add with its level, tags and key, the duplicate skipped and the keyed one replaced', async () => {
      const { app } = make();
      const l = listen();
      await agentOf(app).get('/dedupe').expect(200);
      const added = l.of<AddedEvent>(CHANNELS.added);
      expect(added.map((e) => e.ctx.path)).to.deep.equal(Array(4).fill('/dedupe'));
      expect(
        added.map((e) => ({
          message: brief(e.message),
          deduplicated: e.deduplicated,
          replaced: e.replaced.map(brief),
        })),
      ).to.deep.equal([
        {
          message: { level: 25, message: 'Same.', tags: 'success', key: undefined },
          deduplicated: false,
          replaced: [],
        },
        {
          message: { level: 25, message: 'Same.', tags: 'success', key: undefined },
          deduplicated: true,
          replaced: [],
        },
        {
          message: { level: 20, message: '3 saved', tags: 'info', key: 'count' },
          deduplicated: false,
          replaced: [],
        },
        {
          message: { level: 20, message: '4 saved', tags: 'info', key: 'count' },
          deduplicated: false,
          replaced: [{ level: 20, message: '3 saved', tags: 'info', key: 'count' }],
        },
      ]);
    });

    for (const transport of Object.keys(SHOW)) {
      it(`publishes what the response showed through ${transport}${persistent ? ', stored and added' : ''}`, async () => {
        const { app } = make();
        const agent = agentOf(app);
        if (persistent) await agent.get('/add').expect(200);
        const l = listen();
        let req: Test = agent.get(`/both/${transport}`);
        if (transport === 'hx-trigger') req = req.set('HX-Request', 'true');
        await req.expect(transport === 'x-messages' ? 204 : 200);
        const shown = l.of<ShownEvent>(CHANNELS.shown);
        expect(shown).to.have.length(1);
        expect(shown[0]!.ctx.path).to.equal(`/both/${transport}`);
        expect(shown[0]!.transport).to.equal(transport);
        expect(shown[0]!.messages.map(brief)).to.deep.equal([
          ...(persistent
            ? [{ level: 25, message: 'Stored.', tags: 'success', key: undefined }]
            : []),
          { level: 20, message: 'Fresh.', tags: 'info', key: undefined },
        ]);
        expect(l.of(CHANNELS.kept)).to.deep.equal([]);
      });
    }

    const KEPT: [string, string, (t: ReturnType<typeof agentOf>) => Test][] = [
      ['head', 'a HEAD request', (a) => a.head('/read')],
      ['options', 'an OPTIONS request', (a) => a.options('/read')],
      ['prefetch', 'a prefetch', (a) => a.get('/read').set('Sec-Purpose', 'prefetch')],
      ['failed', 'a handler that threw', (a) => a.get('/fail')],
      ['error-status', 'a 5xx', (a) => a.get('/error-status')],
      ['streamed', 'a response streamed before the end', (a) => a.get('/streamed')],
      [
        'htmx-navigation',
        'an htmx answer that navigates away',
        (a) => a.get('/navigate').set('HX-Request', 'true'),
      ],
    ];
    const PATH: Record<string, string> = {
      failed: '/fail',
      'error-status': '/error-status',
      streamed: '/streamed',
      'htmx-navigation': '/navigate',
    };
    for (const [reason, what, send] of KEPT) {
      PATH[reason] ??= '/read';
      it(`publishes what ${what} read as kept, reason '${reason}'`, async () => {
        const { app } = make();
        const l = listen();
        await send(agentOf(app));
        const kept = l.of<KeptEvent>(CHANNELS.kept);
        expect(kept.map((e) => e.ctx.path)).to.deep.equal([PATH[reason]]);
        expect(
          kept.map((e) => ({
            transport: e.transport,
            reason: e.reason,
            messages: e.messages.map(brief),
          })),
        ).to.deep.equal([
          {
            transport: 'iteration',
            reason,
            messages: [{ level: 20, message: 'Fresh.', tags: 'info', key: undefined }],
          },
        ]);
        expect(l.of(CHANNELS.shown)).to.deep.equal([]);
      });
    }

    it('publishes the messages HX-Trigger had no room for as requeued, and the rest as shown', async () => {
      const { app } = make({ maxHeaderBytes: 256 });
      const l = listen();
      await agentOf(app).get('/two').set('HX-Request', 'true').expect(200);
      const requeued = l.of<RequeuedEvent>(CHANNELS.requeued);
      expect(
        requeued.map((e) => ({
          path: e.ctx.path,
          transport: e.transport,
          messages: e.messages.map((m) => m.message),
        })),
      ).to.deep.equal([{ path: '/two', transport: 'hx-trigger', messages: ['x'.repeat(400)] }]);
      expect(
        l.of<ShownEvent>(CHANNELS.shown).map((e) => e.messages.map((m) => m.message)),
      ).to.deep.equal([['Short.']]);
    });

    it('publishes a drop as the same event onDrop receives', async () => {
      const { app, drops } = make({ maxMessages: 1 });
      const l = listen();
      await agentOf(app).get('/many').expect(200);
      const dropped = l.of<DroppedEvent>(CHANNELS.dropped);
      expect(dropped).to.have.length(1);
      expect(dropped[0]).to.equal(drops[0]);
      expect(dropped[0]!.reason).to.equal('max-messages');
      expect(dropped[0]!.ctx.path).to.equal('/many');
      expect(dropped[0]!.messages.map((m) => m.message)).to.deep.equal(['Oldest.']);
    });

    it(`traces the storage's operations as '${NAME[kind]}'`, async () => {
      const { app } = make();
      const agent = agentOf(app);
      const l = listen();
      await agent.get('/add').expect(200);
      await agent.get('/both/iteration').expect(200);
      await agent.get('/both/iteration').expect(200);
      expect(l.storage).to.deep.equal(TRACES[kind]);
    });
  });
}

/** The phases of one traced operation: a synchronous one ends with its result, an async one after. */
function op(
  path: string,
  storage: string,
  operation: string,
  how: 'sync' | 'async',
  result = '',
): string[] {
  const at = (phase: string, withResult: boolean) =>
    `${path} ${storage} ${operation} ${phase}${withResult ? result : ''}`;
  return how === 'sync'
    ? [at('start', false), at('end', true)]
    : [at('start', false), at('end', false), at('asyncStart', true), at('asyncEnd', true)];
}

const READS = [
  ['/add', 0],
  ['/both/iteration', 1],
  ['/both/iteration', 0],
] as const;

/** Session and fallback: enter (koa-session ran first: nothing to do), load, an async save. */
const sessionLike = (storage: string) =>
  READS.flatMap(([path, count]) => [
    ...op(path, storage, 'enter', 'sync', ' → null'),
    ...op(path, storage, 'load', 'sync', ` → ${count} message(s)`),
    ...op(path, storage, 'save', 'async'),
  ]);

/**
 * What each storage does for three requests: one that adds; one that reads what was stored and
 * adds; one that reads what the previous one added.
 */
const TRACES: Record<StorageKind, string[]> = {
  'session-cookie': sessionLike('session'),
  'session-external': sessionLike('session'),
  fallback: sessionLike('fallback'),
  cookie: READS.flatMap(([path, count]) => [
    ...op(path, 'cookie', 'load', 'sync', ` → ${count} message(s)`),
    ...op(path, 'cookie', 'save', 'sync'),
  ]),
  // Nothing is stored between requests.
  memory: READS.flatMap(([path]) => [
    ...op(path, 'memory', 'load', 'sync', ' → 0 message(s)'),
    ...op(path, 'memory', 'save', 'sync'),
  ]),
  // The claim happens in enter, for a request whose hint cookie says something is pending.
  redis: [
    ...op('/add', 'redis', 'enter', 'sync', ' → null'),
    ...op('/add', 'redis', 'load', 'sync', ' → 0 message(s)'),
    ...op('/add', 'redis', 'save', 'async'),
    ...op('/both/iteration', 'redis', 'enter', 'async', ' → object'),
    ...op('/both/iteration', 'redis', 'save', 'async'),
    ...op('/both/iteration', 'redis', 'enter', 'sync', ' → null'),
    ...op('/both/iteration', 'redis', 'load', 'sync', ' → 0 message(s)'),
    ...op('/both/iteration', 'redis', 'save', 'async'),
  ],
};

describe('diagnostics channels: a storage that fails', () => {
  const failing = (which: 'load' | 'save'): MessageStorage => ({
    open: () => ({
      load: () => {
        if (which === 'load') throw new Error('load failed');
        return [];
      },
      save: () => (which === 'save' ? Promise.reject(new Error('save failed')) : undefined),
    }),
  });

  it("traces a load that throws with its error, as 'custom'", async () => {
    const { app } = caseApp({ kind: 'memory', routes, options: { storage: failing('load') } });
    const l = listen();
    await agentOf(app).get('/read').expect(500);
    // Once for the handler's read, once more when the end of the request plans what stays.
    const failedLoad = [
      '/read custom load start',
      '/read custom load error ! load failed',
      '/read custom load end ! load failed',
    ];
    expect(l.storage).to.deep.equal([...failedLoad, ...failedLoad]);
  });

  it("traces a save that rejects with its error, and publishes the 'storage-error' drop", async () => {
    const { app } = caseApp({ kind: 'memory', routes, options: { storage: failing('save') } });
    const l = listen();
    await agentOf(app).get('/add').expect(500);
    expect(l.storage).to.deep.equal([
      '/add custom load start',
      '/add custom load end → 0 message(s)',
      '/add custom save start',
      '/add custom save end',
      '/add custom save error ! save failed',
      '/add custom save asyncStart ! save failed',
      '/add custom save asyncEnd ! save failed',
    ]);
    const dropped = l.of<DroppedEvent>(CHANNELS.dropped);
    expect(
      dropped.map((e) => [e.reason, e.messages.map((m) => m.message), (e.error as Error).message]),
    ).to.deep.equal([['storage-error', ['Stored.'], 'save failed']]);
  });
});

describe('diagnostics channels: nobody subscribed', () => {
  it('remembers nothing about what transports read', async () => {
    const REQUEST = Symbol.for('koa-messages.request');
    const { app } = caseApp({
      kind: 'memory',
      routes: {
        '/': (ctx: Context) => {
          ctx.messages.info('Fresh.');
          ctx.ajax({});
          const request = (ctx as unknown as Record<symbol, { reads: unknown }>)[REQUEST]!;
          ctx.body = JSON.stringify({ reads: request.reads === undefined ? 'none' : 'some' });
        },
      },
    });
    const res = await agentOf(app).get('/').expect(200);
    expect(res.body).to.deep.equal({ reads: 'none' });
    listen();
    const watched = await agentOf(app).get('/').expect(200);
    expect(watched.body).to.deep.equal({ reads: 'some' });
  });
});
