import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';

/**
 * A private `redis-server` for the tests: on a free loopback port, with persistence off, stopped
 * after the suite. Installs Debian's `redis-server` package first when the binary is missing, so
 * `npm test` works on a fresh machine (CI runs as root on Debian/Ubuntu).
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGKILL and wait for the exit. */
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function findBinary(): string | undefined {
  return which('redis-server') ?? CANDIDATES.find((path) => {
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

let installed: string | undefined;

/**
 * The path of `redis-server`, installing Debian's package when it is missing. Debian's package
 * would start a system-wide server on 6379 from its post-install script; `RUNLEVEL=1` keeps
 * `invoke-rc.d` from doing that, since the tests start their own.
 */
export function redisServerBinary(): string {
  if (installed !== undefined) return installed;
  let binary = findBinary();
  if (binary === undefined) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
    const apt = (...args: string[]) =>
      execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      try {
        apt('install', '-y', '--no-install-recommends', 'redis-server');
      } catch {
        // Fresh images ship without package lists.
        apt('update');
        apt('install', '-y', '--no-install-recommends', 'redis-server');
      }
    } catch (error) {
      throw new Error(
        'redis-server is not installed and `apt-get install -y redis-server` failed (it needs root on Debian or ' +
          `Ubuntu). Install Redis and put redis-server on PATH. ${String(error)}`,
      );
    }
    binary = findBinary();
    if (binary === undefined) throw new Error('redis-server is still missing after apt-get install redis-server');
  }
  installed = binary;
  return binary;
}

/** A port the kernel just handed out on 127.0.0.1 (free right now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One raw RESP command; resolves with the reply text (for PING and DEBUG in the harness). */
export function rawCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('redis did not answer')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/**
 * Start a `redis-server` on a free loopback port (or on `port`, to restart one), with DEBUG
 * allowed from loopback (tests use `DEBUG SLEEP` to make Redis slow), and wait until
 * it answers PING.
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  const binary = redisServerBinary();
  const chosen = port ?? (await freePort());
  const child = spawn(
    binary,
    ['--save', '', '--appendonly', 'no', '--port', String(chosen), '--bind', '127.0.0.1', '--loglevel', 'warning', '--enable-debug-command', 'local'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    try {
      if ((await rawCommand(chosen, 'PING')) === '+PONG\r\n') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${chosen}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
