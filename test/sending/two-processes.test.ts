import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import { Redis } from 'ioredis';

import { redisOutbox } from '../../src/redis.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { texts } from './app.js';

const CHILD = fileURLToPath(new URL('./child-app.ts', import.meta.url));
const SENDS = 60;

async function startChild(redisPort: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(CHILD, [String(redisPort)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${String(chunk).trim()}` };
}

/** A device: the cookies its login got, sent with every request, to either process. */
async function device(url: string, user: string): Promise<string> {
  const res = await fetch(`${url}/login?user=${user}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

describe('messages sent to a user, two app processes and two devices on one Redis', function () {
  this.timeout(120_000);
  let server: RedisServer;
  let children: { child: ChildProcess; url: string }[];
  let client: Redis;

  before(async function () {
    this.timeout(300_000);
    server = await startRedis();
    client = new Redis(server.port, '127.0.0.1');
    children = await Promise.all([startChild(server.port), startChild(server.port)]);
  });
  after(async () => {
    for (const { child } of children) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
    client.disconnect();
    await server.stop();
  });

  it(`${SENDS} sends while both devices load pages from both processes: 0 shown twice, 0 lost`, async () => {
    const outbox = redisOutbox({ client });
    const devices = [await device(children[0]!.url, 'ann'), await device(children[1]!.url, 'ann')];
    const shown: string[] = [];
    let sent = 0;
    const sender = (async () => {
      for (; sent < SENDS; sent++) await outbox.info('ann', `Message ${sent}.`);
    })();
    const load = async (cookie: string, first: number) => {
      for (let i = first; ; i++) {
        if (sent === SENDS && new Set(shown).size >= SENDS) return;
        const { url } = children[i % 2]!;
        const res = await fetch(`${url}/page`, { headers: { cookie } });
        expect(res.status).to.equal(200);
        shown.push(...texts(await res.text()));
      }
    };
    await Promise.all([sender, load(devices[0]!, 0), load(devices[1]!, 1)]);
    const counts = new Map<string, number>();
    for (const text of shown) counts.set(text, (counts.get(text) ?? 0) + 1);
    expect(
      [...counts.values()].filter((n) => n > 1),
      'shown twice',
    ).to.deep.equal([]);
    expect(counts.size, 'shown once each').to.equal(SENDS);
  });
});
