import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort, rawCommand, redisServerBinary, waitForPing } from './redis-server.js';
import { ensureDebianPackage } from './system.js';

const run = promisify(execFile);

/**
 * A private Redis Cluster for the tests: `masters` masters (and `replicas` replicas each) of
 * `redis-server --cluster-enabled yes` on free loopback ports, joined by
 * `redis-cli --cluster create`, ready once every node reports `cluster_state:ok`. Persistence
 * off, node timeout 1 s (a failover takes about two seconds). Stopped after the suite.
 */
export interface RedisClusterNode {
  readonly port: number;
  readonly process: ChildProcess;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** `{ host, port }` of every node, for a cluster client's start-up list. */
  readonly startup: readonly { host: string; port: number }[];
  /** Run `redis-cli` with these arguments (e.g. `--cluster reshard`); resolves with its stdout. */
  cli(...args: string[]): Promise<string>;
  /** Current masters' ports, from CLUSTER NODES of a live node. */
  masters(): Promise<number[]>;
  /** Current masters, each with its node id and whether a live replica follows it. */
  topology(): Promise<{ port: number; id: string; replicated: boolean }[]>;
  /** Wait until every live node says `cluster_state:ok` and agrees on the slot owners. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function redisCliBinary(): Promise<string> {
  return ensureDebianPackage('/usr/bin/redis-cli', 'redis-tools');
}

/**
 * Start one cluster node on free ports. A port the kernel called free can be taken again before
 * redis-server binds it (by another process's outgoing connection, or handed out twice: the node's
 * own port and bus port), and redis-server then exits at once: that start is retried on new ports.
 */
async function startNode(binary: string, dir: string): Promise<RedisClusterNode> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNodeOnce(binary, dir);
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('exited')) throw error;
    }
  }
}

async function startNodeOnce(binary: string, dir: string): Promise<RedisClusterNode> {
  const port = await freePort();
  let bus = await freePort();
  while (bus === port) bus = await freePort();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--cluster-port',
      String(bus),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '1000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--loglevel',
      'warning',
      '--enable-debug-command',
      'local',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = once(child, 'exit');
  await waitForPing(child, port);
  return {
    port,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const alive = (node: RedisClusterNode) =>
  node.process.exitCode === null && node.process.signalCode === null;

/** Start a cluster of `masters` masters with `replicas` replicas each. */
export async function startRedisCluster(masters = 3, replicas = 0): Promise<RedisCluster> {
  const [binary, cliBinary] = [await redisServerBinary(), await redisCliBinary()];
  const dir = await mkdtemp(join(tmpdir(), 'koa-messages-cluster-'));
  const nodes: RedisClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  const cli = async (...args: string[]) =>
    (await run(cliBinary, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;

  async function nodesText(): Promise<string> {
    for (const node of nodes.filter(alive)) {
      try {
        return await cli('-h', '127.0.0.1', '-p', String(node.port), 'CLUSTER', 'NODES');
      } catch {
        // try the next one
      }
    }
    throw new Error('no cluster node answers');
  }

  const cluster: RedisCluster = {
    nodes,
    get startup() {
      return nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    },
    cli,
    async masters() {
      return (await cluster.topology()).map((m) => m.port);
    },
    async topology() {
      const lines = (await nodesText()).split('\n').filter((line) => line.trim() !== '');
      const parsed = lines.map((line) => {
        const [id, address, flags, master] = line.split(' ') as [string, string, string, string];
        return {
          id,
          port: Number(/:(\d+)@/.exec(address)![1]),
          flags: flags.split(','),
          master,
        };
      });
      const live = parsed.filter((n) => !n.flags.some((f) => f.startsWith('fail')));
      return live
        .filter((n) => n.flags.includes('master'))
        .map((m) => ({
          port: m.port,
          id: m.id,
          replicated: live.some((n) => n.flags.includes('slave') && n.master === m.id),
        }));
    },
    async ready(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          nodes
            .filter(alive)
            .map((n) =>
              cli('-h', '127.0.0.1', '-p', String(n.port), 'CLUSTER', 'INFO').catch(() => ''),
            ),
        );
        if (states.every((s) => s.includes('cluster_state:ok'))) {
          // and no live node still sends a slot to a dead master
          const livePorts = new Set(nodes.filter(alive).map((n) => n.port));
          const views = await Promise.all(
            nodes
              .filter(alive)
              .map((n) =>
                cli('-h', '127.0.0.1', '-p', String(n.port), 'CLUSTER', 'NODES').catch(() => ''),
              ),
          );
          const settled = views.every((view) =>
            view
              .split('\n')
              .filter((line) => /[ ,]master[ ,]/.test(line) && !line.includes('fail'))
              .every((line) => livePorts.has(Number(/:(\d+)@/.exec(line)?.[1]))),
          );
          if (settled) return;
        }
        if (Date.now() > until) throw new Error('the Redis cluster did not become ready');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop,
  };

  try {
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startNode(binary, dir));
    await cli(
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    );
    await cluster.ready();
    if (replicas > 0) {
      // Replicas must have their first full copy before a failover test kills a master.
      const until = Date.now() + 30_000;
      for (;;) {
        const infos = await Promise.all(
          nodes.map((n) => cli('-h', '127.0.0.1', '-p', String(n.port), 'INFO', 'replication')),
        );
        const linked = infos.filter((i) => i.includes('master_link_status:up')).length;
        if (linked === masters * replicas) break;
        if (Date.now() > until) throw new Error('the replicas did not sync');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

/**
 * Kill a master the way a crash does, once its replicas hold everything it acknowledged: writes are
 * paused on it (`CLIENT PAUSE … WRITE`; clients' commands wait, then fail with the connection) and
 * it is killed when every replica's offset has reached the master's. Redis replicates
 * asynchronously, so a master killed at a random moment may take acknowledged writes with it
 * (docs/redis-cluster.md); a failover test that does not wait for this would fail by chance.
 */
export async function killReplicated(node: RedisClusterNode): Promise<void> {
  await rawCommand(node.port, 'CLIENT', 'PAUSE', '10000', 'WRITE');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await rawCommand(node.port, 'INFO', 'replication');
    const master = /\r\nmaster_repl_offset:(\d+)/.exec(info)?.[1];
    const replicas = [...info.matchAll(/\r\nslave\d+:[^\r]*offset=(\d+)/g)].map((m) => m[1]);
    if (master !== undefined && replicas.length > 0 && replicas.every((o) => o === master)) break;
    if (Date.now() > deadline)
      throw new Error(`the replicas of port ${node.port} did not catch up`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await node.kill();
}
