/**
 * `npm run bench`: every variant in its own server process, loaded with autocannon from here,
 * scenario by scenario, variants interleaved; prints the tables and the budgets, writes
 * bench/results.json and the latest table into BENCHMARKS.md.
 *
 *   npm run bench                      full run (about 5–6 minutes on 2 cores)
 *   npm run bench -- --quick           smoke run (under a minute); writes bench/results.quick.json only
 *   npm run bench -- --only=b,d --variants=floor,km-session --sets=2 --runs=3 --scale=2 --cpu-prof
 *                                      a partial run (written to bench/results.partial.json);
 *                                      --cpu-prof writes server profiles to bench/profiles/
 *   npm run bench -- --against=e493a23 the in-process part also measures that commit beside this
 *                                      checkout (bench/against.ts)
 *
 * First, in a child process of its own, the in-process measure (bench/inprocess.ts: an untouched
 * request and the session cycle, in ns); `--quick` makes it quick too, a partial run leaves it out
 * unless `--only` names `inprocess`. The exit code is 1 when its budget fails.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { checkBudgets } from './budgets.js';
import { load, pin, PINNING, type Round, ServerProcess, startRedis } from './harness.js';
import { describeMachine, finishMachine } from './machine.js';
import {
  budgetLines,
  type BudgetResult,
  type Cell,
  headline,
  type RunSettings,
  summarize,
  table,
  writeSection,
} from './report.js';
import {
  type Check,
  NotApplicable,
  type Prepared,
  SCENARIO_IDS,
  type ScenarioId,
  SCENARIOS,
} from './scenarios.js';
import { LABELS, VARIANT_IDS, type VariantId } from './variants.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    variants: { type: 'string' },
    runs: { type: 'string' },
    sets: { type: 'string' },
    scale: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    against: { type: 'string' },
  },
});

const list = <T extends string>(
  value: string | undefined,
  all: readonly T[],
  what: string,
): readonly T[] => {
  if (value === undefined) return all;
  const picked = value.split(',').map((s) => s.trim());
  for (const p of picked)
    if (!all.includes(p as T))
      throw new Error(`bench: unknown ${what} ${p}; known: ${all.join(', ')}`);
  return picked as T[];
};

// `sets` × `runs` rounds per cell: each set starts fresh server processes, because two processes of
// the same code land up to ±5 % apart for their whole life (the A/A control), which rounds in one
// process cannot average out.
const settings: RunSettings = args.quick
  ? { quick: true, sets: 1, runs: 1, scale: 0.1, connections: 8 }
  : { quick: false, sets: 3, runs: 2, scale: 1, connections: 8 };
if (args.sets !== undefined) settings.sets = Number(args.sets);
if (args.runs !== undefined) settings.runs = Number(args.runs);
if (args.scale !== undefined) settings.scale = Number(args.scale);
/** Warm-up before later rounds, as a share of a round: the server is warm, but the other variants just ran. */
const REWARM = 0.1;

// `inprocess` in --only: the in-process measure (bench/inprocess.ts), not an HTTP scenario.
const onlyList = args.only?.split(',').map((s) => s.trim());
const httpOnly = onlyList?.filter((s) => s !== 'inprocess');
const scenarioIds =
  httpOnly === undefined
    ? SCENARIO_IDS
    : httpOnly.length === 0
      ? []
      : list(httpOnly.join(','), SCENARIO_IDS, 'scenario');
const variantFilter = list(args.variants, VARIANT_IDS, 'variant');
const partial =
  args.only !== undefined ||
  args.variants !== undefined ||
  args.runs !== undefined ||
  args.sets !== undefined ||
  args.scale !== undefined ||
  args['cpu-prof'];
const inProcess = onlyList?.includes('inprocess') ?? !partial;

/**
 * bench/inprocess.ts in a child process (its own JIT and heap, and started before this process
 * pins itself to the load generator's CPUs, which a child would inherit).
 *
 * @returns whether its budget passed.
 */
function runInProcess(): boolean {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      here('./inprocess.ts'),
      ...(settings.quick ? ['--quick'] : []),
      ...(args.against === undefined ? [] : [`--against=${args.against}`]),
    ],
    { stdio: 'inherit' },
  );
  if (result.status === 1) return false;
  if (result.status !== 0)
    throw new Error(`bench: bench/inprocess.ts exited with ${result.status}`);
  return true;
}

async function main(): Promise<void> {
  if (inProcess && !runInProcess()) process.exitCode = 1;
  if (scenarioIds.length === 0) return;
  const began = Date.now();
  let machine = describeMachine();
  const scenarios = SCENARIOS.filter((s) => scenarioIds.includes(s.id));
  const needed = VARIANT_IDS.filter(
    (v) => variantFilter.includes(v) && scenarios.some((s) => s.variants.includes(v)),
  );

  const usesRedis =
    needed.includes('km-redis') ||
    needed.includes('km-session-outbox') ||
    needed.includes('km-session-outbox-every') ||
    needed.includes('floor-redis') ||
    needed.includes('floor-redis-2');
  const redis = usesRedis ? await startRedis() : null;
  if (usesRedis && redis === null)
    console.log('note: no redis-server on PATH, the redis variant is skipped');
  const execArgv = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${here('./profiles')}`] : [];
  const env: Record<string, string> = redis === null ? {} : { BENCH_REDIS_URL: redis.url };

  if (PINNING !== null && pin(process.pid, PINNING.loader)) settings.pinning = PINNING;
  const servers = new Map<VariantId, ServerProcess>();
  const unavailable = new Map<VariantId, string>();
  const stopServers = async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    servers.clear();
  };
  process.once(
    'SIGINT',
    () =>
      void stopServers()
        .then(() => redis?.stop())
        .then(() => process.exit(130)),
  );

  try {
    const cells = new Map<string, Cell>();
    const summarized = () => [...cells.values()].map((c) => (c.status === 'ok' ? summarize(c) : c));
    for (let set = 0; set < settings.sets; set++) {
      // In parallel: each is a Node process loading tsx, Koa and the variant.
      const startedAt = Date.now();
      const started = await Promise.all(
        needed.map((id) => ServerProcess.start(id, { execArgv, env })),
      );
      needed.forEach((id, i) => {
        const s = started[i]!;
        if (s instanceof ServerProcess) servers.set(id, s);
        else unavailable.set(id, s.unavailable);
      });
      console.log(
        `set ${set + 1} of ${settings.sets}: ${servers.size} servers up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      );
      if (set === 0)
        for (const [id, reason] of unavailable)
          console.log(`not available: ${LABELS[id]}: ${reason}`);
      for (const scenario of scenarios) {
        for (const cell of await runScenario(scenario.id, servers, unavailable)) merge(cells, cell);
        if (set === settings.sets - 1) {
          console.log(
            `\n## ${scenario.title} (at ${((Date.now() - began) / 1000).toFixed(0)} s)\n\n${table(summarized(), scenario.id)}`,
          );
        } else {
          console.log(
            `set ${set + 1}: ${scenario.title} done at ${((Date.now() - began) / 1000).toFixed(0)} s`,
          );
        }
      }
      await stopServers();
    }
    const results = summarized();
    const budgets = checkBudgets(results);
    console.log(`\n## Budgets\n\n${budgetLines(budgets)}`);
    machine = finishMachine(machine);
    const seconds = (Date.now() - began) / 1000;
    console.log(`\n${headline(machine, settings, seconds)}`);
    write(results, budgets, machine, seconds, Object.fromEntries(unavailable));
  } finally {
    await stopServers();
    await redis?.stop();
  }
}

/** Add one set's rounds of a cell to the run's; a cell that was n/a in any set stays n/a. */
function merge(cells: Map<string, Cell>, cell: Cell): void {
  const key = `${cell.scenario} ${cell.variant}`;
  const known = cells.get(key);
  if (known === undefined) {
    cells.set(key, cell);
    return;
  }
  known.runs.push(...cell.runs);
  if (cell.status === 'n/a' && known.status === 'ok') {
    known.status = 'n/a';
    if (cell.reason !== undefined) known.reason = cell.reason;
  }
}

async function runScenario(
  id: ScenarioId,
  servers: Map<VariantId, ServerProcess>,
  unavailable: Map<VariantId, string>,
): Promise<Cell[]> {
  const scenario = SCENARIOS.find((s) => s.id === id)!;
  const cells = new Map<VariantId, Cell>();
  const prepared = new Map<VariantId, Prepared>();
  for (const variant of scenario.variants.filter((v) => variantFilter.includes(v))) {
    const server = servers.get(variant);
    if (server === undefined) {
      cells.set(variant, {
        scenario: id,
        variant,
        status: 'n/a',
        reason: unavailable.get(variant) ?? 'not started',
        runs: [],
      });
      continue;
    }
    try {
      prepared.set(variant, await scenario.prepare(server));
      cells.set(variant, { scenario: id, variant, status: 'ok', runs: [] });
    } catch (error) {
      if (!(error instanceof NotApplicable)) throw error;
      cells.set(variant, { scenario: id, variant, status: 'n/a', reason: error.message, runs: [] });
    }
  }

  const order = [...prepared.keys()];
  for (let round = 0; round < settings.runs; round++) {
    // ABBA…: reversing the order every round cancels a slow drift of the machine's speed.
    for (const variant of round % 2 === 0 ? order : [...order].reverse()) {
      const server = servers.get(variant)!;
      const p = prepared.get(variant)!;
      const warm: Check = { wrong: 0 };
      const connections = settings.connections;
      // Multiples of 3 × connections, so that every connection ends on a whole (d) cycle.
      const amount = (share: number) =>
        Math.max(1, Math.round((scenario.amount * settings.scale * share) / (3 * connections))) *
        3 *
        connections;
      // A fresh server's first warm-up is a full round: the JIT and the heap settle by requests, not seconds.
      await load(
        server,
        p.requests(warm),
        p.context,
        { connections, amount: amount(round === 0 ? 1 : REWARM), measure: false },
        warm,
      );
      const check: Check = { wrong: 0 };
      const result: Round = await load(
        server,
        p.requests(check),
        p.context,
        { connections, amount: amount(1), measure: true },
        check,
      );
      const cell = cells.get(variant)!;
      if (result.wrong > 0 || result.serverErrors > 0 || warm.wrong > 0) {
        // A variant that answers wrongly under load is no result: say so instead of timing it.
        cell.status = 'n/a';
        cell.reason = `${result.wrong + warm.wrong} wrong answers and ${result.serverErrors} server errors under load`;
      }
      cell.runs.push(result);
    }
  }
  return [...cells.values()];
}

function write(
  cells: Cell[],
  budgets: BudgetResult[],
  machine: ReturnType<typeof describeMachine>,
  seconds: number,
  unavailable: Record<string, string>,
): void {
  const results = { machine, settings, seconds: Math.round(seconds), unavailable, budgets, cells };
  const file = settings.quick
    ? 'results.quick.json'
    : partial
      ? 'results.partial.json'
      : 'results.json';
  writeFileSync(here(`./${file}`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote bench/${file}`);
  if (settings.quick || partial) return;
  const tables = SCENARIOS.filter((s) => scenarioIds.includes(s.id))
    .map((s) => `### ${s.title}\n\n${table(cells, s.id)}`)
    .join('\n\n');
  writeSection(
    here('../BENCHMARKS.md'),
    'bench',
    `## Latest full run\n\n${headline(machine, settings, seconds)}\n\n${tables}\n\n### Budgets\n\n${budgetLines(budgets)}`,
  );
  console.log('wrote BENCHMARKS.md (section "Latest full run")');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
