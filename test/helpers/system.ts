import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Wait for another apt-get (another suite, another worktree) instead of failing on the dpkg lock.
const APT = ['-o', 'DPkg::Lock::Timeout=600', '-o', 'Acquire::Retries=3'];

/**
 * Make sure a program the suites drive for real (Chromium, redis-server) is installed: when `binary`
 * is missing, install the Debian package `pkg` (`apt-get update`, then `apt-get install -y`).
 * Call it from a `before` hook with a long timeout (a first install can take minutes).
 *
 * It never skips: without root or apt-get the suite fails, naming the command to run.
 *
 * @param binary - absolute path that must exist afterwards, e.g. `/usr/bin/chromium`.
 * @param pkg - the Debian package that provides it, e.g. `chromium`.
 * @param extraEnv - environment for apt-get, e.g. `{ RUNLEVEL: '1' }` so a server package's install
 *   script does not start a system-wide service the tests do not want.
 * @returns `binary`.
 * @throws when the program is missing and cannot be installed.
 * @example
 * before(async function () {
 *   this.timeout(15 * 60_000);
 *   await ensureDebianPackage('/usr/bin/chromium', 'chromium');
 * });
 */
export async function ensureDebianPackage(
  binary: string,
  pkg: string,
  extraEnv: Record<string, string> = {},
): Promise<string> {
  if (existsSync(binary)) return binary;
  const manual = `install it with \`apt-get update && apt-get install -y ${pkg}\``;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `${binary} is missing and there is no apt-get to install it: install the ${pkg} package.`,
    );
  }
  if (process.getuid?.() !== 0)
    throw new Error(`${binary} is missing and the tests do not run as root: ${manual} (as root).`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...extraEnv };
  const options = { env, maxBuffer: 64 * 1024 * 1024 };
  try {
    await run('apt-get', [...APT, 'update'], options);
    await run('apt-get', [...APT, 'install', '-y', pkg], options);
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(
      `apt-get could not install ${pkg} (for ${binary}): ${stderr?.trim().split('\n').slice(-5).join('\n') ?? String(error)}`,
      { cause: error },
    );
  }
  if (!existsSync(binary))
    throw new Error(`apt-get installed ${pkg}, but ${binary} is still missing.`);
  return binary;
}
