/**
 * Lost and repeated messages per storage under parallel traffic: the workload of the Redis
 * concurrency test (two app processes, visitors each firing parallel mixed add/read requests with
 * one cookie jar), run against the `session`, `cookie`, `fallback` and Redis storages. Prints a Markdown table.
 *
 * Usage: npx tsx test/measure/delivery.ts [visitors=200] [parallel=20]
 * Needs redis-server (installed by the test harness if missing).
 */
import { CookieJar } from '../helpers/cookie-jar.js';
import {
  type AppProcess,
  crowd,
  type FixtureStorage,
  newTally,
  random,
  send,
  startApp,
  stats,
  stopApp,
  visit,
} from '../helpers/delivery-workload.js';
import { startRedis } from '../helpers/redis-server.js';

const visitors = Number(process.argv[2] ?? 200);
const parallel = Number(process.argv[3] ?? 20);

/**
 * @param warm - each visitor first adds two messages on its own (so it has a session or cookie, and
 *   something pending) before its parallel burst: a returning visitor. Otherwise a new one.
 */
async function measure(redisPort: number, storage: FixtureStorage, warm: boolean) {
  const apps: AppProcess[] = await Promise.all([
    startApp(redisPort, 5000, storage),
    startApp(redisPort, 5000, storage),
  ]);
  try {
    const tally = newTally();
    const rng = random(2026);
    const jars: CookieJar[] = [];
    const started = performance.now();
    await crowd(visitors, 8, async (v) => {
      const jar = new CookieJar();
      if (warm) await send(tally, jar, apps[0]!.base, 'add', [`v${v}.w.a`, `v${v}.w.b`]);
      jars[v] = await visit(tally, apps, `v${v}`, parallel, rng, jar);
    });
    await crowd(visitors, 8, (v) => send(tally, jars[v]!, apps[v % 2]!.base, 'read', []));
    const seconds = (performance.now() - started) / 1000;
    const delivered = tally.deliveries.flat();
    const distinct = new Set(delivered);
    const lost = tally.added.filter((id) => !distinct.has(id)).length;
    const { errors, dropped } = await stats(apps);
    return {
      storage,
      visitor: warm ? 'returning' : 'new',
      added: tally.added.length,
      once: distinct.size,
      repeated: delivered.length - distinct.size,
      lost,
      dropped: dropped.length,
      errors: errors.length + tally.problems.length,
      seconds,
    };
  } finally {
    await Promise.all(apps.map(stopApp));
  }
}

const redis = await startRedis();
try {
  const rows = [];
  for (const warm of [false, true]) {
    for (const storage of ['session', 'cookie', 'fallback', 'redis'] as const)
      rows.push(await measure(redis.port, storage, warm));
  }
  console.log(`${visitors} visitors x ${parallel} parallel requests, two app processes\n`);
  console.log(
    '| storage | visitor | added | delivered | repeated | lost | lost % | onDrop | errors | seconds |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const pct = ((100 * r.lost) / r.added).toFixed(1);
    console.log(
      `| ${r.storage} | ${r.visitor} | ${r.added} | ${r.once} | ${r.repeated} | ${r.lost} | ${pct} | ${r.dropped} | ${r.errors} | ${r.seconds.toFixed(1)} |`,
    );
  }
} finally {
  await redis.stop();
}
