import type { Context } from 'koa';
import { z } from 'zod';

import { parseOptions, type Same } from '../../config/parse.js';
import { MessagesError } from '../../errors.js';
import { isRedisClient, type RedisClient } from './client.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The options of `redisStorage()`. The schema is the type: `z.input` for callers. */
export const redisOptionsSchema = z.strictObject({
  client: z.custom<RedisClient>(isRedisClient, {
    error:
      'must be an ioredis client (new Redis(...) or new Cluster([...])) or a node-redis one (createClient() or createCluster())',
  }),
  prefix: z.string().default('koa-messages:'),
  ttl: z
    .int()
    .positive()
    .default(14 * DAY),
  timeout: z.int().positive().default(1000),
  key: z
    .custom<(ctx: Context) => string | null | undefined>((value) => typeof value === 'function', {
      error: 'must be a function (ctx) => string | undefined',
    })
    .optional(),
  cookie: z
    .string()
    // No dot: the hint cookies are `<cookie>.p.<token>` and the signature `<name>.sig`.
    .regex(/^[A-Za-z0-9_-]+$/, {
      error: 'must be a cookie name of letters, digits, - and _ only',
    })
    .default('koa-messages'),
  hint: z.boolean().default(true),
  newVisitorTtl: z.int().positive().default(HOUR),
});

/** The options of `redisStorage()`; only `client` is required. */
export interface RedisStorageOptions {
  /**
   * The Redis client: ioredis `new Redis(...)` or `new Cluster([...])`, node-redis `createClient()`
   * or `createCluster()`. An ioredis `commandTimeout` must be unset or above `timeout`.
   * @default none: required
   */
  client: RedisClient;
  /**
   * Prefix of every key; a visitor's key is prefix + `{id}` (the braces are a Cluster hash tag).
   * @default 'koa-messages:'
   */
  prefix?: string | undefined;
  /**
   * Milliseconds a visitor's messages and cookies live after the last save (a positive integer).
   * @default 1209600000 (14 days)
   */
  ttl?: number | undefined;
  /**
   * Milliseconds to wait for each Redis command (a positive integer); past it the request goes
   * on with nothing stored, and what it could not store goes to `onDrop`.
   * @default 1000
   */
  timeout?: number | undefined;
  /**
   * Identify visitors yourself (a user id, a session id) instead of the signed random id cookie;
   * `undefined`, `null` or `''` means "no visitor".
   * @default undefined (a signed id cookie, which needs `app.keys`)
   */
  key?: ((ctx: Context) => string | null | undefined) | undefined;
  /**
   * Name of the id cookie, and prefix of the hint cookies (letters, digits, `-` and `_`).
   * @default 'koa-messages'
   */
  cookie?: string | undefined;
  /**
   * Hint cookies, so that visitors with nothing pending cost no Redis command; `false` claims on
   * every request of a known visitor (clients that keep no cookies).
   * @default true
   */
  hint?: boolean | undefined;
  /**
   * Milliseconds the messages of a visitor seen for the first time live in Redis (a positive
   * integer, capped at `ttl`) until the visitor comes back: keys made by clients that never send
   * cookies back (a flood of POSTs) go soon. A later save of a returning visitor gives `ttl`.
   * @default 3600000 (1 hour)
   */
  newVisitorTtl?: number | undefined;
}

const exact: Same<z.input<typeof redisOptionsSchema>, RedisStorageOptions> = true;
void exact;

/** The options, checked: what `redisStorage()` runs on. */
export type RedisConfig = Readonly<z.output<typeof redisOptionsSchema>>;

/**
 * Check `redisStorage()`'s options into a new frozen object.
 *
 * @throws {TypeError} `koa-messages: …` naming the option that is missing or malformed.
 */
export function parseRedisOptions(options: unknown): RedisConfig {
  const config = parseOptions(redisOptionsSchema, options, 'redisStorage()');
  if (!config.hint && config.key === undefined) {
    // Without hints the only cookie is the id, and parallel first requests of a new browser each
    // make one: the browser keeps one, and what the others stored would never be claimed.
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      'redisStorage() option `hint: false` needs the `key` option (your own visitor identity): ' +
        "the id cookie alone cannot keep track of a new browser's parallel first requests.",
    );
  }
  checkCommandTimeout(config.client, config.timeout);
  return Object.freeze(config);
}

/** An ioredis client must not time out commands before the storage does. */
function checkCommandTimeout(client: RedisClient, timeout: number): void {
  // ioredis: `commandTimeout` of a Redis client, or of a Cluster's nodes (`redisOptions`).
  const ioOptions = (
    client as {
      options?: { commandTimeout?: unknown; redisOptions?: { commandTimeout?: unknown } };
    }
  ).options;
  const clientTimeout = ioOptions?.commandTimeout ?? ioOptions?.redisOptions?.commandTimeout;
  if (typeof clientTimeout === 'number' && clientTimeout > 0 && clientTimeout <= timeout) {
    // ioredis drops the answer of a command it timed out; a claim's answer carries the messages
    // it took, which then could not be given back.
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `redisStorage() option \`client\` has commandTimeout ${clientTimeout} ms; leave it unset or above ` +
        `\`timeout\` (${timeout} ms): this storage times its commands itself and needs late answers.`,
    );
  }
}
