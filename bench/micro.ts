/**
 * `npm run bench:micro`: tinybench on the hot operations of one request, without HTTP.
 *
 *   npm run bench:micro               about a minute; writes bench/micro.json and a BENCHMARKS.md section
 *   npm run bench:micro -- --quick    a few seconds, writes nothing
 *
 * Whole requests, app against app, are `npm run bench:requests` (bench/requests.ts).
 */
import { writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import Keygrip from 'keygrip';
import Koa, { type Context } from 'koa';
import { Bench } from 'tinybench';

import { type Config, parseMessagesOptions } from '../dist/config/messages-config.js';
import { messages } from '../dist/index.js';
import { RequestMessages } from '../dist/request/request-messages.js';
import { decodeMessages, encodeMessages } from '../dist/storage/codec.js';
import { signerFor } from '../dist/storage/cookie/signing.js';
import { memoryStorage } from '../dist/storage/memory.js';
import type { StoredMessage } from '../dist/storage/types.js';
import { plainObjectSchema } from '../dist/transport/ajax.js';
import { BENCH_KEYS, bigData } from './data.js';
import { describeMachine, machineLine } from './machine.js';
import { writeSection } from './report.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

// 'memory' storage: load() and save() ignore ctx, so the store runs without a request.
const config: Config = parseMessagesOptions({ storage: memoryStorage() });
const ctx = {} as Context;
const three: StoredMessage[] = [
  { level: 25, message: 'Vote recorded.', extraTags: '', html: false },
  { level: 30, message: 'Your session expires in 5 minutes.', extraTags: 'sticky', html: false },
  { level: 20, message: '<b>Welcome back</b>', extraTags: '', html: true },
];
const encodedJson = JSON.stringify(encodeMessages(three));
const small = { votes: 3 };
const big = bigData();

// Results flow into `sink` so the JIT cannot drop the work.
let sink: unknown;

const bench = new Bench({ time: args.quick ? 50 : 1000, warmupTime: args.quick ? 20 : 200 });
bench
  .add('store: new MessageStore + success()', () => {
    const store = new RequestMessages(ctx, config).store;
    store.success('Vote recorded.');
    sink = store;
  })
  .add('store: iterate 3 pending messages', () => {
    const store = new RequestMessages(ctx, config, {
      preloaded: three,
      load: () => three,
      save: () => undefined,
    }).store;
    let n = 0;
    for (const m of store) n += m.tags.length;
    sink = n;
  })
  .add('codec: encode 3 messages + JSON.stringify', () => {
    sink = JSON.stringify(encodeMessages(three));
  })
  .add('codec: JSON.parse + decode 3 messages', () => {
    sink = decodeMessages(JSON.parse(encodedJson));
  })
  .add('ajax: plain-object check, { votes: 3 }', () => {
    sink = plainObjectSchema.safeParse(small).success;
  })
  .add('ajax: plain-object check, ~100 KB object', () => {
    sink = plainObjectSchema.safeParse(big).success;
  })
  .add('reference: JSON.stringify(~100 KB object)', () => {
    sink = JSON.stringify(big);
  });

// With `dedupe`, each add is a lookup in the store's index, not a scan of what is pending: the time
// per add must stay flat from 100 to 10,000 pending messages (issue 16). Every add is distinct, so
// none is skipped, and a tenth carry a key. Beside each, the same adds without dedupe or keys: the
// cost of holding that many messages, which grows with memory, not with the index.
/** Tasks that do several operations per iteration: their rows are per operation. */
const perIteration = new Map<string, number>();
for (const maxMessages of [100, 10_000]) {
  const texts = Array.from({ length: maxMessages }, (_, i) => `Item ${i} saved.`);
  const keys = texts.map((_, i) => (i % 10 === 0 ? { key: `k${i}` } : undefined));
  const count = maxMessages.toLocaleString('en-US');
  for (const dedupe of [true, false]) {
    const config: Config = parseMessagesOptions({ dedupe, maxMessages, storage: memoryStorage() });
    const name = dedupe
      ? `store: dedupe on, ${count} adds, a tenth keyed (per add)`
      : `reference: dedupe off, ${count} adds, no keys (per add)`;
    perIteration.set(name, maxMessages);
    bench.add(name, () => {
      const store = new RequestMessages(ctx, config).store;
      for (let i = 0; i < maxMessages; i++) store.success(texts[i]!, dedupe ? keys[i] : undefined);
      sink = store;
    });
  }
}

// The middleware on a request that never touches messages, on a real Koa context (Node's own
// request/response objects, no socket traffic), against an empty async middleware.
const app = new Koa();
const mw = messages();
const empty = async (_ctx: unknown, next: () => Promise<void>) => {
  await next();
};
const next = () => Promise.resolve();
const freshContext = (): Context => {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/plain';
  return app.createContext(req, new ServerResponse(req));
};
bench
  .add('middleware: messages(), route ignores messages', async () => {
    await mw(freshContext(), next);
  })
  .add('reference: an empty async middleware', async () => {
    await empty(freshContext(), next);
  });

addCookieTasks(bench);

await bench.run();
void sink;

interface Row {
  task: string;
  /** Median time per operation, nanoseconds. */
  medianNs: number;
  opsPerSec: number;
  /** Relative margin of error of the mean, percent. */
  rme: number;
  samples: number;
}

const rows: Row[] = bench.tasks.map((task) => {
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`bench:micro: ${task.name} ${r.state}`);
  const n = perIteration.get(task.name) ?? 1;
  return {
    task: task.name,
    medianNs: (r.latency.p50 * 1e6) / n,
    opsPerSec: r.throughput.mean * n,
    rme: r.latency.rme,
    samples: r.latency.samples?.length ?? 0,
  };
});

const text = [
  '| operation | median ns/op | ops/s | ± |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.task} | ${r.medianNs.toFixed(0)} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.rme.toFixed(1)}% |`,
  ),
].join('\n');
const machine = describeMachine();
console.log(`${text}\n\nMachine: ${machineLine(machine)}.`);

if (!args.quick) {
  writeFileSync(here('./micro.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`);
  writeSection(
    here('../BENCHMARKS.md'),
    'micro',
    `## Micro-benchmarks (\`npm run bench:micro\`)\n\nMachine: ${machineLine(machine)}; ${machine.date}.\n\n${text}`,
  );
  console.log('wrote bench/micro.json and BENCHMARKS.md (section "Micro-benchmarks")');
}

/**
 * Cookie signing, beside keygrip (what koa-session's signed cookie costs: `ctx.cookies` signs
 * `name=value` and compares on read).
 */
function addCookieTasks(b: Bench): void {
  const app = new Koa();
  app.keys = BENCH_KEYS;
  const signer = signerFor(app, 'cookie');
  const payload = Buffer.from(encodedJson).toString('base64url');
  const signed = signer.sign('messages', payload);
  if (signer.unsign('messages', signed) !== payload)
    throw new Error('bench:micro: the signer does not round-trip');
  const keygrip = new Keygrip(BENCH_KEYS);
  const digest = keygrip.sign(`koa.sess=${payload}`);
  b.add('cookie: sign (HMAC-SHA256)', () => {
    sink = signer.sign('messages', payload);
  })
    .add('cookie: verify (HMAC-SHA256)', () => {
      sink = signer.unsign('messages', signed);
    })
    .add('reference: keygrip sign (koa-session .sig)', () => {
      sink = keygrip.sign(`koa.sess=${payload}`);
    })
    .add('reference: keygrip verify (koa-session .sig)', () => {
      sink = keygrip.verify(`koa.sess=${payload}`, digest);
    });
}
