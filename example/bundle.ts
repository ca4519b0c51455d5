/**
 * Bundle the page's script for the browser (`npm run build:demo`, run by `npm run build` after tsc).
 * The script imports `koa-messages/client` by name, as a user's app does: esbuild resolves that
 * through package.json `exports` (a package may import itself) to the built `dist/client/`, so the
 * bundle is made of exactly what the package ships.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { build, type Metafile } from 'esbuild';

import { BUNDLE_FILE } from './app.js';

const ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('../dist/client/index.js', import.meta.url));

/** Which zod the page's own schemas are written with. */
export type PageZod = 'mini' | 'classic';

/**
 * Write the bundle to `build-output/public/app.js`.
 *
 * @param options.zod - `'mini'` (default): the script as written, on `zod/mini`; `'classic'`: the
 *   same script with `zod/mini` resolved to classic `zod` (its functions and checks have the same
 *   names there), as an app on classic zod has it.
 * @returns esbuild's metafile: every input that went in, every import left out.
 * @throws when `dist/` is not built, or the script does not compile or imports something a browser cannot load.
 */
export async function bundleClient(options: { zod?: PageZod } = {}): Promise<Metafile> {
  if (!existsSync(CLIENT_ENTRY))
    throw new Error(
      `${CLIENT_ENTRY} is missing: run \`npm run build\` (it compiles, then bundles).`,
    );
  const result = await build({
    entryPoints: [ENTRY],
    outfile: BUNDLE_FILE,
    bundle: true,
    format: 'esm',
    // 'browser': a Node built-in import is a build error, not a silent shim.
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    ...(options.zod === 'classic' ? { alias: { 'zod/mini': 'zod' } } : {}),
  });
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const meta = await bundleClient();
  const out = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined);
  console.log(`${BUNDLE_FILE}: ${out?.bytes ?? '?'} bytes`);
}
