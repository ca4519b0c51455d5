import { expect } from 'chai';
import fc from 'fast-check';
import type { Context } from 'koa';

import { POISON, prototypeSnapshot } from './fuzz.js';
import { agentOf, caseApp } from './helpers.js';

/**
 * The session (or whatever backs it: Redis, a database) is untrusted too: an old deploy, another
 * app sharing it, a hand edit. Garbage under the messages key must be dropped entry by entry,
 * never raise, never pollute a prototype, and be cleaned out of the session.
 */

/**
 * An independent statement of a valid stored entry: [level, text, extraTags?, 1?], or with a key
 * [level, text, extraTags, 0 or 1, key], then the add time and an own maxAge (key '' = none);
 * the text may be a descriptor [id] or [id, { name: JSON primitive }].
 */
function validEntry(entry: unknown): boolean {
  if (!Array.isArray(entry) || entry.length < 2 || entry.length > 7) return false;
  const [level, text, extraTags, html, key, addedAt, maxAge] = entry as unknown[];
  return (
    Number.isSafeInteger(level) &&
    (typeof text === 'string' ? text !== '' : validDescriptor(text)) &&
    (entry.length < 3 || typeof extraTags === 'string') &&
    (entry.length < 4 || html === 1 || html === 0) &&
    (entry.length < 5 || typeof key === 'string') &&
    (entry.length < 6 || (Number.isSafeInteger(addedAt) && (addedAt as number) >= 0)) &&
    (entry.length < 7 || (Number.isSafeInteger(maxAge) && (maxAge as number) >= 1))
  );
}

function validDescriptor(text: unknown): boolean {
  if (!Array.isArray(text) || text.length < 1 || text.length > 2) return false;
  const [id, values] = text as unknown[];
  if (typeof id !== 'string' || id === '') return false;
  if (text.length === 1) return true;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return false;
  return Object.values(values).every(
    (v) =>
      v === null ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)),
  );
}

const expectedCount = (data: unknown): number =>
  Array.isArray(data) ? data.filter(validEntry).length : 0;

/** Entries near the valid shape, so that some pass and most fail for one reason each. */
const entryish = fc.oneof(
  fc.tuple(fc.integer({ min: -100, max: 100 }), fc.string({ minLength: 1, maxLength: 8 })),
  fc.tuple(fc.integer(), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
  fc.tuple(
    fc.integer(),
    fc.string({ minLength: 1 }),
    fc.string(),
    fc.constantFrom<unknown>(1, 0, true, '1', null),
  ),
  // Keyed entries: the flag slot and the key, each valid or not.
  fc.tuple(
    fc.integer(),
    fc.string({ minLength: 1 }),
    fc.string(),
    fc.constantFrom<unknown>(1, 0, true, null),
    fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom<unknown>('', 5, null)),
  ),
  // With an add time and an own maxAge (docs/expiry.md), each valid or not. The app has no maxAge
  // option and the valid own maxAge is MAX_SAFE_INTEGER, so even a 1970 add time is fresh.
  fc.tuple(
    fc.integer(),
    fc.string({ minLength: 1 }),
    fc.string(),
    fc.constantFrom<unknown>(1, 0),
    fc.constantFrom<unknown>('', 'k', 5),
    fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom<unknown>(-1, 1.5, '1', null)),
    fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.constantFrom<unknown>(0, -5, 2.5, null)),
  ),
  // Descriptors in the text slot (docs/translation.md), valid or not.
  fc.tuple(
    fc.integer(),
    fc.oneof(
      fc.tuple(fc.string({ maxLength: 4 })),
      fc.tuple(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
      fc.array(fc.jsonValue({ maxDepth: 0 }), { maxLength: 3 }),
    ),
  ),
  fc.tuple(
    fc.oneof(fc.double(), fc.string(), fc.constant(null), fc.constant(2 ** 60)),
    fc.string({ minLength: 1 }),
  ),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 6 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const garbage = fc.oneof(
  { weight: 3, arbitrary: fc.array(entryish, { maxLength: 12 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ...POISON.filter((p) => p !== '' && !p.endsWith('trailing') && p !== '[[25,"x"]').map(
        (p) => JSON.parse(p) as unknown,
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'length', '0'),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
);

describe('hardening: garbage in the session under the messages key', function () {
  this.timeout(60_000);

  it('keeps exactly the valid entries of any stored value, answers 200, and cleans the session', async () => {
    const before = prototypeSnapshot();
    const { app, store } = caseApp({
      kind: 'session-external',
      routes: {
        '/visit': (ctx: Context) => {
          ctx.session!.visitor = 1;
          ctx.body = 'welcome';
        },
        '/': (ctx: Context) => {
          ctx.body = String([...ctx.messages].length);
        },
      },
    });
    const a = agentOf(app);
    await a.get('/visit').expect(200);
    const { key } = store!.only();
    await fc.assert(
      fc.asyncProperty(garbage, async (data) => {
        // Written as the backend holds it: JSON text (so `__proto__` comes back as an own key).
        store!.data.set(
          key,
          JSON.stringify({
            visitor: 1,
            messages: data,
            _expire: Date.now() + 86_400_000,
            _maxAge: 86_400_000,
          }),
        );
        await a.get('/').expect(200, String(expectedCount(data)));
        // Read (and consumed) or dropped, the key is gone: no garbage stays behind.
        expect(store!.only().value).to.not.have.property('messages');
        expect(store!.only().value['visitor']).to.equal(1);
      }),
      { numRuns: 1000 },
    );
    expect(prototypeSnapshot()).to.equal(before);
  });

  it('cuts a stored list of 50,000 valid messages to maxMessages at the end of the next request that loads it', async () => {
    const { app, store, drops } = caseApp({
      kind: 'session-external',
      routes: {
        '/visit': (ctx: Context) => {
          ctx.session!.visitor = 1;
          ctx.body = 'welcome';
        },
        '/count': (ctx: Context) => {
          ctx.body = String(ctx.messages.size);
        },
      },
    });
    const a = agentOf(app);
    await a.get('/visit').expect(200);
    const { key, value } = store!.only();
    const huge = Array.from({ length: 50_000 }, (_, i) => [20, `m${i}`]);
    store!.data.set(key, JSON.stringify({ ...value, messages: huge }));
    await a.get('/count').expect(200, '50000');
    const kept = store!.only().value['messages'] as unknown[];
    expect(kept).to.have.length(100);
    expect(kept[0]).to.deep.equal([20, 'm49900']);
    expect(drops.map((d) => [d.reason, d.messages.length])).to.deep.equal([
      ['max-messages', 49_900],
    ]);
    await a.get('/count').expect(200, '100');
  });
});
