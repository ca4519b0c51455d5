/**
 * The measured half of docs/scaling.md: the two-process delivery workload (200 visitors × 20
 * parallel requests, test/helpers/delivery-workload.ts) against a three-master Redis Cluster
 * started here, then per request: scripts (round trips), Redis commands (scripts and the
 * commands they run), Redis CPU µs (INFO commandstats, summed over the masters) and app CPU µs
 * (both app processes). `npm run bench:redis-capacity`; needs redis-server and redis-cli
 * (installed by the test helpers when missing).
 */
import type { Redis } from 'ioredis';

import type { CookieJar } from '../helpers/cookie-jar.js';
import {
  CLIENT_KINDS,
  crowd,
  newTally,
  random,
  send,
  startApp,
  stopApp,
  visit,
} from '../helpers/delivery-workload.js';
import { connectClient } from '../helpers/redis-client.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';

interface Stats {
  scripts: number;
  commands: number;
  /** µs in scripts (their inner commands included) and TIME: the Redis CPU the storage uses. */
  scriptUsec: number;
}

/** Totals from INFO commandstats of each master (calls, and µs spent, except INFO and CONFIG). */
async function redisStats(masters: readonly Redis[]): Promise<Stats> {
  const total: Stats = { scripts: 0, commands: 0, scriptUsec: 0 };
  for (const admin of masters) {
    const text = await admin.info('commandstats');
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      if (m[1] === 'info' || m[1]!.startsWith('config') || m[1]!.startsWith('cluster')) continue;
      total.commands += Number(m[2]);
      // A script's time includes the commands it runs (which are also counted on their own).
      if (m[1] === 'evalsha' || m[1] === 'eval') {
        total.scripts += Number(m[2]);
        total.scriptUsec += Number(m[3]);
      }
      if (m[1] === 'time') total.scriptUsec += Number(m[3]);
    }
  }
  return total;
}

const appCpu = async (bases: readonly string[]) =>
  (
    await Promise.all(
      bases.map(
        async (b) =>
          ((await (await fetch(`${b}/stats`)).json()) as { cpuMicros: number }).cpuMicros,
      ),
    )
  ).reduce((a, b) => a + b, 0);

const cluster = await startRedisCluster(3, 0);
const masters = await Promise.all((await cluster.masters()).map((port) => connectClient(port)));
try {
  for (const kind of CLIENT_KINDS) {
    const ports = cluster.startup.map((n) => n.port);
    const apps = await Promise.all([
      startApp({ cluster: ports }, 5000, 'redis', kind),
      startApp({ cluster: ports }, 5000, 'redis', kind),
    ]);
    const bases = apps.map((a) => a.base);
    // Warm-up (scripts loaded, connections open, JIT), not counted.
    const warm = newTally();
    await crowd(20, 8, async (v) => void (await visit(warm, apps, `w${v}`, 20, random(1))));
    await Promise.all(masters.map((m) => m.config('RESETSTAT')));
    const cpuBefore = await appCpu(bases);
    const tally = newTally();
    const rng = random(2026);
    const jars: CookieJar[] = [];
    await crowd(200, 8, async (v) => {
      jars[v] = await visit(tally, apps, `${kind}${v}`, 20, rng);
    });
    await crowd(200, 8, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
    const cpu = (await appCpu(bases)) - cpuBefore;
    const redis = await redisStats(masters);
    const n = tally.requests;
    const delivered = tally.deliveries.flat();
    console.log(
      JSON.stringify({
        client: kind,
        requests: n,
        added: tally.added.length,
        delivered: delivered.length,
        repeated: delivered.length - new Set(delivered).size,
        scriptsPerRequest: +(redis.scripts / n).toFixed(3),
        redisCommandsPerRequest: +(redis.commands / n).toFixed(3),
        redisMicrosPerScript: +(redis.scriptUsec / Math.max(1, redis.scripts)).toFixed(2),
        redisMicrosPerRequest: +(redis.scriptUsec / n).toFixed(2),
        appCpuMicrosPerRequest: Math.round(cpu / n),
      }),
    );
    await Promise.all(apps.map(stopApp));
  }
} finally {
  for (const m of masters) m.disconnect();
  await cluster.stop();
}
