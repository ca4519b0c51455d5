/**
 * The Redis clients the storage accepts, and one small interface over them. The shapes are
 * structural (only what the storage calls), so neither ioredis's nor node-redis's types are
 * needed to compile against this package, and either client works without the other installed.
 */

import { MessagesError } from '../../errors.js';

type Arg = string | number;

/** An ioredis client: `new Redis(...)` or `new Cluster([...])` (ioredis ≥ 5). */
export interface IoRedisClient {
  readonly isCluster: boolean;
  evalsha(sha: string, numkeys: number, ...args: Arg[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: Arg[]): Promise<unknown>;
  time(): Promise<unknown>;
  info(section: string): Promise<unknown>;
}

/** An ioredis `Cluster`: its master nodes are ioredis clients too. */
interface IoRedisCluster extends IoRedisClient {
  nodes(role: 'master'): IoRedisClient[];
}

/** A node-redis (`redis` ≥ 5) client from `createClient()`. */
export interface NodeRedisClient {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  evalSha: unknown;
}

/** A node-redis (`redis` ≥ 5) cluster from `createCluster()`. */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>;
  readonly masters: readonly unknown[];
  nodeClient(node: never): Promise<NodeRedisClient> | NodeRedisClient;
}

/** Any client `redisStorage({ client })` takes. */
export type RedisClient = IoRedisClient | NodeRedisClient | NodeRedisCluster;

/** What the storage needs from a client, whichever library it comes from. */
export interface ScriptClient {
  /** A Redis Cluster: keys live on several servers, each with its own clock. */
  readonly cluster: boolean;
  evalsha(sha: string, keys: readonly string[], args: readonly Arg[]): Promise<unknown>;
  eval(script: string, keys: readonly string[], args: readonly Arg[]): Promise<unknown>;
  /**
   * Ask every master for its time (ms); `observe` is called as each answer arrives. Resolves once
   * all have answered or failed; rejects when none answered.
   */
  times(observe: (serverMs: number) => void): Promise<void>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const fn = (value: Record<string, unknown>, name: string) => typeof value[name] === 'function';

function isIoRedis(value: unknown): value is IoRedisClient {
  return (
    isObject(value) &&
    typeof value['isCluster'] === 'boolean' &&
    fn(value, 'evalsha') &&
    fn(value, 'eval') &&
    fn(value, 'time')
  );
}
const isNodeRedisCluster = (value: unknown): value is NodeRedisCluster =>
  isObject(value) && fn(value, 'sendCommand') && fn(value, 'nodeClient') && 'masters' in value;
const isNodeRedisClient = (value: unknown): value is NodeRedisClient =>
  isObject(value) && fn(value, 'sendCommand') && fn(value, 'evalSha') && !('masters' in value);

/** Whether `value` is a client of a kind the storage supports (for the options schema). */
export const isRedisClient = (value: unknown): value is RedisClient =>
  isIoRedis(value) || isNodeRedisCluster(value) || isNodeRedisClient(value);

/**
 * A standalone client connected to a Redis Cluster node: most keys would answer MOVED, and
 * nothing can make that work, so the storage keeps failing with this error (reported to
 * `onDrop` with each message it cannot store) instead of storing the few keys that node owns.
 * Known only once connected, so not thrown by `redisStorage()`; its code says it is the option.
 */
export class StandaloneOnClusterError extends MessagesError {
  constructor() {
    super(
      'ERR_KOA_MESSAGES_OPTION',
      'redisStorage() option `client` is a standalone client connected to a Redis Cluster node; ' +
        'pass a cluster client: new Cluster([...]) (ioredis) or createCluster() (node-redis).',
    );
  }
}

/**
 * TIME on a standalone server, with INFO cluster beside it (same round trip) to catch a
 * standalone client pointed at a cluster node. A server that refuses INFO is taken as standalone.
 */
async function standaloneTime(
  time: () => Promise<unknown>,
  info: () => Promise<unknown>,
  observe: (serverMs: number) => void,
): Promise<void> {
  const [, text] = await Promise.all([timeAll([time], observe), info().catch(() => '')]);
  if (/^cluster_enabled:1\b/m.test(String(text))) throw new StandaloneOnClusterError();
}

/** Server time in ms from a TIME reply (`[seconds, microseconds]`, as strings or numbers). */
function timeMs(reply: unknown): number {
  if (!Array.isArray(reply) || reply.length < 2) return Number.NaN;
  return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
}

/** Run one TIME per server, reporting each as it arrives; fail only when none answered. */
async function timeAll(
  servers: readonly (() => Promise<unknown>)[],
  observe: (serverMs: number) => void,
): Promise<void> {
  const results = await Promise.allSettled(
    servers.map((time) => time().then((reply) => observe(timeMs(reply)))),
  );
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined && results.every((r) => r.status === 'rejected')) throw failure.reason;
}

function fromIoRedis(client: IoRedisClient): ScriptClient {
  const cluster = client.isCluster;
  return {
    cluster,
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    async times(observe) {
      if (!cluster)
        return standaloneTime(
          () => client.time(),
          () => client.info('cluster'),
          observe,
        );
      // Before the cluster is ready it knows no nodes; TIME through the cluster waits for that.
      let masters = (client as IoRedisCluster).nodes('master');
      if (masters.length === 0) {
        await timeAll([() => client.time()], observe);
        masters = (client as IoRedisCluster).nodes('master');
      }
      await timeAll(
        masters.map((node) => () => node.time()),
        observe,
      );
    },
  };
}

const scriptArgs = (head: string, keys: readonly string[], args: readonly Arg[]) => [
  head,
  String(keys.length),
  ...keys,
  ...args.map(String),
];

/**
 * The storage times its commands itself and needs the late answer of a claim (it carries what
 * the claim took), so its commands opt out of node-redis's own `commandOptions.timeout` (5 s by
 * default in v6). node-redis 6.3 does not reject a command already written at that timeout
 * anyway (tested); this keeps it so if a later version does.
 */
const NO_TIMEOUT = { timeout: 0 } as const;

function fromNodeRedis(client: NodeRedisClient): ScriptClient {
  const send = (args: string[]) => client.sendCommand(args, NO_TIMEOUT);
  return {
    cluster: false,
    evalsha: (sha, keys, args) => send(['EVALSHA', ...scriptArgs(sha, keys, args)]),
    eval: (script, keys, args) => send(['EVAL', ...scriptArgs(script, keys, args)]),
    times: (observe) =>
      standaloneTime(
        () => client.sendCommand(['TIME']),
        () => client.sendCommand(['INFO', 'cluster']),
        observe,
      ),
  };
}

function fromNodeRedisCluster(cluster: NodeRedisCluster): ScriptClient {
  // node-redis routes a command by the key given apart from the arguments: the first key.
  const send = (keys: readonly string[], args: string[]) =>
    cluster.sendCommand(keys[0], false, args, NO_TIMEOUT);
  return {
    cluster: true,
    evalsha: (sha, keys, args) => send(keys, ['EVALSHA', ...scriptArgs(sha, keys, args)]),
    eval: (script, keys, args) => send(keys, ['EVAL', ...scriptArgs(script, keys, args)]),
    times: (observe) =>
      timeAll(
        // While it rediscovers the slots (start-up, after MOVED) node-redis may list no master:
        // TIME through the cluster then goes to whichever node it reaches.
        cluster.masters.length === 0
          ? [() => cluster.sendCommand(undefined, false, ['TIME'], NO_TIMEOUT)]
          : cluster.masters.map((master) => async () => {
              const node = await cluster.nodeClient(master as never);
              return node.sendCommand(['TIME'], NO_TIMEOUT);
            }),
        observe,
      ),
  };
}

/** The storage's view of `client` (one of the kinds `isRedisClient` accepts). */
export function scriptClient(client: RedisClient): ScriptClient {
  if (isIoRedis(client)) return fromIoRedis(client);
  if (isNodeRedisCluster(client)) return fromNodeRedisCluster(client);
  return fromNodeRedis(client);
}
