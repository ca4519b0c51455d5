/**
 * koa-messages/redis: the Redis storage, in its own entry so that apps without Redis never load
 * it (nor need ioredis or its types).
 */
export {
  redisOptionsSchema,
  redisStorage,
  type RedisStorageOptions,
} from './storage/redis/redis-storage.js';
