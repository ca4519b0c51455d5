import type { Redis } from 'ioredis';

import type { MessagesOptions } from '../../src/index.js';
import { redisStorage } from '../../src/redis.js';
import { connectClient } from '../helpers/redis-client.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * A private redis-server for one describe block (the Redis storage tests' harness: loopback, free
 * port, no persistence), started before its tests and stopped after them.
 *
 * @returns `options()`: messages() options with a Redis storage on that server (a fresh key prefix
 *   each time, so apps never share messages).
 */
export function useRedis(): { options: () => MessagesOptions } {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  let apps = 0;
  before(async function () {
    this.timeout(300_000); // the harness may apt-get install redis-server first
    server = await startRedis();
    client = await connectClient(server.port);
  });
  after(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return {
    // A generous timeout: these tests check delivery, not Redis being slow (the Redis storage's own
    // tests do that), and a loaded CI machine must not turn a slow answer into a dropped message.
    options: () => ({
      storage: redisStorage({ client: client!, prefix: `hardening:${apps++}:`, timeout: 10_000 }),
    }),
  };
}
