/**
 * `npm run bench:inprocess` (also part of `npm run bench`): what koa-messages costs one request,
 * in nanoseconds, measured in one process (issue 27).
 *
 *   npm run bench:inprocess                   15 rounds (about 2 minutes); writes bench/inprocess.json
 *                                             and the BENCHMARKS.md section "In process"
 *   npm run bench:inprocess -- --quick        5 short rounds (about 15 s); writes nothing
 *   npm run bench:inprocess -- --against=e493a23
 *                                             builds that commit in a scratch worktree (bench/against.ts)
 *                                             and this checkout's dist/, and interleaves the two builds
 *                                             variant by variant; writes bench/against.json and the
 *                                             BENCHMARKS.md section "Against an earlier commit"
 *   --rounds=N --requests=N --cycles=N --only=untouched|cycle
 *                                             a partial run, printed only
 *   --no-build                                this checkout's dist/ as it is, not rebuilt first
 *   --keep-worktree                           leave --against's scratch worktree in place
 *
 * koa-messages is this checkout's `dist/`, built first with `tsc -p tsconfig.build.json` (what users
 * run; the same code loaded from `src/` through tsx measured 1.5–2 times dearer per request).
 * Each variant is a Koa app whose middleware chain runs through `koa-compose` on contexts from
 * `app.createContext()` (bench/inprocess-apps.ts). A round runs every variant for one block of
 * iterations, variants interleaved, the order reversed every other round, after one untimed
 * warm-up round; a block is timed with `process.cpuUsage()` (user + system: time the process ran,
 * not time it waited for the other processes of a shared machine). Every figure is the median over
 * rounds of a same-round difference, in ns per request (or per cycle), and beside it the median
 * absolute deviation of those differences. The A/A control, the same variant built twice, says how
 * far two identical apps land apart.
 *
 * Exit code 1 when a budget line fails: one of koa-messages's storages costs an untouched request
 * more than koa-session's own middleware does (this checkout's build; `--against`'s ref is the
 * "before" and is not budgeted), or the Redis storage sent a command for one. A miss smaller than
 * the A/A control's |median| + 2 × MAD is printed TIE and does not fail. Never timed by `npm test`
 * (test/bench/inprocess.test.ts runs it tiny, for its output and exit code only).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  buildCheckout,
  checkoutLabel,
  checkoutRef,
  loadDist,
  ownContexts,
  type RefCheckout,
} from './against.js';
import { startRedis } from './harness.js';
import {
  type Build,
  connectRedis,
  cycleVariants,
  type RedisProbe,
  type Runner,
  untouchedVariants,
  type Variant,
} from './inprocess-apps.js';
import { describeMachine, finishMachine, type Machine, machineLine } from './machine.js';
import { budgetLines, type BudgetResult, median, signP, writeSection } from './report.js';
import { Unavailable } from './variants.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    against: { type: 'string' },
    'keep-worktree': { type: 'boolean', default: false },
    /** Use this checkout's dist/ as it is (the smoke test's, after `npm test`'s own build). */
    'no-build': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    cycles: { type: 'string' },
    only: { type: 'string' },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

const settings = {
  rounds: Number(args.rounds ?? (args.quick ? 5 : 15)),
  /** Untouched requests per block. */
  requests: Number(args.requests ?? (args.quick ? 3000 : 30_000)),
  /** Session cycles (2 requests each) per block. */
  cycles: Number(args.cycles ?? (args.quick ? 200 : 2000)),
};
const parts = (args.only ?? 'untouched,cycle').split(',').map((p) => p.trim());
for (const p of parts)
  if (p !== 'untouched' && p !== 'cycle')
    throw new Error(`bench:inprocess: unknown --only part ${p}; known: untouched, cycle`);
const partial =
  args['no-build'] ||
  args.rounds !== undefined ||
  args.requests !== undefined ||
  args.cycles !== undefined ||
  args.only !== undefined;

/** A variant once built: its runner, or why it is not available. */
interface Built {
  variant: Variant;
  runner?: Runner;
  reason?: string;
  /** CPU ns per iteration, one per round. */
  cpu: number[];
  /** Wall-clock ns per iteration, one per round (kept in the JSON; the figures use `cpu`). */
  wall: number[];
}

async function block(runner: Runner, n: number, checkEach: boolean): Promise<[number, number]> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await runner.once();
    if (checkEach) runner.check();
  }
  const wall = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  runner.check();
  return [((used.user + used.system) * 1000) / n, wall / n];
}

/**
 * Build every variant, then one warm-up round and `rounds` timed rounds, interleaved.
 *
 * @param onBuilt - called once every variant is built, before the first request (the Redis probes'
 *   reading: what a storage sends when it is made is not sent for a request).
 */
async function measure(
  variants: Variant[],
  n: number,
  what: string,
  onBuilt?: () => Promise<void>,
): Promise<Built[]> {
  const built: Built[] = [];
  for (const variant of variants) {
    const b: Built = { variant, cpu: [], wall: [] };
    try {
      b.runner = await variant.make();
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      b.reason = error.message;
    }
    built.push(b);
  }
  const running = built.filter((b) => b.runner !== undefined);
  await onBuilt?.();
  const began = Date.now();
  // The warm-up round checks every answer of its first iterations, then the block's last.
  for (const b of running) await block(b.runner!, Math.min(n, 50), true);
  for (const b of running) await block(b.runner!, n, false);
  for (let round = 0; round < settings.rounds; round++) {
    for (const b of round % 2 === 0 ? running : [...running].reverse()) {
      const [cpu, wall] = await block(b.runner!, n, false);
      b.cpu.push(cpu);
      b.wall.push(wall);
    }
  }
  console.log(
    `${what}: ${running.length} variants × ${settings.rounds} rounds of ${n} in ${((Date.now() - began) / 1000).toFixed(0)} s`,
  );
  return built;
}

/** Same-round differences `a − b`. */
const diffs = (a: number[], b: number[]): number[] => a.map((x, i) => x - b[i]!);
const mad = (xs: number[]): number => {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
};
const ns = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
const signed = (x: number): string => (x > 0 ? `+${ns(x)}` : ns(x));

/** A figure: the median of same-round differences, its spread, and how many rounds were above 0. */
interface Figure {
  median: number;
  mad: number;
  above: number;
  below: number;
}
const figure = (d: number[]): Figure => ({
  median: median(d),
  mad: mad(d),
  above: d.filter((x) => x > 0).length,
  below: d.filter((x) => x < 0).length,
});
const sign = (f: Figure): string =>
  `above 0 in ${f.above} of ${f.above + f.below} rounds (sign test p = ${signP(f.above, f.below).toFixed(3)})`;

interface Row {
  id: string;
  label: string;
  /** The row whose chain this one's extends by one middleware. */
  over?: string;
  reason?: string;
  /** Over the bare app (untouched) or over the floor (cycle). */
  total?: Figure;
  /** Over the chain it extends by one middleware. */
  own?: Figure;
  /** CPU ns per iteration, median of the rounds (absolute). */
  absolute?: number;
  cpu: number[];
  wall: number[];
}

function rowsOf(built: Built[], zero: string): Row[] {
  const get = (id: string) => built.find((b) => b.variant.id === id);
  const z = get(zero)!;
  return built.map((b) => {
    const row: Row = { id: b.variant.id, label: b.variant.label, cpu: b.cpu, wall: b.wall };
    if (b.variant.over !== undefined) row.over = b.variant.over;
    if (b.runner === undefined) return { ...row, reason: b.reason ?? 'not available' };
    row.absolute = median(b.cpu);
    if (b !== z) row.total = figure(diffs(b.cpu, z.cpu));
    const over = b.variant.over === undefined ? undefined : get(b.variant.over);
    if (over?.runner !== undefined) row.own = figure(diffs(b.cpu, over.cpu));
    return row;
  });
}

function untouchedTable(rows: Row[], aa: Figure | undefined): string {
  const floor = rows.find((r) => r.id === 'floor');
  const lines = [
    '| on an untouched request | ns/req over the bare app | over the floor | its own middleware | ± (MAD) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    if (r.reason !== undefined) {
      lines.push(`| ${r.label} | n/a: ${r.reason} | | | |`);
      continue;
    }
    if (r.total === undefined) {
      lines.push(`| ${r.label} | 0 (${ns(r.absolute!)} ns/req in all) | | | |`);
      continue;
    }
    const overFloor =
      floor?.cpu.length === r.cpu.length && r !== floor ? ns(median(diffs(r.cpu, floor.cpu))) : '–';
    const own = r.own ?? r.total;
    lines.push(
      `| ${r.label} | ${ns(r.total.median)} | ${overFloor} | ${ns(own.median)} | ±${ns(own.mad)} |`,
    );
  }
  if (aa !== undefined)
    lines.push(
      '',
      `A/A control (koa-session in a second app, against the first): ${signed(aa.median)} ns/req, ±${ns(aa.mad)} per round.`,
    );
  return lines.join('\n');
}

function cycleTable(rows: Row[], aa: Figure | undefined): string {
  const floor = rows.find((r) => r.id === 'floor');
  const lines = [
    '| add → 303 → read with `ctx.ajax()` | µs per cycle | ns/cycle over the floor | × floor | ± (MAD) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    if (r.reason !== undefined) {
      lines.push(`| ${r.label} | n/a: ${r.reason} | | | |`);
      continue;
    }
    const ratio = floor === undefined ? NaN : median(r.cpu.map((x, i) => x / floor.cpu[i]!));
    lines.push(
      `| ${r.label} | ${(r.absolute! / 1000).toFixed(1)} | ${r.own === undefined ? '0' : signed(r.own.median)} | ${ratio.toFixed(3)} | ${r.own === undefined ? '' : `±${ns(r.own.mad)}`} |`,
    );
  }
  if (aa !== undefined)
    lines.push(
      '',
      `A/A control (the floor in a second app, against the first): ${signed(aa.median)} ns/cycle, ±${ns(aa.mad)} per round.`,
    );
  return lines.join('\n');
}

/** `--against`: per variant, the ref's and this checkout's figures and their paired difference. */
function againstTable(
  rows: Row[],
  variants: Variant[],
  ref: string,
  head: string,
  unit: string,
  aa: Figure | undefined,
): string {
  const lines = [
    `| variant | ${ref}: ${unit} | ${head}: ${unit} | ${head} − ${ref}, paired | ± (MAD) | ${head} dearer in |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const storages = [
    ...new Set(variants.filter((v) => v.ours !== undefined).map((v) => v.ours!.storage)),
  ];
  for (const storage of storages) {
    const a = byId.get(`${storage}@${ref}`);
    const b = byId.get(`${storage}@${head}`);
    const label = variants.find((v) => v.id === `${storage}@${head}`)!.label.replace(/ @ .*$/, '');
    if (a?.own === undefined || b?.own === undefined) {
      lines.push(`| ${label} | n/a: ${a?.reason ?? b?.reason ?? 'not measured'} | | | | |`);
      continue;
    }
    const d = figure(diffs(b.cpu, a.cpu));
    lines.push(
      `| ${label} | ${ns(a.own.median)} | ${ns(b.own.median)} | ${signed(d.median)} | ±${ns(d.mad)} | ${d.above} of ${d.above + d.below} rounds (p = ${signP(d.above, d.below).toFixed(3)}) |`,
    );
  }
  if (aa !== undefined)
    lines.push(
      '',
      `A/A control of the same rounds (see above): ${signed(aa.median)} ${unit}, ±${ns(aa.mad)} per round.`,
    );
  return lines.join('\n');
}

/** Issue 27's budget: on an untouched request, each of ours costs at most koa-session's own middleware. */
function budgets(
  rows: Row[],
  head: string,
  aa: Figure | undefined,
  redisSent: Map<string, number>,
) {
  const results: BudgetResult[] = [];
  const session = rows.find((r) => r.id === 'koa-session');
  const noise = aa === undefined ? '' : `; A/A control ${signed(aa.median)} ±${ns(aa.mad)} ns`;
  for (const r of rows.filter((x) => x.id.endsWith(`@${head}`))) {
    const name = `(in process) ${r.label.replace(/ @ .*$/, '')}: its own cost on an untouched request ≤ koa-session's own middleware`;
    if (r.own === undefined || session?.own === undefined) {
      results.push({ name, pass: null, detail: `not measured: ${r.reason ?? session?.reason}` });
      continue;
    }
    const over = rows.find((x) => x.id === r.over)!;
    const bare = rows.find((x) => x.id === 'bare')!;
    const d = figure(diffs(diffs(r.cpu, over.cpu), diffs(session.cpu, bare.cpu)));
    const pass = d.median <= 0;
    // A miss smaller than what two identical apps land apart is a tie, not a result.
    const bound = aa === undefined ? 0 : Math.abs(aa.median) + 2 * aa.mad;
    const tie = !pass && d.median <= bound;
    const within = tie
      ? ` — a tie: over by less than the A/A control's noise (|median| + 2 × MAD = ${ns(bound)} ns)`
      : '';
    results.push({
      name: name + within,
      pass,
      tie,
      detail: `${ns(r.own.median)} vs ${ns(session.own.median)} ns/req; paired difference ${signed(d.median)} ±${ns(d.mad)} ns, ${sign(d)}${noise}`,
    });
  }
  const sent = redisSent.get(head);
  results.push({
    name: '(in process) `redisStorage()` sends Redis nothing for an untouched request without a visitor cookie',
    pass: sent === undefined ? null : sent === 0,
    detail:
      sent === undefined
        ? 'not measured: no redis-server on PATH'
        : `${sent} commands reached redis-server (its INFO total_commands_processed) from the first request of the warm-up to the last of the rounds`,
  });
  return results;
}

/** A redis-server per build and a second connection that reads its command count. */
async function startProbes(labels: string[]): Promise<{
  probes: Map<string, RedisProbe>;
  stop: () => Promise<void>;
}> {
  const probes = new Map<string, RedisProbe>();
  const stops: (() => Promise<void>)[] = [];
  for (const label of labels) {
    const server = await startRedis();
    if (server === null) break;
    stops.push(server.stop);
    stops.unshift(await connectRedis(server.url));
    const { Redis } = await import('ioredis');
    const observer = new Redis(server.url);
    stops.unshift(async () => void (await observer.quit()));
    const processed = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await observer.info('stats'))![1]);
    let mark = 0;
    probes.set(label, {
      url: server.url,
      async mark() {
        mark = await processed();
      },
      // The reading taken by mark() is counted after it ran: one command is the probe's own.
      commandsSince: async () => (await processed()) - mark - 1,
    });
  }
  return {
    probes,
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}

async function main(): Promise<void> {
  let machine: Machine = describeMachine();
  let ref: RefCheckout | undefined;
  const builds: Build[] = [];
  let head: string;
  if (args.against !== undefined) {
    ref = checkoutRef(args.against, repo);
    if (!args['no-build']) buildCheckout(repo);
    head = checkoutLabel(repo);
    if (head === ref.label) head = `${head} (this checkout)`;
    builds.push(await loadDist(ref.dir, ref.label), await loadDist(repo, head));
    ownContexts(builds);
  } else {
    // dist/, as users run it: the same code through tsx (src/) measured 1.5–2 times dearer.
    if (!args['no-build']) buildCheckout(repo);
    head = checkoutLabel(repo);
    builds.push(await loadDist(repo, head));
  }
  const { probes, stop } = await startProbes(builds.map((b) => b.label));
  const sections: string[] = [];
  const budgetResults: BudgetResult[] = [];
  const results: Record<string, unknown> = {};
  try {
    if (parts.includes('untouched')) {
      const variants = untouchedVariants(builds, probes);
      const built = await measure(variants, settings.requests, 'untouched requests', async () => {
        for (const p of probes.values()) await p.mark();
      });
      const redisSent = new Map<string, number>();
      for (const [label, p] of probes) redisSent.set(label, await p.commandsSince());
      const rows = rowsOf(built, 'bare');
      const s2 = rows.find((r) => r.id === 'koa-session-2');
      const s1 = rows.find((r) => r.id === 'koa-session');
      const aa = s2?.cpu.length ? figure(diffs(s2.cpu, s1!.cpu)) : undefined;
      let text = `### An untouched request (\`GET /plain\`, no cookie, the handler sets \`ctx.body = 'ok'\`)\n\n${untouchedTable(rows, aa)}`;
      if (ref !== undefined)
        text += `\n\nkoa-messages's own middleware, ${ref.label} against ${head} (ns/req):\n\n${againstTable(rows, variants, ref.label, head, 'ns/req', aa)}`;
      budgetResults.push(...budgets(rows, head, aa, redisSent));
      sections.push(text);
      console.log(`\n${text}\n`);
      results['untouched'] = { rows, aa, redisSent: Object.fromEntries(redisSent) };
    }
    if (parts.includes('cycle')) {
      const variants = cycleVariants(builds);
      const built = await measure(variants, settings.cycles, 'session cycles');
      const rows = rowsOf(built, 'floor');
      const aa = rows.find((r) => r.id === 'floor-2')?.own;
      let text = `### The session cycle (\`POST /add\` → 303, then \`GET /read\` with its cookies, read with \`ctx.ajax()\`; a logged-in koa-session)\n\n${cycleTable(rows, aa)}`;
      if (ref !== undefined)
        text += `\n\n${ref.label} against ${head} (over the floor, ns/cycle):\n\n${againstTable(rows, variants, ref.label, head, 'ns/cycle', aa)}`;
      sections.push(text);
      console.log(`\n${text}\n`);
      results['cycle'] = { rows, aa };
    }
  } finally {
    await stop();
    if (ref !== undefined && !args['keep-worktree']) ref.remove();
  }

  machine = finishMachine(machine);
  const head1 =
    `Machine: ${machineLine(machine)}; ${machine.date}. ` +
    `${settings.rounds} rounds after a warm-up round; per round and variant one block of ${settings.requests} untouched requests or ${settings.cycles} cycles, ` +
    'variants interleaved, the order reversed every other round; CPU time of the process (`process.cpuUsage()`); ' +
    'figures are medians of same-round differences, ± the median absolute deviation of those differences' +
    (ref === undefined
      ? `; koa-messages: ${head}'s \`dist/\` (\`tsc -p tsconfig.build.json\`).`
      : `; koa-messages from two builds loaded in one process: ${ref.label} (a scratch worktree, node_modules by ${ref.modules}) and ${head} (this checkout), both \`tsc -p tsconfig.build.json\`.`);
  const budgetText = budgetLines(budgetResults);
  console.log(`${head1}\n\n${budgetText}`);
  if (!args.quick && !partial) {
    const name = ref === undefined ? 'inprocess' : 'against';
    writeFileSync(
      here(`./${name}.json`),
      `${JSON.stringify({ machine, settings, against: ref?.sha, head, results, budgets: budgetResults }, null, 2)}\n`,
    );
    const title =
      ref === undefined
        ? '## In process (`npm run bench:inprocess`, part of `npm run bench`)'
        : `## Against an earlier commit (\`npm run bench:inprocess -- --against=${args.against}\`)`;
    writeSection(
      here('../BENCHMARKS.md'),
      name,
      `${title}\n\n${head1}\n\n${sections.join('\n\n')}\n\n${budgetText}`,
    );
    console.log(`wrote bench/${name}.json and BENCHMARKS.md (section "${name}")`);
  }
  if (budgetResults.some((b) => b.pass === false && b.tie !== true)) process.exitCode = 1;
}

await main();
