/**
 * What `koa-messages/client` costs a page, measured as a user's bundler sees it: esbuild (the
 * version in package-lock.json), ESM, minified, every import bundled, gzip -9. Each case imports
 * the package by name, so esbuild resolves it through package.json `exports` to the built `dist/`
 * (`npm run build` first), exactly what `npm pack` ships.
 *
 * `npm run size` prints the table that README.md and docs/api.md quote; `size.test.ts` holds the
 * limits (issue 28) in `npm test`.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build, version as esbuildVersion } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a page imports, and the most it may cost gzipped (KiB, as issue 28 states them). */
export const CASES = [
  {
    name: '`onMessages` alone',
    code: "export { onMessages } from 'koa-messages/client';",
    limit: 5 * 1024,
  },
  { name: '`ajax()` alone', code: "export { ajax } from 'koa-messages/client';", limit: 6 * 1024 },
  { name: '`live()` alone', code: "export { live } from 'koa-messages/client';", limit: 5 * 1024 },
  { name: 'the whole entry', code: "export * from 'koa-messages/client';", limit: 7 * 1024 },
] as const;

/**
 * For scale, not limits: the floor (zod core checking the same shapes, none of our code) and what
 * the zod flavours cost by themselves.
 */
export const FOR_SCALE = [
  {
    name: 'floor for `onMessages`: zod core checking a message list',
    code: "import { safeParse } from 'zod/v4/core'; import { messageArraySchema } from './dist/shared/wire.js'; export const f = (x) => safeParse(messageArraySchema, x);",
  },
  {
    name: 'floor for `ajax()`: zod core checking the envelope',
    code: "import { safeParse } from 'zod/v4/core'; import { envelopeSchema } from './dist/shared/wire.js'; export const f = (x) => safeParse(envelopeSchema, x);",
  },
  {
    name: '`z.object({ a: z.string() })` on zod/mini',
    code: "import * as z from 'zod/mini'; export const s = z.object({ a: z.string() });",
  },
  {
    name: '`z.object({ a: z.string() })` on classic zod',
    code: "import * as z from 'zod'; export const s = z.object({ a: z.string() });",
  },
] as const;

export interface Measure {
  name: string;
  limit: number;
  /** Minified bytes. */
  bytes: number;
  /** Those bytes through gzip -9. */
  gzip: number;
  /** Every file that went into the bundle, relative to the repository. */
  inputs: string[];
}

/** Bundle one case the way a page's build would and weigh it. */
export async function measure(code: string): Promise<Omit<Measure, 'name' | 'limit'>> {
  const result = await build({
    stdin: { contents: code, resolveDir: ROOT, sourcefile: 'page.js', loader: 'js' },
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0]!.contents;
  const inputs = Object.values(result.metafile.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path),
  );
  return { bytes: output.length, gzip: gzipSync(output, { level: 9 }).length, inputs };
}

/** Every case, measured. */
export async function measureAll(): Promise<Measure[]> {
  const measures: Measure[] = [];
  for (const { name, code, limit } of CASES)
    measures.push({ name, limit, ...(await measure(code)) });
  return measures;
}

const kib = (n: number) => `${(n / 1024).toFixed(2)} KiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { createRequire } = await import('node:module');
  const zod = (createRequire(import.meta.url)('zod/package.json') as { version: string }).version;
  console.log(
    `koa-messages/client, esbuild ${esbuildVersion} (ESM, minified, es2022), zod ${zod}, gzip -9:\n`,
  );
  console.log('| what the page imports | minified | gzip | limit |');
  console.log('|---|---|---|---|');
  for (const m of await measureAll())
    console.log(`| ${m.name} | ${kib(m.bytes)} | **${kib(m.gzip)}** | ${kib(m.limit)} |`);
  for (const { name, code } of FOR_SCALE) {
    const m = await measure(code);
    console.log(`| for scale: ${name} | ${kib(m.bytes)} | ${kib(m.gzip)} | |`);
  }
}
