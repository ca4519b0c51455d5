import type { Context } from 'koa';

import type { MessageStorage, StorageHandle, StoredMessage } from '../types.js';
import { claim, type RequestState } from './claim.js';
import { scriptClient } from './client.js';
import { Exchange } from './exchange.js';
import { parseRedisOptions, type RedisStorageOptions } from './options.js';
import { roomOf } from './room.js';
import { save } from './save.js';
import { identify, mayCarryHints } from './visitor.js';

export { redisOptionsSchema, type RedisStorageOptions } from './options.js';

/*
 * The Redis storage's room, one role per file: options.ts (the options and their checks),
 * client.ts (ioredis and node-redis behind one interface), scripts.ts (the Lua scripts),
 * exchange.ts and server-clock.ts (running a script with a deadline), room.ts (key names and
 * entries), claim.ts (before the handler), save.ts (after it), and the visitor's cookies:
 * visitor.ts (who the request is), request-cookies.ts (reading and verifying them),
 * response-cookies.ts (writing them), random.ts (ids and names).
 */

const NONE: readonly StoredMessage[] = Object.freeze([]);

/**
 * `storage: redisStorage({ client })`: messages in Redis, delivered exactly once across parallel
 * requests and any number of processes (see notes in `visitor.ts` for the cookie hint).
 *
 * - Before the handler, one atomic claim (a Lua script that reads and deletes the visitor's list)
 *   runs only when a hint cookie says something may be pending: a visitor with nothing pending
 *   costs no Redis command.
 * - After the handler, one atomic script puts unread claimed messages back at the front and
 *   appends new ones at the end (skipped when there is nothing to store).
 * - Redis down or slower than `timeout`: the request goes on with no stored messages, and new
 *   messages that could not be stored are reported to `onDrop` with reason `'storage-error'`.
 *   Each script carries a deadline in the server's clock (`server-clock.ts`) and does nothing when
 *   it reaches Redis after the app stopped waiting; a claim that ran in time but whose answer came
 *   late is given back by the same request's save.
 *
 * Any ioredis client (`Redis` or `Cluster`; `maxRetriesPerRequest: 1` is a good choice) or
 * node-redis client (`createClient()` or `createCluster()`) works; an ioredis client must not
 * have a `commandTimeout` at or below `timeout`: this storage times its commands itself and
 * needs the late answer of a claim to give back what it took. Redis Cluster: docs/redis-cluster.md.
 *
 * @param options.client - an ioredis or node-redis client, standalone or cluster (required).
 * @param options.prefix - key prefix (default `'koa-messages:'`); a visitor's key is
 *   prefix + `{id}` (the braces are a cluster hash tag).
 * @param options.ttl - milliseconds a visitor's messages and cookies live after the last save
 *   (default 14 days).
 * @param options.timeout - milliseconds to wait for each Redis command (default `1000`).
 * @param options.key - `(ctx) => string | undefined`: identify visitors yourself (a user id, a
 *   session id) instead of the signed random id cookie; `undefined` means "no visitor".
 * @param options.cookie - name of the id cookie, and prefix of the hint cookies (default `'koa-messages'`).
 * @param options.hint - use hint cookies to skip Redis for visitors with nothing pending
 *   (default `true`); `false` claims on every request of a known visitor, and needs `key`.
 * @param options.newVisitorTtl - milliseconds a first-time visitor's messages live until the
 *   visitor comes back (default 1 hour).
 * @throws {TypeError} `koa-messages: …` for missing or malformed options, a client of another
 *   kind, a client whose
 *   `commandTimeout` is at or below `timeout`; on first use when cookie mode has no `app.keys`.
 * @example
 * import { Redis } from 'ioredis';
 * import { redisStorage } from 'koa-messages/redis';
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
 * app.use(messages({ storage: redisStorage({ client }) }));
 */
export function redisStorage(options: RedisStorageOptions): MessageStorage {
  const config = parseRedisOptions(options);
  const room = roomOf(config, new Exchange(scriptClient(config.client), config.timeout));

  /** One request's handle: the visitor and claims of `state`, or none until the save needs them. */
  const handleFor = (
    ctx: Context,
    state: RequestState | undefined,
    preloaded?: readonly StoredMessage[],
  ): StorageHandle => ({
    preloaded,
    // Everything pending was claimed in enter(); a request without a claim has nothing stored.
    load: () => NONE,
    save: (request) =>
      save(room, ctx, state ?? { visitor: identify(ctx, config), claims: [] }, request),
  });

  return {
    name: 'redis',
    enter(ctx) {
      // No hint cookie, nothing pending: the visitor is identified only if this request saves.
      if (config.hint && !mayCarryHints(ctx, config)) return null;
      const state: RequestState = { visitor: identify(ctx, config), claims: [] };
      if (state.visitor.claimIds.length === 0) return handleFor(ctx, state);
      return claim(room, state).then((messages) => handleFor(ctx, state, messages));
    },
    open: (ctx) => handleFor(ctx, undefined),
  };
}
