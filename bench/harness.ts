/**
 * The bench's side of a server: start a variant in a child process, talk to it over IPC, put load on
 * it with autocannon, and read back what it cost the server.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import autocannon, { type Request } from 'autocannon';

import type { BenchCommand, ServerMessage } from './protocol.js';
import type { VariantId } from './variants.js';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

type Reply<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/**
 * The CPUs servers and the load generator run on, when the machine has two or more and `taskset`
 * (Linux, util-linux) is there: servers on the last CPU, this process (autocannon, its parsing
 * and the checks of every answer) on the others. Without it the scheduler moves both across the
 * same two cores and each round's CPU µs/request depends on whom the server shared a core with.
 */
export const PINNING: { server: string; loader: string } | null = (() => {
  const cpus = availableParallelism();
  if (cpus < 2 || process.platform !== 'linux' || spawnSync('taskset', ['--version']).status !== 0)
    return null;
  return { server: String(cpus - 1), loader: cpus === 2 ? '0' : `0-${cpus - 2}` };
})();

/** Pin every thread of `pid` (threads created later inherit it) to `cpus`; false when it could not. */
export function pin(pid: number, cpus: string): boolean {
  return (
    spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], {
      stdio: 'ignore',
    }).status === 0
  );
}

/** A running variant server. `start()` resolves to one, or to the reason it is not available. */
export class ServerProcess {
  readonly #child: ChildProcess;
  readonly #waiting: ((message: ServerMessage) => void)[] = [];

  private constructor(
    readonly id: VariantId,
    child: ChildProcess,
    readonly port: number,
  ) {
    this.#child = child;
    child.on('message', (message: ServerMessage) => this.#waiting.shift()?.(message));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Fork `bench/server.ts` for a variant and wait until it listens.
   *
   * @param options.execArgv - extra node flags for the server (`--expose-gc`, `--cpu-prof`).
   */
  static start(
    id: VariantId,
    options: { execArgv?: string[]; env?: Record<string, string> } = {},
  ): Promise<ServerProcess | { unavailable: string }> {
    const child = fork(SERVER, [id], {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (PINNING !== null && child.pid !== undefined) pin(child.pid, PINNING.server);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`bench: server ${id} exited with ${code} before it was ready`));
      child.once('exit', onExit);
      child.once('message', (message: ServerMessage) => {
        child.off('exit', onExit);
        if (message.type === 'ready') resolve(new ServerProcess(id, child, message.port));
        else if (message.type === 'unavailable') resolve({ unavailable: message.reason });
        else reject(new Error(`bench: server ${id} said ${message.type} before ready`));
      });
    });
  }

  #ask<T extends ServerMessage['type']>(command: BenchCommand, expect: T): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      this.#waiting.push((message) => {
        if (message.type === expect) resolve(message as Reply<T>);
        else
          reject(new Error(`bench: server ${this.id} answered ${message.type} to ${command.type}`));
      });
      this.#child.send(command);
    });
  }

  async startCounting(): Promise<void> {
    await this.#ask({ type: 'start' }, 'started');
  }

  stopCounting(): Promise<Reply<'stopped'>> {
    return this.#ask({ type: 'stop' }, 'stopped');
  }

  /** `heapUsed` after two full GCs (the server must run with `--expose-gc`). */
  async heapAfterGc(): Promise<number> {
    return (await this.#ask({ type: 'heap' }, 'heap')).heapUsed;
  }

  /** Ask the server to exit and wait for it (so `--cpu-prof` files get written). */
  stop(): Promise<void> {
    if (this.#child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.send({ type: 'exit' } satisfies BenchCommand);
    });
  }
}

/** A cookie jar: name → value, as a browser would keep for one origin and path `/`. */
export type Jar = Record<string, string>;

export function cookieHeader(jar: Jar): string {
  return Object.entries(jar)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** Apply Set-Cookie headers to a jar: set, or delete when the cookie is expired or emptied. */
export function applySetCookie(jar: Jar, setCookie: string | string[] | undefined): Jar {
  if (setCookie === undefined) return jar;
  for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => {
      const [key = '', v = ''] = a.trim().split('=');
      if (key.toLowerCase() === 'max-age') return Number(v) <= 0;
      if (key.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
      return false;
    });
    if (expired || value === '') delete jar[name];
    else jar[name] = value;
  }
  return jar;
}

/** One real request outside the load (to prepare cookies), following no redirect. */
export async function fetchWithJar(
  url: string,
  method: string,
  jar: Jar,
): Promise<{ status: number; body: string; jar: Jar }> {
  const response = await fetch(url, {
    method,
    headers: { cookie: cookieHeader(jar) },
    redirect: 'manual',
  });
  const body = await response.text();
  return {
    status: response.status,
    body,
    jar: applySetCookie({ ...jar }, response.headers.getSetCookie()),
  };
}

/** What one measured round gave. */
export interface Round {
  /** Server CPU microseconds per request. */
  cpuUs: number;
  reqPerSec: number;
  /** Latency percentiles in milliseconds, as autocannon reports them. */
  p50: number;
  p99: number;
  requests: number;
  /** Set-Cookie bytes per request written by the server. */
  setCookieBytes: number;
  /** Responses that did not match the scenario's expectation, plus socket errors and timeouts. */
  wrong: number;
  serverErrors: number;
}

export type LoadOptions = { connections: number } & (
  | { /** Requests in the round (all connections together). */ amount: number }
  | { /** Seconds (the soak). */ duration: number }
);

/**
 * Put load on a server: `amount` requests from `connections` keep-alive connections, each looping
 * over the request sequence (its context starting again from `initialContext` each time round).
 * A fixed count rather than a fixed time: on a starved machine a round takes longer but weighs
 * the same, and the server's background work (JIT, GC) is spread over the same number of requests.
 * When `measure` is true, the server counts CPU and requests for exactly this round.
 */
export async function load(
  server: ServerProcess,
  requests: Request[],
  initialContext: Record<string, unknown>,
  options: LoadOptions & { measure: boolean },
  check: { wrong: number },
): Promise<Round> {
  if (options.measure) await server.startCounting();
  const result = await autocannon({
    url: server.url,
    connections: options.connections,
    pipelining: 1,
    // autocannon checks whether it is done on this tick (1 s by default): a round would idle up to a second.
    sampleInt: 20,
    ...('amount' in options ? { amount: options.amount } : { duration: options.duration }),
    requests,
    initialContext,
  });
  const counted = options.measure ? await server.stopCounting() : undefined;
  const n = counted?.requests ?? result.requests.total;
  return {
    cpuUs: counted === undefined ? NaN : counted.cpuUs / Math.max(1, counted.requests),
    reqPerSec:
      counted === undefined
        ? NaN
        : ((counted.requests - 1) * 1000) / Math.max(1e-3, counted.busyMs),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: n,
    setCookieBytes:
      counted === undefined ? NaN : counted.setCookieBytes / Math.max(1, counted.requests),
    wrong: check.wrong + result.errors + result.timeouts,
    serverErrors: counted?.errors ?? 0,
  };
}

/** A free loopback port (for a redis-server the bench starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Start a throw-away redis-server on a free loopback port when one is on PATH.
 *
 * @returns its URL and a stop function, or `null` (the redis variant is then skipped with a note).
 */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> } | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5000;
  while (!(await redisPing(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`bench: redis-server on port ${port} did not answer PING`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Whether a Redis server answers PING on a loopback port. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
