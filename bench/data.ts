/**
 * Fixed inputs shared by the bench's servers and its load generator, so both sides agree on what a
 * correct answer looks like.
 */

/** The one message every flash variant adds. */
export const MESSAGE_TEXT = 'Vote recorded.';

/** The small data object of the read routes. */
export const SMALL_DATA = { votes: 3 } as const;

/** Example signing key for the bench servers only; never a real secret. */
export const BENCH_KEYS = ['bench-key-example-only'];

/**
 * A JSON-ready object of about 100 KB: a page of 600 catalogue rows, the kind of payload an
 * AJAX endpoint answers with. Built once per process; every request sends the same object.
 */
export function bigData(): Record<string, unknown> {
  const items = [];
  for (let i = 0; i < 600; i++) {
    items.push({
      id: i,
      sku: `SKU-${String(i).padStart(6, '0')}`,
      name: `Catalogue item number ${i}`,
      price: Math.round(i * 137.5) / 100,
      inStock: i % 3 !== 0,
      tags: ['catalogue', i % 2 === 0 ? 'even' : 'odd', `group-${i % 7}`],
      dimensions: { w: i % 50, h: (i * 3) % 70, d: (i * 7) % 30 },
    });
  }
  return { page: 1, pageSize: items.length, total: 6000, items };
}
