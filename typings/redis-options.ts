// `redisStorage()` options (koa-messages/redis): a documented interface, as exact as the schema.
// Checked by `npm run check` (typings/tsconfig.json).
import { Redis } from 'ioredis';
import { redisStorage, type RedisStorageOptions } from 'koa-messages/redis';

import { assertType, type Equal } from './equal.js';

const client = new Redis({ lazyConnect: true });
redisStorage({ client });
redisStorage({ client, prefix: 'app:', ttl: 60_000, timeout: 500, cookie: 'flash', hint: false });
redisStorage({ client, key: (ctx) => ctx.get('x-user') || undefined });

// @ts-expect-error -- client is required
redisStorage({ prefix: 'app:' });
// @ts-expect-error -- ttl is a number of milliseconds
redisStorage({ client, ttl: '14d' });
// @ts-expect-error -- key returns a string, null or undefined
redisStorage({ client, key: () => 42 });
// @ts-expect-error -- unknown option
redisStorage({ client, prefx: 'app:' });
// @ts-expect-error -- not a client
redisStorage({ client: {} });

assertType<Equal<RedisStorageOptions['hint'], boolean | undefined>>();
assertType<Equal<RedisStorageOptions['timeout'], number | undefined>>();
