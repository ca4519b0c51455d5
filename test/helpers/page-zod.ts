import type { Metafile } from 'esbuild';

import type { PageZod } from '../../example/bundle.js';

/**
 * Which zod the browser tests bundle the demo page's script with: `zod/mini` as written, or
 * classic zod when `PAGE_ZOD=classic` (`npm run test:page-classic`, part of `npm test`).
 */
export const PAGE_ZOD: PageZod = pageZod(process.env['PAGE_ZOD']);

function pageZod(value: string | undefined): PageZod {
  if (value === undefined || value === 'mini' || value === 'classic') return value ?? 'mini';
  throw new Error(`PAGE_ZOD=${value}: expected mini or classic.`);
}

/** The zod flavours whose own code went into a bundle: the guard that a run bundled what it says. */
export function pageZodInputs(meta: Metafile): PageZod[] {
  const inputs = Object.keys(meta.inputs);
  return (['mini', 'classic'] as const).filter((flavour) =>
    inputs.some((path) => path.startsWith(`node_modules/zod/v4/${flavour}/`)),
  );
}
