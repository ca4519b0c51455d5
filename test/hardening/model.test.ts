import { expect } from 'chai';

import type { StorageKind } from './helpers.js';
import { checkModel } from './model.js';
import { useRedis } from './redis.js';

/**
 * Model-based test: random sequences of add / redirect / read / ctx.ajax() / ignore / fail / HEAD,
 * OPTIONS, prefetch / 503 and mixed scripts, each one real HTTP request through a cookie-keeping
 * agent, compared answer by answer with a model of the delivery rules.
 * Sized for about 2-4 s per storage on a busy 2-core machine.
 */
const RUNS = 30;
const MAX_COMMANDS = 30;

const KINDS: StorageKind[] = [
  'session-cookie',
  'session-external',
  'memory',
  'cookie',
  'fallback',
  'redis',
];

describe('hardening: random request sequences against a model of the delivery rules', function () {
  this.timeout(120_000);
  const redis = useRedis();

  for (const kind of KINDS) {
    it(`loses, repeats and reorders no message on ${kind} storage`, async () => {
      const { finals, sessionWrites } = await checkModel(
        kind,
        RUNS,
        MAX_COMMANDS,
        kind === 'redis' ? redis.options : undefined,
      );
      console.log(
        `      ${kind}: ${finals.reduce((n, m) => n + m.added.length, 0)} added, ${finals.reduce((n, m) => n + m.delivered.length, 0)} delivered, ${sessionWrites} session writes`,
      );
      // The runs did exercise delivery, not only empty requests.
      expect(finals.reduce((n, m) => n + m.added.length, 0)).to.be.greaterThan(RUNS);
      expect(finals.reduce((n, m) => n + m.delivered.length, 0)).to.be.greaterThan(0);
      // The fallback's 128-byte cookie overflowed into the session in some runs.
      if (kind === 'fallback') expect(sessionWrites).to.be.greaterThan(0);
    });
  }
});
