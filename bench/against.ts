/**
 * `--against <git ref>`: build an earlier commit of koa-messages beside this checkout, so that
 * bench/inprocess.ts can load both builds' `dist/` in one process and interleave them.
 *
 * The ref is checked out with `git worktree add --detach` in the system's temporary directory
 * (outside the repository's tree, so no tool of this checkout sees it), given this checkout's
 * `node_modules` by symlink when its package-lock.json is byte-identical (else `npm ci`), and built
 * with `tsc -p tsconfig.build.json`. This checkout is built the same way, into its own `dist/`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Build } from './inprocess-apps.js';

const git = (repo: string, ...args: string[]): string =>
  execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

/** `tsc -p tsconfig.build.json` in `dir`, with the TypeScript of `dir`'s node_modules. */
function compile(dir: string): void {
  execFileSync(
    process.execPath,
    [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: dir, stdio: 'inherit' },
  );
}

/** A built ref in a scratch worktree; `remove()` takes the worktree away again. */
export interface RefCheckout {
  dir: string;
  sha: string;
  /** The short commit id. */
  label: string;
  /** How its node_modules came about: a symlink to this checkout's, or `npm ci`. */
  modules: 'symlink' | 'npm ci';
  remove(): void;
}

/**
 * Check out and build `ref` in a scratch worktree.
 *
 * @param repo - this checkout's root (the worktree is registered with its repository).
 * @throws when `ref` is not a commit, or npm or tsc fail.
 */
export function checkoutRef(ref: string, repo: string): RefCheckout {
  const sha = git(repo, 'rev-parse', '--verify', `${ref}^{commit}`);
  const label = git(repo, 'rev-parse', '--short', sha);
  const dir = join(tmpdir(), `koa-messages-bench-${sha.slice(0, 12)}`);
  const remove = () => {
    try {
      git(repo, 'worktree', 'remove', '--force', dir);
    } catch {
      // not a registered worktree (a failed earlier add): the directory alone
    }
    rmSync(dir, { recursive: true, force: true });
    git(repo, 'worktree', 'prune');
  };
  // Left over from an interrupted run: start again from a clean checkout.
  if (existsSync(dir)) remove();
  console.log(`--against ${ref}: checking out ${label} in ${dir}`);
  git(repo, 'worktree', 'add', '--detach', dir, sha);
  try {
    const lock = (root: string) => readFileSync(join(root, 'package-lock.json'), 'utf8');
    let modules: RefCheckout['modules'];
    if (existsSync(join(dir, 'package-lock.json')) && lock(dir) === lock(repo)) {
      symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
      modules = 'symlink';
    } else {
      console.log(`--against ${ref}: its package-lock.json differs from this checkout's: npm ci`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
      modules = 'npm ci';
    }
    console.log(`--against ${ref}: tsc -p tsconfig.build.json in ${dir}`);
    compile(dir);
    return { dir, sha, label, modules, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** This checkout's label: its short commit id, `+changes` when src/ or the build config differ from it. */
export function checkoutLabel(repo: string): string {
  const short = git(repo, 'rev-parse', '--short', 'HEAD');
  const dirty = git(
    repo,
    'status',
    '--porcelain',
    '--',
    'src',
    'tsconfig.base.json',
    'tsconfig.build.json',
    'package.json',
    'package-lock.json',
  );
  return dirty === '' ? short : `${short}+changes`;
}

/** Build this checkout's `dist/` (`tsc -p tsconfig.build.json`), as the ref's is built. */
export function buildCheckout(repo: string): void {
  console.log(`tsc -p tsconfig.build.json in ${repo}`);
  compile(repo);
}

/** Import a build's `dist/index.js` (and `dist/redis.js` when it has one). */
export async function loadDist(root: string, label: string): Promise<Build> {
  const entry = (file: string) => pathToFileURL(join(root, 'dist', file)).href;
  const index = (await import(entry('index.js'))) as { messages: Build['messages'] };
  let redisStorage: Build['redisStorage'];
  if (existsSync(join(root, 'dist', 'redis.js'))) {
    const redis = (await import(entry('redis.js'))) as { redisStorage?: Build['redisStorage'] };
    redisStorage = redis.redisStorage;
  }
  return { label, messages: index.messages, redisStorage };
}

/** The context properties koa-messages defines (`flash` only with `flash: true`, not used here). */
const CONTEXT_KEYS = ['messages', 'ajax'] as const;

/**
 * Give each build the `ctx.messages` / `ctx.ajax` of its own code. `messages()` defines them on
 * Koa's shared context prototype, once per process: the first copy loaded wins, and later copies
 * find their request under the same registered symbol. Two builds whose per-request record differs
 * (e493a23 and the request core after it) cannot share them, so here each build's are taken in
 * turn (the shared ones removed, `messages()` called, its definitions copied) and the bench puts
 * them on its apps' own `app.context` ({@link Build.context}), where they shadow the shared ones.
 */
export function ownContexts(builds: Build[]): void {
  const shared = createRequire(import.meta.url)('koa/lib/context.js') as Record<string, unknown>;
  for (const build of builds) {
    for (const key of CONTEXT_KEYS) delete shared[key];
    build.messages({ storage: 'memory' });
    const own: PropertyDescriptorMap = {};
    for (const key of CONTEXT_KEYS) {
      const d = Object.getOwnPropertyDescriptor(shared, key);
      if (d === undefined)
        throw new Error(
          `bench --against: ${build.label}'s messages() did not define ctx.${key} on Koa's context prototype`,
        );
      own[key] = d;
    }
    build.context = own;
  }
}
