/**
 * Bundle the page's script for the browser (`npm run build:client`). esbuild follows the package's
 * own name to its client entry through tsconfig.json `paths`, the same import a user's app makes.
 */
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILE } from './app.js';

const ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));

/**
 * Write the bundle to `build-output/public/app.js`.
 *
 * @returns esbuild's metafile: every input that went in, every import left out.
 * @throws when the script does not compile or imports something a browser cannot load.
 */
export async function bundleClient(): Promise<Metafile> {
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
  });
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const meta = await bundleClient();
  const out = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined);
  console.log(`${BUNDLE_FILE}: ${out?.bytes ?? '?'} bytes`);
}
