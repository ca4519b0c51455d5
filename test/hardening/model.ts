import { expect } from 'chai';
import fc from 'fast-check';
import type { Context } from 'koa';

import { fallbackStorage, type MessagesOptions } from '../../src/index.js';
import { anyText } from './arbitraries.js';
import type { StorageKind } from './helpers.js';
import { agentOf, caseApp, SESSION, setCookieOf } from './helpers.js';

/**
 * A model of the delivery rules (Django's three end-of-request branches plus koa-messages'
 * "nothing consumed unless delivered" rules and `maxMessages`), and fast-check commands that run
 * one real HTTP request each against an app and compare every answer with the model.
 */

export interface Msg {
  level: number;
  text: string;
  extraTags: string;
  html: boolean;
}

/** `keep` is `ctx.messages.used = false`; `discard` is `ctx.messages.used = true` without reading (Django: drop the stored ones). */
export type Step =
  | { op: 'add'; messages: Msg[] }
  | { op: 'read' }
  | { op: 'size' }
  | { op: 'keep' }
  | { op: 'discard' };
export type End = 'ok' | 'ajax' | 'throw' | '503' | 'redirect';
export type Via = 'GET' | 'HEAD' | 'OPTIONS' | 'prefetch';

export interface Script {
  steps: Step[];
  end: End;
}

const TAGS: Record<number, string> = {
  10: 'debug',
  20: 'info',
  25: 'success',
  30: 'warning',
  40: 'error',
};
const THRESHOLD = 20;
export const MAX_MESSAGES = 6;

function tagsOf(m: Msg): string {
  const levelTag = TAGS[m.level] ?? '';
  if (m.extraTags === '') return levelTag;
  return levelTag === '' ? m.extraTags : `${m.extraTags} ${levelTag}`;
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]!,
  );

/** What a read step lists: `[level, tags, text, html]` per message. */
const listed = (list: Msg[]) => list.map((m) => [m.level, tagsOf(m), m.text, m.html]);
const wire = (list: Msg[]) =>
  list.map((m) => ({ message: m.html ? m.text : escapeHtml(m.text), tags: tagsOf(m) }));

/** How a storage behaves where the rules leave room. */
export interface Traits {
  /** Messages outlive the request (all but `memory`). */
  persists: boolean;
  /** A request that leaves messages alone sends no Set-Cookie (not Redis: it claims before the handler and gives back after). */
  quietWhenIgnored: boolean;
}

// Every storage keeps what a request that throws added: the middleware carries the storage's
// Set-Cookie onto err.headers (koa-session's too, committed at once on a failed request).
export const TRAITS: Record<StorageKind, Traits> = {
  'session-cookie': { persists: true, quietWhenIgnored: true },
  'session-external': { persists: true, quietWhenIgnored: true },
  memory: { persists: false, quietWhenIgnored: true },
  cookie: { persists: true, quietWhenIgnored: true },
  fallback: { persists: true, quietWhenIgnored: true },
  // Claimed messages go back and new ones are appended whatever the response.
  redis: { persists: true, quietWhenIgnored: false },
};

/**
 * Options per storage: the fallback cookie is kept small (the minimum, 128 bytes of value) so
 * that most runs overflow into the session.
 */
const OPTIONS: Partial<Record<StorageKind, MessagesOptions>> = {
  fallback: { storage: fallbackStorage({ cookie: { maxSize: 128 } }) },
};

export interface Model {
  traits: Traits;
  pending: Msg[];
  /** Texts of every message recorded (at or over the threshold), in order. */
  added: string[];
  /** Texts taken out of the store by a response that showed them and counted. */
  delivered: string[];
  /** Texts the model expects reported to onDrop as 'max-messages', in order. */
  dropped: string[];
  /** Texts lost on purpose: memory's end of request, cookie-session mode's thrown requests. */
  discarded: string[];
}

/** The expected outcome of one request. */
interface Outcome {
  reads: unknown[][];
  sizes: number[];
  ajaxMessages: ReturnType<typeof wire>;
  /** The response showed at least one message, or wrote the storage (so it must be private). */
  private: boolean;
  /** The response depends on the visitor's messages (so it must vary by Cookie). */
  touched: boolean;
}

const textsOf = (list: Msg[]) => list.map((m) => m.text);

/** Run a script against the model; updates `model` and returns what the response must show. */
export function simulate(model: Model, script: Script, via: Via): Outcome {
  const stored = model.traits.persists ? model.pending : [];
  const added: Msg[] = [];
  let readStored = false;
  let readAdded = 0;
  let used = false;
  let showed = false;
  const reads: unknown[][] = [];
  const sizes: number[] = [];
  let ajaxMessages: ReturnType<typeof wire> = [];
  const consumeAll = () => {
    used = true;
    if (stored.length > 0 || added.length > readAdded) showed = true;
    readStored = true;
    readAdded = added.length;
  };
  for (const step of script.steps) {
    if (step.op === 'add') {
      for (const m of step.messages) {
        if (m.level < THRESHOLD) continue;
        added.push(m);
        model.added.push(m.text);
      }
    } else if (step.op === 'read') {
      reads.push(listed([...stored, ...added]));
      consumeAll();
    } else if (step.op === 'size') {
      sizes.push(stored.length + added.length);
    } else if (step.op === 'keep') {
      used = false;
    } else {
      used = true;
      readStored = true;
    }
  }
  if (script.end === 'ajax') {
    const pending = [...stored, ...added];
    ajaxMessages = wire(pending);
    if (pending.length > 0) consumeAll();
  }
  const failed = script.end === 'throw';
  const consume =
    !failed && script.end !== '503' && via !== 'HEAD' && via !== 'OPTIONS' && via !== 'prefetch';

  // Django's three branches, then maxMessages.
  let next: Msg[] | null;
  if (consume && used) {
    next = [...(readStored ? [] : stored), ...added.slice(readAdded)];
    // Stored ones dropped by `used = true` without a read were discarded by the app, not shown.
    const shownStored = reads.length > 0 || ajaxMessages.length > 0;
    const gone = textsOf([...(readStored ? stored : []), ...added.slice(0, readAdded)]);
    if (shownStored) model.delivered.push(...gone);
    else model.discarded.push(...gone);
  } else if (added.length > 0) next = [...stored, ...added];
  else next = null;
  if (next !== null) {
    const excess = Math.max(0, next.length - MAX_MESSAGES);
    model.dropped.push(...textsOf(next.slice(0, excess)));
    next = next.slice(excess);
  }

  // The caching rule: loaded, read or written → Vary: Cookie; shown or written → private. Redis
  // claims a visitor's messages before the handler and gives back what was not read, writing a hint.
  const claimed = !model.traits.quietWhenIgnored && stored.length > 0;
  const loaded = reads.length > 0 || sizes.length > 0 || script.end === 'ajax' || claimed;
  const wrote =
    consume && used
      ? (readStored && stored.length > 0) || added.length > readAdded
      : added.length > 0;
  const touched = loaded || added.length > 0 || (consume && used);

  if (!model.traits.persists) {
    model.discarded.push(...textsOf(next ?? []));
  } else if (next !== null) {
    model.pending = next;
  }
  return {
    reads,
    sizes,
    ajaxMessages,
    // On a thrown error too: the caching headers travel on the error, as its cookies do.
    private: showed || wrote || claimed,
    touched,
  };
}

export interface Real {
  agent: ReturnType<typeof agentOf>;
  /** What onDrop was told, as `reason:text`, in order. */
  drops: () => string[];
  /** Counter for unique message texts across the run. */
  serial: number;
}

/** The app the commands drive: one `/op` route that runs the script from the X-Script header. */
export function modelApp(kind: StorageKind, extra: MessagesOptions = {}) {
  const { app, drops, store } = caseApp({
    kind,
    options: { maxMessages: MAX_MESSAGES, ...OPTIONS[kind], ...extra },
    routes: {
      '/prime': (ctx) => {
        if (SESSION[kind] !== 'none') ctx.session!['visitor'] = 1;
        ctx.body = 'primed';
      },
      '/read': (ctx) => {
        ctx.body = { reads: [listedOf(ctx)], sizes: [] };
      },
      '/op': runScript,
    },
  });
  return {
    app,
    store,
    drops: () => drops.flatMap((d) => d.messages.map((m) => `${d.reason}:${m.message}`)),
  };
}

const listedOf = (ctx: Context) =>
  [...ctx.messages].map((m) => [m.level, m.tags, m.message, m.html]);

function runScript(ctx: Context): void {
  const script = JSON.parse(
    Buffer.from(ctx.get('x-script'), 'base64url').toString('utf8'),
  ) as Script;
  const out = { reads: [] as unknown[][], sizes: [] as number[] };
  for (const step of script.steps) {
    if (step.op === 'add') {
      for (const m of step.messages)
        ctx.messages.add(m.level, m.text, { extraTags: m.extraTags, html: m.html });
    } else if (step.op === 'read') out.reads.push(listedOf(ctx));
    else if (step.op === 'size') out.sizes.push(ctx.messages.size);
    else ctx.messages.used = step.op === 'discard';
  }
  switch (script.end) {
    case 'ok':
      ctx.body = out;
      return;
    case 'ajax':
      ctx.ajax(out);
      return;
    case '503':
      ctx.body = out;
      ctx.status = 503;
      return;
    case 'redirect':
      ctx.status = 303;
      ctx.redirect('/read');
      return;
    case 'throw':
      throw new Error('the handler failed');
  }
}

/** Message texts are made unique at run time: `#<serial> <random text>`. */
interface MsgSeed {
  level: number;
  text: string;
  extraTags: string;
  html: boolean;
}

type StepSeed =
  | { op: 'add'; messages: MsgSeed[] }
  | { op: 'read' }
  | { op: 'size' }
  | { op: 'keep' }
  | { op: 'discard' };

class RequestCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly label: string,
    readonly seeds: StepSeed[],
    readonly end: End,
    readonly via: Via,
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const steps: Step[] = this.seeds.map((s) =>
      s.op === 'add'
        ? {
            op: 'add',
            messages: s.messages.map((m) => ({ ...m, text: `#${real.serial++} ${m.text}` })),
          }
        : s,
    );
    const script: Script = { steps, end: this.end };
    const expected = simulate(model, script, this.via);
    const header = Buffer.from(JSON.stringify(script), 'utf8').toString('base64url');
    const req =
      this.via === 'HEAD'
        ? real.agent.head('/op')
        : this.via === 'OPTIONS'
          ? real.agent.options('/op')
          : this.via === 'prefetch'
            ? real.agent.get('/op').set('Sec-Purpose', 'prefetch')
            : real.agent.get('/op');
    const res = await req.set('X-Script', header);

    const status = { ok: 200, ajax: 200, throw: 500, '503': 503, redirect: 303 }[this.end];
    expect(res.status, `${this} status`).to.equal(status);
    if (this.via !== 'HEAD' && (this.end === 'ok' || this.end === '503' || this.end === 'ajax')) {
      const body = JSON.parse(res.text) as { reads: unknown; sizes: unknown; messages?: unknown };
      expect(body.reads, `${this} reads`).to.deep.equal(expected.reads);
      expect(body.sizes, `${this} sizes`).to.deep.equal(expected.sizes);
      if (this.end === 'ajax') {
        expect(body.messages, `${this} ajax messages`).to.deep.equal(
          expected.ajaxMessages.length > 0 ? expected.ajaxMessages : undefined,
        );
      }
    }
    expect(res.headers['cache-control'], `${this} Cache-Control`).to.equal(
      expected.private ? 'private, no-store' : undefined,
    );
    expect(res.headers['vary'], `${this} Vary`).to.equal(expected.touched ? 'Cookie' : undefined);
    if (steps.length === 0 && this.end === 'ok' && model.traits.quietWhenIgnored) {
      // A request that leaves messages alone writes nothing.
      expect(setCookieOf(res), `${this} Set-Cookie`).to.deep.equal([]);
    }
    if (this.end === 'redirect') {
      const target = await real.agent.get('/read').expect(200);
      const shown = model.traits.persists ? model.pending : [];
      expect(
        (JSON.parse(target.text) as { reads: unknown }).reads,
        `${this} redirect target`,
      ).to.deep.equal([listed(shown)]);
      expect(target.headers['cache-control']).to.equal(
        shown.length > 0 ? 'private, no-store' : undefined,
      );
      model.delivered.push(...textsOf(shown));
      model.pending = [];
    }
    expect(real.drops(), `${this} onDrop`).to.deep.equal(
      model.dropped.map((text) => `max-messages:${text}`),
    );
  }

  toString(): string {
    const steps = this.seeds
      .map((s) => (s.op === 'add' ? `add(${s.messages.length})` : s.op))
      .join(',');
    return `${this.label}[${this.via} ${steps} → ${this.end}]`;
  }
}

const levelArb = fc.constantFrom(10, 20, 25, 30, 40, 45);
const msgArb: fc.Arbitrary<MsgSeed> = fc.record({
  level: levelArb,
  text: anyText({ maxLength: 10 }),
  extraTags: fc.constantFrom('', 'sticky', 'a b'),
  html: fc.boolean(),
});
const addArb = fc
  .array(msgArb, { minLength: 1, maxLength: 4 })
  .map((messages): StepSeed => ({ op: 'add', messages }));
const stepArb: fc.Arbitrary<StepSeed> = fc.oneof(
  { weight: 3, arbitrary: addArb },
  { weight: 2, arbitrary: fc.constant<StepSeed>({ op: 'read' }) },
  { weight: 1, arbitrary: fc.constant<StepSeed>({ op: 'size' }) },
  { weight: 1, arbitrary: fc.constant<StepSeed>({ op: 'keep' }) },
  { weight: 1, arbitrary: fc.constant<StepSeed>({ op: 'discard' }) },
);
const read: StepSeed = { op: 'read' };

/** The commands: the named request kinds of the issue, plus random mixed scripts. */
export const commandArbs = [
  addArb.map((s) => new RequestCommand('add', [s], 'ok', 'GET')),
  addArb.map((s) => new RequestCommand('redirect', [s], 'redirect', 'GET')),
  fc.constant(new RequestCommand('read', [read], 'ok', 'GET')),
  fc
    .option(addArb, { nil: undefined })
    .map((s) => new RequestCommand('ajax', s === undefined ? [] : [s], 'ajax', 'GET')),
  fc.constant(new RequestCommand('ignore', [], 'ok', 'GET')),
  fc
    .option(addArb, { nil: undefined })
    .map((s) => new RequestCommand('fail', s === undefined ? [read] : [read, s], 'throw', 'GET')),
  fc
    .constantFrom<Via>('HEAD', 'OPTIONS', 'prefetch')
    .map((via) => new RequestCommand('probe', [read], 'ok', via)),
  fc.constant(new RequestCommand('503', [read], '503', 'GET')),
  fc
    .tuple(
      fc.array(stepArb, { maxLength: 5 }),
      fc.constantFrom<End>('ok', 'ajax', 'throw', '503', 'redirect'),
      fc.constantFrom<Via>('GET', 'GET', 'GET', 'HEAD', 'prefetch'),
    )
    .filter(([, end, via]) => !(via === 'HEAD' && end === 'redirect'))
    .map(([steps, end, via]) => new RequestCommand('mixed', steps, end, via)),
];

/**
 * Every recorded message is accounted for (delivered, still pending, reported dropped, or lost
 * where the storage documents it), and none was delivered twice.
 */
function accountFor(model: Model): void {
  const delivered = new Set<string>();
  for (const text of model.delivered) {
    expect(delivered.has(text), `${text} delivered twice`).to.equal(false);
    delivered.add(text);
  }
  const known = new Set([
    ...model.delivered,
    ...textsOf(model.pending),
    ...model.dropped,
    ...model.discarded,
  ]);
  expect(
    model.added.filter((text) => !known.has(text)),
    'messages lost without a trace',
  ).to.deep.equal([]);
}

/** Run the model-based property for one storage. */
export async function checkModel(
  kind: StorageKind,
  numRuns: number,
  maxCommands: number,
  extra: () => MessagesOptions = () => ({}),
): Promise<{ finals: Model[]; sessionWrites: number }> {
  const finals: Model[] = [];
  let sessionWrites = 0;
  await fc.assert(
    fc.asyncProperty(fc.commands(commandArbs, { maxCommands, size: 'large' }), async (cmds) => {
      const { app, drops, store } = modelApp(kind, extra());
      const agent = agentOf(app);
      await agent.get('/prime').expect(200);
      const model: Model = {
        traits: TRAITS[kind],
        pending: [],
        added: [],
        delivered: [],
        dropped: [],
        discarded: [],
      };
      const real: Real = { agent, drops, serial: 0 };
      await fc.asyncModelRun(() => ({ model, real }), cmds);
      // Whatever is still pending is exactly what the next read shows.
      const last = await agent.get('/read').expect(200);
      expect((JSON.parse(last.text) as { reads: unknown }).reads).to.deep.equal([
        listed(model.traits.persists ? model.pending : []),
      ]);
      accountFor(model);
      finals.push(model);
      sessionWrites += store?.setsWithMessages ?? 0;
    }),
    { numRuns },
  );
  return { finals, sessionWrites };
}
