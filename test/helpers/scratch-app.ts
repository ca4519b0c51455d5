import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throw-away app directory outside the repository, with the packed package installed. */
export interface ScratchApp {
  /** The app's directory (under the OS temp dir). */
  dir: string;
  /** The tarball `npm pack` made, e.g. `koa-messages-0.1.0.tgz`, inside `dir`. */
  tarball: string;
}

/**
 * Make a scratch app as a user would have after `npm install ./koa-messages-x.y.z.tgz`:
 * `npm pack` the repository (its `dist/` must be built), extract the tarball into the app's
 * `node_modules/<name>`, and symlink the given packages from the repository's node_modules, so that
 * nothing needs the network (their own dependencies resolve from the repository, where the links
 * lead). The app's package.json has `"type": "module"`, or none with `{ type: 'commonjs' }`.
 *
 * @param root - the repository root.
 * @param packages - what the app installs besides the package itself (`koa`, `@types/koa`, …);
 *   names the repository has not installed are left out.
 * @param options - `type`: the app's module type (`'module'`); `link`: whether to symlink the
 *   `packages` (`true`; `false` leaves them to a real `npm install` in the app).
 * @returns the app's directory and the tarball's file name.
 */
export async function createScratchApp(
  root: string,
  packages: string[],
  { type = 'module', link = true }: { type?: 'module' | 'commonjs'; link?: boolean } = {},
): Promise<ScratchApp> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string };
  const dir = await mkdtemp(join(tmpdir(), 'koa-messages-docs-'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'docs-scratch-app', private: true, ...(type === 'module' ? { type } : {}) }, null, 2)}\n`,
  );
  if (!link) return { dir, tarball: filename };
  await mkdir(join(dir, 'node_modules'));
  await run('tar', ['-xzf', join(dir, filename), '-C', join(dir, 'node_modules')]);
  await rename(join(dir, 'node_modules', 'package'), join(dir, 'node_modules', pkg.name));
  for (const name of new Set(packages)) {
    const from = join(root, 'node_modules', name);
    if (name === pkg.name || !existsSync(from)) continue;
    const to = join(dir, 'node_modules', name);
    await mkdir(dirname(to), { recursive: true });
    await symlink(from, to);
  }
  return { dir, tarball: filename };
}
