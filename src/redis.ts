/**
 * koa-messages/redis: the Redis storage, in its own entry so that apps without Redis never load
 * it (nor need ioredis or its types).
 */
export { redisStorage, redisOptionsSchema, type RedisStorageOptions } from './storage/redis.js';
