/**
 * `npm run bench:soak`: scenario (d) (add → 303 → ajax → ajax, cookie jar per virtual user) for two
 * minutes against each koa-messages storage, its server run with `--expose-gc`. The heap after a
 * full GC must not grow by 5% or more between the end of the warm-up and the end of the soak.
 *
 *   npm run bench:soak                 120 s per storage; writes bench/soak.json and a BENCHMARKS.md section
 *   npm run bench:soak -- --quick      15 s per storage, writes nothing
 *   npm run bench:soak -- --seconds=60 --variants=km-session,floor    (prints only)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { load, pin, PINNING, ServerProcess, startRedis } from './harness.js';
import { describeMachine, finishMachine, machineLine } from './machine.js';
import { writeSection } from './report.js';
import { type Check, NotApplicable, SCENARIOS } from './scenarios.js';
import { LABELS, type VariantId } from './variants.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    variants: { type: 'string' },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const STORAGES: VariantId[] = ['km-session', 'km-cookie', 'km-fallback', 'km-redis'];
const seconds = Number(args.seconds ?? (args.quick ? 15 : 120));
const chunk = Math.min(10, seconds);
const variants = args.variants === undefined ? STORAGES : (args.variants.split(',') as VariantId[]);
const LIMIT = 0.05;

interface SoakResult {
  variant: VariantId;
  status: 'ok' | 'n/a';
  reason?: string;
  requests?: number;
  /** heapUsed after GC, bytes: after the warm-up, then after each chunk of load. */
  heap?: number[];
  growth?: number;
  pass?: boolean;
}

async function soak(variant: VariantId, redisUrl: string | undefined): Promise<SoakResult> {
  const started = await ServerProcess.start(variant, {
    execArgv: ['--expose-gc'],
    env: redisUrl === undefined ? {} : { BENCH_REDIS_URL: redisUrl },
  });
  if (!(started instanceof ServerProcess))
    return { variant, status: 'n/a', reason: started.unavailable };
  const server = started;
  try {
    const scenario = SCENARIOS.find((s) => s.id === 'd')!;
    let prepared;
    try {
      prepared = await scenario.prepare(server);
    } catch (error) {
      if (error instanceof NotApplicable) return { variant, status: 'n/a', reason: error.message };
      throw error;
    }
    const check: Check = { wrong: 0 };
    const options = { connections: 8, measure: false };
    // Long enough for the JIT and V8's heap sizing to settle: growth after that is what a leak looks like.
    await load(
      server,
      prepared.requests(check),
      prepared.context,
      { ...options, duration: args.quick ? 5 : 20 },
      check,
    );
    const heap = [await server.heapAfterGc()];
    let requests = 0;
    for (let done = 0; done < seconds;) {
      const duration = Math.min(chunk, seconds - done);
      const round = await load(
        server,
        prepared.requests(check),
        prepared.context,
        { ...options, duration },
        check,
      );
      done += duration;
      requests += round.requests;
      heap.push(await server.heapAfterGc());
      process.stdout.write(
        `  ${LABELS[variant]}: ${done} s, ${requests} requests, heap ${(heap.at(-1)! / 2 ** 20).toFixed(2)} MiB\n`,
      );
    }
    if (check.wrong > 0)
      return { variant, status: 'n/a', reason: `${check.wrong} wrong answers under load` };
    const growth = heap.at(-1)! / heap[0]! - 1;
    return { variant, status: 'ok', requests, heap, growth, pass: growth < LIMIT };
  } finally {
    await server.stop();
  }
}

const line = (r: SoakResult): string =>
  r.status === 'n/a'
    ? `- SKIP ${LABELS[r.variant]}: ${r.reason}`
    : `- ${r.pass ? 'PASS' : 'FAIL'} ${LABELS[r.variant]}: heap after GC ${(r.heap![0]! / 2 ** 20).toFixed(2)} → ${(r.heap!.at(-1)! / 2 ** 20).toFixed(2)} MiB ` +
      `(${r.growth! >= 0 ? '+' : ''}${(r.growth! * 100).toFixed(1)}%, limit +${LIMIT * 100}%) over ${r.requests} requests in ${seconds} s`;

async function main(): Promise<void> {
  let machine = describeMachine();
  const redis = variants.includes('km-redis') ? await startRedis() : null;
  // Servers are pinned by ServerProcess.start(); the load generator keeps off their CPU.
  if (PINNING !== null) pin(process.pid, PINNING.loader);
  const results: SoakResult[] = [];
  try {
    for (const variant of variants) {
      if (variant === 'km-redis' && redis === null) {
        results.push({ variant, status: 'n/a', reason: 'no redis-server on PATH' });
        continue;
      }
      console.log(`soak: ${LABELS[variant]}`);
      results.push(await soak(variant, redis?.url));
    }
  } finally {
    await redis?.stop();
  }
  machine = finishMachine(machine);
  const text = results.map(line).join('\n');
  console.log(`\n${text}\n\nMachine: ${machineLine(machine)}.`);
  // Only the default soak (every storage, 120 s) is recorded.
  if (!args.quick && args.seconds === undefined && args.variants === undefined) {
    writeFileSync(
      here('./soak.json'),
      `${JSON.stringify({ machine, seconds, results }, null, 2)}\n`,
    );
    writeSection(
      here('../BENCHMARKS.md'),
      'soak',
      `## Memory soak (\`npm run bench:soak\`)\n\nScenario (d) with a cookie jar per virtual user, 8 connections, ${seconds} s per storage; ` +
        `heap after two forced GCs (\`--expose-gc\`), taken after a warm-up and after every ${chunk} s.\n` +
        `Machine: ${machineLine(machine)}; ${machine.date}.\n\n${text}`,
    );
    console.log('wrote bench/soak.json and BENCHMARKS.md (section "Memory soak")');
  }
  if (results.some((r) => r.pass === false)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
