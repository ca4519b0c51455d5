import { once } from 'node:events';

import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';

import type { RedisStorageOptions } from '../../src/redis.js';
import type { ClientKind } from './delivery-workload.js';

/** An ioredis client with the settings the README recommends, connected and ready. */
export async function connectClient(port: number): Promise<Redis> {
  const client = new Redis(port, '127.0.0.1', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  client.on('error', () => undefined); // expected while a test kills Redis; commands still reject
  await client.connect();
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

/**
 * Commands the server has run so far (INFO commandstats): `total` counts every command except
 * INFO itself, including those a Lua script ran; `scripts` counts EVALSHA and EVAL, the round
 * trips the storage makes.
 */
export async function commandsRun(admin: Redis): Promise<{ total: number; scripts: number }> {
  const text = await admin.info('commandstats');
  let total = 0;
  let scripts = 0;
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const calls = Number(match[2]);
    if (match[1] !== 'info') total += calls;
    if (match[1] === 'evalsha' || match[1] === 'eval') scripts += calls;
  }
  return { total, scripts };
}

/**
 * A script's short-lived record (`<key>:c:<token>`, `<key>:s:<id>`) or a visitor's hint counter
 * (`<key>:n`): bookkeeping of the Redis storage, not messages (src/storage/redis/scripts.ts).
 */
export const isBookkeeping = (key: string): boolean => /:(?:[cs]:[A-Za-z0-9_-]{12}|n)$/.test(key);

/**
 * The keys that hold messages (every key but the storage's bookkeeping), sorted; the
 * bookkeeping keys must all expire (records within `hold`, counters with the list).
 */
export async function messageKeys(admin: Redis): Promise<string[]> {
  const keys = await admin.keys('*');
  for (const key of keys.filter(isBookkeeping)) {
    if ((await admin.pttl(key)) < 0) throw new Error(`${key} never expires`);
  }
  return keys.filter((key) => !isBookkeeping(key)).sort();
}

/** A Redis client of either library for the storage, and how to close it. */
export interface TestClient {
  readonly client: RedisStorageOptions['client'];
  close(): void;
}

/**
 * A client of `kind` as the docs recommend it, standalone (`port`) or cluster (`cluster`: start-up
 * ports), connected when something answers (a dead server is fine: commands then fail).
 */
export async function clientOf(
  kind: ClientKind,
  target: number | { cluster: readonly number[] },
): Promise<TestClient> {
  const host = '127.0.0.1';
  const retry = () => 100;
  if (kind === 'node-redis') {
    const client =
      typeof target === 'number'
        ? createClient({ socket: { host, port: target, reconnectStrategy: retry } })
        : createCluster({
            rootNodes: target.cluster.map((port) => ({ socket: { host, port } })),
            defaults: { socket: { reconnectStrategy: retry } },
          });
    client.on('error', () => undefined); // expected while a test stops Redis; commands still reject
    await client.connect().catch(() => undefined);
    return { client, close: () => void client.destroy() };
  }
  if (typeof target === 'number') {
    const client = new Redis(target, host, { maxRetriesPerRequest: 1, retryStrategy: retry });
    client.on('error', () => undefined);
    return { client, close: () => client.disconnect() };
  }
  const client = new Cluster(
    target.cluster.map((port) => ({ host, port })),
    { redisOptions: { maxRetriesPerRequest: 1 }, clusterRetryStrategy: retry },
  );
  client.on('error', () => undefined);
  return { client, close: () => client.disconnect() };
}
