/**
 * `npm run bench:requests`: whole requests through the variants' Koa apps in this process, without
 * sockets, load generator or IPC, interleaved and paired like `npm run bench`. It resolves
 * differences of a few percent that HTTP rounds on a shared 2-core machine cannot.
 *
 *   npm run bench:requests               about 2 minutes; writes bench/requests.json and a BENCHMARKS.md section
 *   npm run bench:requests -- --quick    a few seconds, writes nothing
 *   npm run bench:requests -- --only=c --variants=koa-better-flash,km-session --rounds=40
 *                                        a partial run, printed only
 *
 * Each round runs a fixed number of requests per variant back to back and takes the process's CPU
 * time (`process.cpuUsage()`) for them; variants alternate within a round, the order reversed every
 * round. Ratios are medians of same-round ratios, with a sign test over the rounds.
 *
 * Why not tinybench (as `bench:micro` does for single operations): it runs each task for its whole
 * time slot before the next, so two apps are never measured next to each other, and a whole request
 * allocates enough that when the GC falls decides the result. Earlier versions of bench:micro put
 * koa-messages at 1.2–1.8× the floor for the same read that HTTP put at 0.92–1.21×.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type Koa from 'koa';
import { type Jar, cookieHeader, fetchWithJar } from './harness.js';
import { describeMachine, finishMachine, machineLine } from './machine.js';
import { type Timed, median, pairedRatio, signTest, writeSection } from './report.js';
import { type Counters, LABELS, Unavailable, type VariantId, buildApp } from './variants.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // A partial run, printed only: `--only=c --variants=koa-better-flash,km-session --rounds=40`.
    only: { type: 'string' },
    variants: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const ROUNDS = args.rounds !== undefined ? Number(args.rounds) : args.quick ? 3 : 25;
// Requests per block: enough for about a quarter of a second, because the kernel accounts CPU time
// in ticks of a few milliseconds, which would be a large share of a shorter block.
const perRound = (c: Case): number => Math.round(c.perRound * (args.quick ? 0.1 : 1));

interface Case {
  id: string;
  title: string;
  method: string;
  path: string;
  /** Requests per variant and round in a full run. */
  perRound: number;
  /** The cookies each request replays, made by real requests to the app first. */
  jar: (url: string) => Promise<Jar>;
  /** The first variant is the reference of the ratios. */
  variants: VariantId[];
}

const login = async (url: string): Promise<Jar> => (await fetchWithJar(`${url}/login`, 'GET', {})).jar;
const pending = async (url: string): Promise<Jar> => (await fetchWithJar(`${url}/add`, 'POST', await login(url))).jar;

const CASES: Case[] = [
  { id: 'a', title: '(a) GET /plain with a session cookie: the route ignores messages', method: 'GET', path: '/plain', perRound: 10_000, jar: login, variants: ['baseline', 'km-session'] },
  {
    id: 'b',
    title: '(b) POST /add with a session cookie: add one message, answer 303',
    method: 'POST',
    path: '/add',
    perRound: 2000,
    jar: login,
    variants: ['floor', 'koa-flash', 'koa-better-flash', 'km-session', 'km-cookie'],
  },
  {
    id: 'c',
    title: '(c) GET /read, one message pending: read it and answer JSON',
    method: 'GET',
    path: '/read',
    perRound: 2000,
    jar: pending,
    variants: ['floor', 'floor-headers', 'koa-flash', 'koa-better-flash', 'km-session', 'km-cookie'],
  },
];

/** One variant's app, ready to take requests without a socket. */
interface Target {
  variant: VariantId;
  handle: ReturnType<Koa['callback']>;
  cookie: string;
  method: string;
  path: string;
}

async function target(variant: VariantId, c: Case): Promise<Target | undefined> {
  const counters: Counters = { requests: 0, firstAt: 0, lastAt: 0, setCookieBytes: 0, errors: 0 };
  let app: Koa;
  try {
    app = await buildApp(variant, counters, {});
  } catch (error) {
    if (error instanceof Unavailable) return undefined;
    throw error;
  }
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const jar = await c.jar(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  server.close();
  return { variant, handle: app.callback(), cookie: cookieHeader(jar), method: c.method, path: c.path };
}

// A full GC between blocks, not timed. `gc` is exposed without a command-line flag.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

let lastBody: unknown;

/** One request: Node's own request and response objects, `res.end` caught. */
function request(t: Target): Promise<void> {
  return new Promise((resolve) => {
    const req = new IncomingMessage(new Socket());
    req.method = t.method;
    req.url = t.path;
    req.headers = { host: '127.0.0.1', cookie: t.cookie };
    const res = new ServerResponse(req);
    res.end = ((body: unknown) => {
      lastBody = body;
      resolve();
      return res;
    }) as typeof res.end;
    void t.handle(req, res);
  });
}

/** A variant's rounds in one case. */
interface Result extends Timed {
  variant: VariantId;
  cpuUs: number;
  /** Median absolute deviation over the rounds, relative to the median. */
  spread: number;
}

async function measure(c: Case): Promise<Result[]> {
  const targets = (await Promise.all(c.variants.map((v) => target(v, c)))).filter((t) => t !== undefined);
  // Every variant must give the same answer before it is timed.
  const answers = new Set<string>();
  for (const t of targets) {
    await request(t);
    answers.add(String(lastBody));
  }
  if (answers.size !== 1) throw new Error(`bench:requests: ${c.id} variants answer differently: ${[...answers].join(' | ')}`);

  const runs = new Map<VariantId, { cpuUs: number }[]>(targets.map((t) => [t.variant, []]));
  for (let round = -1; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      // Each block starts from an empty young generation: otherwise the garbage one app left
      // behind is collected, and billed, while the next one runs.
      collect();
      const n = perRound(c);
      const before = process.cpuUsage();
      for (let i = 0; i < n; i++) await request(t);
      const used = process.cpuUsage(before);
      // Round -1 warms every app up and is not kept.
      if (round >= 0) runs.get(t.variant)!.push({ cpuUs: (used.user + used.system) / n });
    }
  }
  return targets.map((t) => {
    const r = runs.get(t.variant)!;
    const cpuUs = median(r.map((x) => x.cpuUs));
    return { variant: t.variant, runs: r, cpuUs, spread: median(r.map((x) => Math.abs(x.cpuUs - cpuUs))) / cpuUs };
  });
}

const machine = describeMachine();
const sections: string[] = [];
const results: Record<string, unknown> = {};
const partial = args.only !== undefined || args.variants !== undefined || args.rounds !== undefined;
const picked = args.variants?.split(',');
for (const c of CASES.filter((x) => args.only === undefined || args.only.split(',').includes(x.id))) {
  const variants = picked === undefined ? c.variants : c.variants.filter((v) => picked.includes(v));
  if (variants.length === 0) continue;
  const cells = await measure({ ...c, variants });
  const ref = cells[0]!;
  const lines = [`### ${c.title}`, '', `| variant | CPU µs/req | × ${ref.variant} | slower than ${ref.variant} in | spread |`, '| --- | ---: | ---: | ---: | ---: |'];
  for (const cell of cells) {
    const sign = signTest(cell, ref, 1);
    lines.push(
      `| ${LABELS[cell.variant]} | ${cell.cpuUs.toFixed(1)} | ${pairedRatio(cell, ref).toFixed(3)} | ${cell === ref ? '–' : `${sign.above} of ${sign.rounds} rounds (p = ${sign.p.toFixed(3)})`} | ±${(cell.spread * 100).toFixed(1)}% |`,
    );
  }
  const km = cells.find((x) => x.variant === 'km-session');
  for (const peer of cells.filter((x) => x.variant === 'koa-better-flash' || x.variant === 'koa-flash')) {
    if (km === undefined) continue;
    const sign = signTest(km, peer, 1);
    lines.push('', `koa-messages 'session' / ${peer.variant}: ${pairedRatio(km, peer).toFixed(3)}, slower in ${sign.above} of ${sign.rounds} rounds (sign test p = ${sign.p.toFixed(3)}).`);
  }
  sections.push(lines.join('\n'));
  results[c.id] = cells.map((x) => ({ variant: x.variant, cpuUs: x.cpuUs, spread: x.spread, ratio: pairedRatio(x, ref), runs: x.runs.map((r) => r.cpuUs) }));
  console.log(`${lines.join('\n')}\n`);
}
const done = finishMachine(machine);
const head = `Machine: ${machineLine(done)}; ${done.date}. ${ROUNDS} rounds per variant after a warm-up round, each a block of ${CASES.map((c) => `${perRound(c)} (${c.id})`).join(', ')} requests after a full GC; CPU µs of this process per request; ratios are medians of same-round ratios.`;
console.log(head);

if (!args.quick && !partial) {
  writeFileSync(here('./requests.json'), `${JSON.stringify({ machine: done, rounds: ROUNDS, perRound: Object.fromEntries(CASES.map((c) => [c.id, perRound(c)])), results }, null, 2)}\n`);
  writeSection(here('../BENCHMARKS.md'), 'requests', `## Whole requests in process (\`npm run bench:requests\`)\n\n${head}\n\n${sections.join('\n\n')}`);
  console.log('wrote bench/requests.json and BENCHMARKS.md (section "Whole requests in process")');
}
