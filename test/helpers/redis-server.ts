import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

import { ensureDebianPackage } from './system.js';

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

/**
 * The path of `redis-server`, installing Debian's package when it is missing (see system.ts).
 * Debian's package would start a system-wide server on 6379 from its post-install script;
 * `RUNLEVEL=1` keeps `invoke-rc.d` from doing that, since the tests start their own.
 */
export function redisServerBinary(): Promise<string> {
  return ensureDebianPackage('/usr/bin/redis-server', 'redis-server', { RUNLEVEL: '1' });
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
      if (!reply.endsWith('\r\n')) return;
      // A bulk string (`$<length>\r\n<bytes>\r\n`, as INFO answers) is whole only with its bytes.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk !== null && Buffer.byteLength(reply) < bulk[0].length + Number(bulk[1]) + 2) return;
      socket.end();
      resolve(reply);
    });
    socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
    );
  });
}

/**
 * Wait until the `redis-server` child answers on `port` (10 s at most), checked by its process
 * id; kill it and throw if it exits or stays silent.
 */
export async function waitForPing(child: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    try {
      // This child's answer, not another server's that took the port first (this one then exits).
      const info = await rawCommand(port, 'INFO', 'server');
      if (child.pid !== undefined && info.includes(`\r\nprocess_id:${child.pid}\r\n`)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Start a `redis-server` on a free loopback port (or on `port`, to restart one), with DEBUG
 * allowed from loopback (tests use `DEBUG SLEEP` to make Redis slow), and wait until
 * it answers PING.
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  // A port the kernel called free can be taken before redis-server binds it (it then exits at
  // once): a start on a port of our choosing is retried on another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOnce(port);
    } catch (error) {
      if (port !== undefined || attempt >= 5 || !String(error).includes('exited')) throw error;
    }
  }
}

async function startRedisOnce(port: number | undefined): Promise<RedisServer> {
  const binary = await redisServerBinary();
  const chosen = port ?? (await freePort());
  const child = spawn(
    binary,
    [
      '--save',
      '',
      '--appendonly',
      'no',
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--loglevel',
      'warning',
      '--enable-debug-command',
      'local',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = once(child, 'exit');
  await waitForPing(child, chosen);
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
