/**
 * koa-messages/redis: the Redis storage, in its own entry so that apps without Redis never load
 * it (nor need ioredis or its types).
 */
export { redisOutbox, type RedisOutboxOptions } from './sending/redis-outbox.js';
export {
  redisOptionsSchema,
  redisStorage,
  type RedisStorageOptions,
} from './storage/redis/redis-storage.js';
