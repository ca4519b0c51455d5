import { once } from 'node:events';

import { Redis } from 'ioredis';

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
