/**
 * The budgets of issue 7, as ratios between variants measured in the same run (CPU µs/request
 * medians). Checked and printed by the bench only: never by a unit test.
 */
import { type BudgetResult, type Cell, pairedRatio, signTest } from './report.js';
import type { ScenarioId } from './scenarios.js';
import { LABELS, type VariantId } from './variants.js';

const PEERS: readonly VariantId[] = ['koa-flash', 'koa-better-flash'];

export function checkBudgets(cells: Cell[]): BudgetResult[] {
  const get = (scenario: ScenarioId, variant: VariantId) =>
    cells.find((c) => c.scenario === scenario && c.variant === variant);
  const results: BudgetResult[] = [];

  const ratio = (
    name: string,
    scenario: ScenarioId,
    variant: VariantId,
    against: VariantId,
    max: number,
    strict = false,
  ) => {
    const a = get(scenario, variant);
    const b = get(scenario, against);
    // Not part of this (partial) run: nothing to say.
    if (a === undefined || b === undefined) return;
    if (a.median === undefined || b.median === undefined) {
      const missing = a.median === undefined ? a : b;
      results.push({
        name,
        pass: null,
        detail: `${LABELS[missing.variant]} not measured: ${missing.reason ?? 'no runs'}`,
      });
      return;
    }
    const r = pairedRatio(a, b);
    const pass = strict ? r < max : r <= max;
    // A miss smaller than the two cells' noise is reported as such, not hidden.
    const noise = (a.spread ?? 0) + (b.spread ?? 0);
    const within = !pass && r - max < noise ? " — the miss is within this run's noise" : '';
    const sign = signTest(a, b, max);
    results.push({
      name: name + within,
      pass,
      detail:
        `paired ratio ${r.toFixed(3)} (${strict ? '<' : '≤'} ${max}); medians ${a.median.cpuUs.toFixed(1)} vs ${b.median.cpuUs.toFixed(1)} µs/req, spread ±${((a.spread ?? 0) * 100).toFixed(1)}% / ±${((b.spread ?? 0) * 100).toFixed(1)}%; ` +
        `over the limit in ${sign.above} of ${sign.rounds} rounds (sign test p = ${sign.p.toFixed(3)})`,
    });
  };

  for (const s of ['a-fresh', 'a-session'] as const) {
    ratio(
      `(${s}) messages() installed within 2% of bare koa-session`,
      s,
      'km-session',
      'baseline',
      1.02,
    );
    ratio(
      `(${s}) messages({ flash: true }) installed within 2% of bare koa-session`,
      s,
      'km-flash',
      'baseline',
      1.02,
    );
    const a = get(s, 'km-session')?.median;
    const b = get(s, 'baseline')?.median;
    if (a !== undefined && b !== undefined) {
      results.push({
        name: `(${s}) messages() adds no Set-Cookie bytes`,
        pass: a.setCookieBytes === b.setCookieBytes,
        detail: `${a.setCookieBytes.toFixed(1)} vs ${b.setCookieBytes.toFixed(1)} bytes/request`,
      });
    }
  }

  // Issue 15: the Redis storage against what a user with sessions in Redis would write.
  ratio(
    "(d) 'redis' no more CPU than the floor on a Redis session store",
    'd',
    'km-redis',
    'floor-redis',
    1,
  );

  for (const s of ['b', 'c', 'd'] as const) {
    ratio(`(${s}) 'session' within 1.15x of the floor`, s, 'km-session', 'floor', 1.15);
    for (const peer of PEERS) {
      if (get(s, peer) === undefined || get(s, 'km-session') === undefined) continue;
      if (get(s, peer)?.median === undefined) {
        results.push({
          name: `(${s}) 'session' at least as fast as ${peer}`,
          pass: null,
          detail: `${peer} not measured: ${get(s, peer)?.reason ?? 'no runs'}`,
        });
      } else {
        ratio(`(${s}) 'session' at least as fast as ${peer}`, s, 'km-session', peer, 1);
      }
    }
    ratio(`(${s}) 'cookie' faster than the floor`, s, 'km-cookie', 'floor', 1, true);
  }

  // Issue 13: connect-flash's API over the same store adds at most 5 % to the whole cycle.
  ratio('(d) ctx.flash within 1.05x of ctx.messages', 'd', 'km-flash', 'km-session', 1.05);
  ratio(
    '(d) a logged-in user with nothing sent (redisOutbox): within 1.10x of the same cycle without it',
    'd',
    'km-session-outbox',
    'km-session',
    1.1,
  );

  const twin = get('d', 'floor-redis-2');
  const floorRedis = get('d', 'floor-redis');
  if (twin?.median !== undefined && floorRedis?.median !== undefined) {
    results.push({
      name: '(d) A/A control: the Redis-store floor against itself in a second process',
      pass: null,
      info: true,
      detail: `paired ratio ${pairedRatio(twin, floorRedis).toFixed(3)} (1 on a quiet machine): how far identical servers land apart beside the Redis budget`,
    });
  }

  const a = get('c', 'floor-2');
  const b = get('c', 'floor');
  if (a?.median !== undefined && b?.median !== undefined) {
    results.push({
      name: '(c) A/A control: the floor against itself in a second process',
      pass: null,
      info: true,
      detail: `paired ratio ${pairedRatio(a, b).toFixed(3)} (1 on a quiet machine): how far identical servers land apart in this run`,
    });
  }

  // What the headers koa-messages must send cost on the floor: the peers send none of them.
  for (const s of ['c', 'd'] as const) {
    const h = get(s, 'floor-headers');
    const f = get(s, 'floor');
    if (h?.median !== undefined && f?.median !== undefined) {
      results.push({
        name: `(${s}) what koa-messages' response headers cost the floor`,
        pass: null,
        info: true,
        detail: `paired ratio ${pairedRatio(h, f).toFixed(3)}; medians ${h.median.cpuUs.toFixed(1)} vs ${f.median.cpuUs.toFixed(1)} µs/req (Cache-Control, Vary and nosniff, which no peer sends)`,
      });
    }
  }

  ratio(
    '(e) ctx.ajax(100 KB) within 1.05x of ctx.body = data (no cookie)',
    'e',
    'km-session',
    'baseline',
    1.05,
  );
  return results;
}
