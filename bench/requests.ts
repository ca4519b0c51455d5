/**
 * `npm run bench:requests`: whole requests through the variants' Koa apps without sockets, load
 * generator or IPC, each variant alone in a fresh process.
 *
 *   npm run bench:requests               about 5 minutes; writes bench/requests.json and a BENCHMARKS.md section
 *   npm run bench:requests -- --quick    a smoke run, writes nothing
 *   npm run bench:requests -- --only=c --variants=koa-better-flash,km-session --sets=10
 *                                        a partial run, printed only
 *
 * A set starts one child process per variant, one after the other (the order reversed every set);
 * the child warms its app up, then times blocks of requests with `process.cpuUsage()` and reports
 * the median block. Each set is one round of the paired ratios and the sign test, as in
 * `npm run bench`. One app per process, as in production: apps in one process share a JIT and a heap.
 *
 * Three ways this went wrong before, each measured: tinybench rows (one app per 1-second slot) put
 * koa-messages at 1.2–1.8× the floor for a read that HTTP put near 1.0×; catching `res.end` instead
 * of finishing the response left every response open with its listeners and made a GET /plain cost
 * 38 µs instead of 8; and a forced full GC before each block made the block after it about 40 %
 * dearer, and `messages()` on a route that ignores messages 3.9 µs dearer than the bare app
 * instead of 0.6 µs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type Koa from 'koa';

import { applySetCookie, cookieHeader, fetchWithJar, type Jar } from './harness.js';
import { describeMachine, finishMachine, machineLine } from './machine.js';
import { median, pairedRatio, signTest, type Timed, writeSection } from './report.js';
import { buildApp, type Counters, LABELS, Unavailable, type VariantId } from './variants.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    variants: { type: 'string' },
    sets: { type: 'string' },
    // Internal: run one case × variant in this process and print its result as JSON.
    child: { type: 'string' },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const SETS = args.sets !== undefined ? Number(args.sets) : args.quick ? 1 : 6;
/** Timed blocks per child, after `WARM_BLOCKS` untimed ones. */
const BLOCKS = args.quick ? 1 : 5;
const WARM_BLOCKS = args.quick ? 1 : 3;
// Requests per block: enough for about a quarter of a second, because the kernel accounts CPU time
// in ticks of a few milliseconds, which would be a large share of a shorter block.
const perBlock = (c: Case): number => Math.round(c.perBlock * (args.quick ? 0.1 : 1));

interface Case {
  id: string;
  title: string;
  method: string;
  path: string;
  /** Requests per timed block in a full run. */
  perBlock: number;
  /** The cookies each request replays, made by real requests to the app first. */
  jar: (url: string) => Promise<Jar>;
  /**
   * Instead of one request replayed: these requests in turn, the cookie jar carried from answer to
   * answer as a browser does; timed per whole cycle. `method`/`path` are the cycle's first request.
   */
  cycle?: { method: string; path: string }[];
  /** The first variant is the reference of the ratios. */
  variants: VariantId[];
}

const login = async (url: string): Promise<Jar> =>
  (await fetchWithJar(`${url}/login`, 'GET', {})).jar;
const pending = async (url: string): Promise<Jar> =>
  (await fetchWithJar(`${url}/add`, 'POST', await login(url))).jar;

const CASES: Case[] = [
  {
    id: 'a',
    title: '(a) GET /plain with a session cookie: the route ignores messages',
    method: 'GET',
    path: '/plain',
    perBlock: 30_000,
    jar: login,
    // km-session-2 is the A/A control for km-session-htmx (issue 14: htmx on costs nothing here).
    variants: ['baseline', 'km-session', 'km-session-2', 'km-session-htmx', 'km-flash'],
  },
  {
    id: 'b',
    title: '(b) POST /add with a session cookie: add one message, answer 303',
    method: 'POST',
    path: '/add',
    perBlock: 4000,
    jar: login,
    variants: ['floor', 'koa-flash', 'koa-better-flash', 'km-session', 'km-cookie'],
  },
  {
    id: 'c',
    title: '(c) GET /read, one message pending: read it and answer JSON',
    method: 'GET',
    path: '/read',
    perBlock: 4000,
    jar: pending,
    variants: [
      'floor',
      'floor-headers',
      'koa-flash',
      'koa-better-flash',
      'km-session',
      'km-session-2',
      'km-session-htmx',
      'km-cookie',
    ],
  },
  {
    id: 'd',
    title:
      '(d) POST /add → 303, GET /read shows it, GET /read shows none, cookie jar carried (CPU µs per cycle of 3 requests)',
    method: 'POST',
    path: '/add',
    cycle: [
      { method: 'POST', path: '/add' },
      { method: 'GET', path: '/read' },
      { method: 'GET', path: '/read' },
    ],
    perBlock: 800,
    jar: login,
    // ctx.flash's budget: at most 5 % over ctx.messages; km-session-2 is the A/A control (for
    // km-session-htmx too: the `htmx` option on, requests without HX-Request).
    variants: ['km-session', 'km-session-2', 'km-flash', 'km-session-htmx'],
  },
];

/** One variant's app, ready to take requests without a socket. */
interface Target {
  variant: VariantId;
  handle: ReturnType<Koa['callback']>;
  cookie: string;
  method: string;
  path: string;
  /** A cycle's cookies, updated from each answer's Set-Cookie. */
  jar?: Jar;
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
  return {
    variant,
    handle: app.callback(),
    cookie: cookieHeader(jar),
    method: c.method,
    path: c.path,
    ...(c.cycle === undefined ? {} : { jar }),
  };
}

/** One cycle of a cycle case: each request with the jar's cookies, then its Set-Cookie applied. */
async function cycle(t: Target, steps: { method: string; path: string }[]): Promise<string[]> {
  const bodies: string[] = [];
  for (const step of steps) {
    const res = await request({ ...t, ...step, cookie: cookieHeader(t.jar!) });
    applySetCookie(t.jar!, res.getHeader('set-cookie') as string[] | undefined);
    bodies.push(String(lastBody));
  }
  return bodies;
}

let lastBody: unknown;

/** A socket that takes the response's bytes and drops them. */
class Discard extends Writable {
  override _write(_chunk: unknown, _encoding: string, done: () => void): void {
    done();
  }

  override _writev(_chunks: unknown, done: () => void): void {
    done();
  }
}

/**
 * One request: Node's own request and response objects, the response written in full (status line,
 * headers, body) to a socket that drops it, and finished. An earlier version caught `res.end`
 * instead: every response stayed unfinished, with its listeners, and that cost about 30 µs a
 * request (a GET /plain took 38 µs instead of 8), more for some apps than for others.
 */
function request(t: Target): Promise<ServerResponse> {
  return new Promise((resolve) => {
    const req = new IncomingMessage(new Socket());
    req.method = t.method;
    req.url = t.path;
    req.headers = { host: '127.0.0.1', cookie: t.cookie };
    const res = new ServerResponse(req);
    const socket = new Discard() as unknown as Socket;
    res.assignSocket(socket);
    const end = res.end.bind(res);
    res.end = ((body?: unknown, ...rest: unknown[]) => {
      lastBody = body;
      return (end as (...a: unknown[]) => ServerResponse)(body, ...rest);
    }) as typeof res.end;
    res.once('finish', () => {
      res.detachSocket(socket);
      resolve(res);
    });
    void t.handle(req, res);
  });
}

/** What a child reports. */
interface ChildResult {
  cpuUs: number;
  body: string;
}

/** The child: one case × variant, warmed up, then the median of its timed blocks. */
async function child(spec: string): Promise<ChildResult | null> {
  const [id, variant] = spec.split(':') as [string, VariantId];
  const c = CASES.find((x) => x.id === id)!;
  const t = await target(variant, c);
  if (t === undefined) return null;
  const steps = c.cycle;
  let body: string;
  if (steps === undefined) {
    await request(t);
    body = String(lastBody);
  } else {
    // The whole cycle's answers must agree between variants, and stay the same cycle after cycle.
    body = (await cycle(t, steps)).join(' → ');
    const again = (await cycle(t, steps)).join(' → ');
    if (again !== body)
      throw new Error(`bench:requests: ${variant} answered ${again}, then ${body}`);
  }
  const n = perBlock(c);
  const blocks: number[] = [];
  for (let block = -WARM_BLOCKS; block < BLOCKS; block++) {
    const before = process.cpuUsage();
    if (steps === undefined) for (let i = 0; i < n; i++) await request(t);
    else for (let i = 0; i < n; i++) await cycle(t, steps);
    const used = process.cpuUsage(before);
    if (block >= 0) blocks.push((used.user + used.system) / n);
  }
  return { cpuUs: median(blocks), body };
}

function runChild(c: Case, variant: VariantId): ChildResult | null {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      `--child=${c.id}:${variant}`,
      ...(args.quick ? ['--quick'] : []),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out) as ChildResult | null;
}

/** A variant's sets in one case. */
interface Result extends Timed {
  variant: VariantId;
  cpuUs: number;
  /** Median absolute deviation over the sets, relative to the median. */
  spread: number;
}

function measure(c: Case): Result[] {
  const runs = new Map<VariantId, { cpuUs: number }[]>();
  const answers = new Map<VariantId, string>();
  for (let set = 0; set < SETS; set++) {
    for (const variant of set % 2 === 0 ? c.variants : [...c.variants].reverse()) {
      const result = runChild(c, variant);
      if (result === null) continue; // not available here (Unavailable)
      answers.set(variant, result.body);
      (runs.get(variant) ?? runs.set(variant, []).get(variant)!).push({ cpuUs: result.cpuUs });
    }
  }
  // A fast wrong answer is not a result: every variant must answer as the first one did.
  const bodies = new Set(answers.values());
  if (bodies.size > 1)
    throw new Error(
      `bench:requests: ${c.id} variants answer differently: ${[...bodies].join(' | ')}`,
    );
  return c.variants
    .filter((v) => runs.has(v))
    .map((variant) => {
      const r = runs.get(variant)!;
      const cpuUs = median(r.map((x) => x.cpuUs));
      return {
        variant,
        runs: r,
        cpuUs,
        spread: median(r.map((x) => Math.abs(x.cpuUs - cpuUs))) / cpuUs,
      };
    });
}

function main(): void {
  const machine = describeMachine();
  const sections: string[] = [];
  const results: Record<string, unknown> = {};
  const partial = args.only !== undefined || args.variants !== undefined || args.sets !== undefined;
  const picked = args.variants?.split(',');
  for (const c of CASES.filter(
    (x) => args.only === undefined || args.only.split(',').includes(x.id),
  )) {
    const variants =
      picked === undefined ? c.variants : c.variants.filter((v) => picked.includes(v));
    if (variants.length === 0) continue;
    const cells = measure({ ...c, variants });
    const ref = cells[0]!;
    const lines = [
      `### ${c.title}`,
      '',
      `| variant | CPU µs/req | × ${ref.variant} | over ${ref.variant} in | spread |`,
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const cell of cells) {
      const sign = signTest(cell, ref, 1);
      lines.push(
        `| ${LABELS[cell.variant]} | ${cell.cpuUs.toFixed(1)} | ${pairedRatio(cell, ref).toFixed(3)} | ${cell === ref ? '–' : `${sign.above} of ${sign.rounds} sets (p = ${sign.p.toFixed(3)})`} | ±${(cell.spread * 100).toFixed(1)}% |`,
      );
    }
    const km = cells.find((x) => x.variant === 'km-session');
    for (const peer of cells.filter(
      (x) => x.variant === 'koa-better-flash' || x.variant === 'koa-flash',
    )) {
      if (km === undefined) continue;
      const sign = signTest(km, peer, 1);
      lines.push(
        '',
        `koa-messages 'session' / ${peer.variant}: ${pairedRatio(km, peer).toFixed(3)}, over 1 in ${sign.above} of ${sign.rounds} sets (sign test p = ${sign.p.toFixed(3)}).`,
      );
    }
    // Issue 13: ctx.flash adds at most 5 % to the cycle over ctx.messages; beside it the A/A control.
    const flash = cells.find((x) => x.variant === 'km-flash');
    const twin = cells.find((x) => x.variant === 'km-session-2');
    if (c.cycle !== undefined && km !== undefined && flash !== undefined) {
      const sign = signTest(flash, km, 1.05);
      lines.push(
        '',
        `Budget: ctx.flash / ctx.messages ${pairedRatio(flash, km).toFixed(3)} (≤ 1.05), over 1.05 in ${sign.above} of ${sign.rounds} sets (sign test p = ${sign.p.toFixed(3)})` +
          (twin === undefined
            ? '.'
            : `; A/A control (the same server in a second process) ${pairedRatio(twin, km).toFixed(3)}.`),
      );
    }
    sections.push(lines.join('\n'));
    results[c.id] = cells.map((x) => ({
      variant: x.variant,
      cpuUs: x.cpuUs,
      spread: x.spread,
      ratio: pairedRatio(x, ref),
      runs: x.runs.map((r) => r.cpuUs),
    }));
    console.log(`${lines.join('\n')}\n`);
  }
  const done = finishMachine(machine);
  const head =
    `Machine: ${machineLine(done)}; ${done.date}. ${SETS} sets; in each, every variant in a fresh process: ${WARM_BLOCKS} warm-up blocks, then ${BLOCKS} timed ` +
    `blocks of ${CASES.map((c) => `${perBlock(c)} (${c.id})`).join(', ')} requests; CPU µs per request of the median block; ratios are medians of same-set ratios.`;
  console.log(head);
  if (!args.quick && !partial) {
    writeFileSync(
      here('./requests.json'),
      `${JSON.stringify({ machine: done, sets: SETS, blocks: BLOCKS, results }, null, 2)}\n`,
    );
    writeSection(
      here('../BENCHMARKS.md'),
      'requests',
      `## Whole requests in process (\`npm run bench:requests\`)\n\n${head}\n\n${sections.join('\n\n')}`,
    );
    console.log(
      'wrote bench/requests.json and BENCHMARKS.md (section "Whole requests in process")',
    );
  }
}

if (args.child !== undefined) console.log(JSON.stringify(await child(args.child)));
else main();
