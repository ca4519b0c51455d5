/** Medians, tables and the BENCHMARKS.md section. */
import { readFileSync, writeFileSync } from 'node:fs';

import type { Round } from './harness.js';
import { type Machine, machineLine } from './machine.js';
import type { ScenarioId } from './scenarios.js';
import { LABELS, type VariantId } from './variants.js';

export interface Summary {
  cpuUs: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  setCookieBytes: number;
}

/** One scenario × variant. */
export interface Cell {
  scenario: ScenarioId;
  variant: VariantId;
  /** `n/a`: not available here, or cannot do this flow (`reason` says which). */
  status: 'ok' | 'n/a';
  reason?: string;
  runs: Round[];
  median?: Summary;
  /** Median absolute deviation of CPU µs/request over the rounds, relative to the median: this cell's noise. */
  spread?: number;
}

/** Anything with rounds of CPU µs/request: a bench cell, or a variant of `npm run bench:requests`. */
export interface Timed {
  runs: readonly { cpuUs: number }[];
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The median over rounds of `a`'s CPU µs/request divided by `b`'s in the same round. Variants run
 * next to each other in every round, so a pair shares the machine's state of that moment: this
 * cancels more of a shared machine's drift than the ratio of two medians.
 */
export function pairedRatio(a: Timed, b: Timed): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.runs.length, b.runs.length); i++)
    ratios.push(a.runs[i]!.cpuUs / b.runs[i]!.cpuUs);
  return ratios.length === 0 ? NaN : median(ratios);
}

/**
 * How many rounds put `a / b` above `limit`, and the two-sided sign-test p-value of that count
 * (binomial, p = 1/2, ties dropped): whether a miss, or a pass, is more than a coin flip. With 7
 * rounds, 7 of 7 on one side gives p = 0.016, 6 of 7 gives p = 0.125.
 */
export function signTest(
  a: Timed,
  b: Timed,
  limit: number,
): { above: number; rounds: number; p: number } {
  let above = 0;
  let below = 0;
  for (let i = 0; i < Math.min(a.runs.length, b.runs.length); i++) {
    const r = a.runs[i]!.cpuUs / b.runs[i]!.cpuUs;
    if (r > limit) above++;
    else if (r < limit) below++;
  }
  return { above, rounds: above + below, p: signP(above, below) };
}

/** The two-sided sign-test p-value of `above` rounds on one side and `below` on the other (ties dropped). */
export function signP(above: number, below: number): number {
  const n = above + below;
  const k = Math.min(above, below);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += binomial(n, i) / 2 ** n;
  return n === 0 ? 1 : Math.min(1, 2 * tail);
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

export function summarize(cell: Cell): Cell {
  if (cell.status !== 'ok' || cell.runs.length === 0) return cell;
  const pick = (key: keyof Summary) => median(cell.runs.map((r) => r[key]));
  const m: Summary = {
    cpuUs: pick('cpuUs'),
    reqPerSec: pick('reqPerSec'),
    p50: pick('p50'),
    p99: pick('p99'),
    setCookieBytes: pick('setCookieBytes'),
  };
  return {
    ...cell,
    median: m,
    spread: median(cell.runs.map((r) => Math.abs(r.cpuUs - m.cpuUs))) / m.cpuUs,
  };
}

/** The variant each scenario's ratios are taken against. */
export const REFERENCE: Record<ScenarioId, VariantId> = {
  'a-fresh': 'baseline',
  'a-session': 'baseline',
  b: 'floor',
  c: 'floor',
  d: 'floor',
  e: 'baseline',
  'e-session': 'baseline',
};

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** A Markdown table of one scenario (readable as plain text in a terminal too). */
export function table(cells: Cell[], scenario: ScenarioId): string {
  const rows = cells.filter((c) => c.scenario === scenario);
  const ref = rows.find((c) => c.variant === REFERENCE[scenario] && c.median !== undefined);
  const lines = [
    '| variant | CPU µs/req | × ' +
      REFERENCE[scenario] +
      ' | req/s | p50 ms | p99 ms | Set-Cookie B/req | spread |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of rows) {
    if (c.median === undefined) {
      lines.push(`| ${LABELS[c.variant]} | n/a: ${c.reason ?? 'no runs'} | | | | | | |`);
      continue;
    }
    const m = c.median;
    const ratio = ref === undefined ? '–' : pairedRatio(c, ref).toFixed(3);
    lines.push(
      `| ${LABELS[c.variant]} | ${fmt(m.cpuUs)} | ${ratio} | ${fmt(m.reqPerSec, 0)} | ${fmt(m.p50, 0)} | ${fmt(m.p99, 0)} | ${fmt(m.setCookieBytes, 0)} | ±${fmt((c.spread ?? NaN) * 100)}% |`,
    );
  }
  return lines.join('\n');
}

export interface BudgetResult {
  name: string;
  /** `null`: could not be checked (a variant is not available). */
  pass: boolean | null;
  detail: string;
  /** Not a budget: a reference printed with them (the A/A control). */
  info?: boolean;
  /** Over the limit by less than the run's A/A noise: neither met nor missed (printed TIE, `pass` false). */
  tie?: boolean;
}

export function budgetLines(budgets: BudgetResult[]): string {
  return budgets
    .map(
      (b) =>
        `- ${b.info === true ? 'INFO' : b.pass === null ? 'SKIP' : b.pass ? 'PASS' : b.tie === true ? 'TIE' : 'FAIL'} ${b.name}: ${b.detail}`,
    )
    .join('\n');
}

/**
 * Replace the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in BENCHMARKS.md
 * (appending the block when missing), leaving the hand-written notes around it alone.
 */
export function writeSection(path: string, name: string, body: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, text);
}

export interface RunSettings {
  quick: boolean;
  /** How many times every server is started afresh; each set runs `runs` rounds per cell. */
  sets: number;
  runs: number;
  /** Multiplies each scenario's requests per round (1 for a full run). */
  scale: number;
  connections: number;
  /** The CPUs the servers and the load generator were pinned to, when they were. */
  pinning?: { server: string; loader: string };
}

export function headline(machine: Machine, settings: RunSettings, seconds: number): string {
  return [
    `Machine: ${machineLine(machine)}.`,
    `Run: ${machine.date}; ${settings.sets} set(s) of fresh server processes, in each per cell a warm-up round, then ${settings.runs} measured rounds of a fixed number of requests ` +
      `(${settings.scale}× the scenario's count), ${settings.connections} connections; ` +
      (settings.pinning === undefined
        ? 'not pinned to CPUs; '
        : `servers on CPU ${settings.pinning.server}, the load generator on CPU ${settings.pinning.loader}; `) +
      'variants interleaved, order reversed every round; ' +
      `medians over rounds, ratios are medians of same-round ratios, spread is the median absolute deviation; ${Math.round(seconds)} s in all.`,
  ].join('\n');
}
