import { randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';

import { z } from 'zod';

import { parseOptions, type Same } from '../config/parse.js';
import { decodeMessage, encodeMessage } from '../storage/codec.js';
import {
  isRedisClient,
  type RedisClient,
  type ScriptClient,
  scriptClient,
} from '../storage/redis/client.js';
import type { Script } from '../storage/redis/scripts.js';
import { runScript } from '../storage/redis/scripts.js';
import type { StoredMessage } from '../storage/types.js';
import { checkSend, checkUserId } from './check.js';
import { EMPTY_CLAIM, wakeAll } from './memory-outbox.js';
import { EmptyUsers } from './redis-empty.js';
import { CLAIM, SEND, SETTLE } from './redis-scripts.js';
import { redisWake } from './redis-watch.js';
import { shortcuts } from './shortcuts.js';
import type { Claim, Outbox, SendReport } from './types.js';

const debug = debuglog('koa-messages');

const DAY = 24 * 60 * 60 * 1000;
/** How long the records that make a retried script harmless live (a retry comes within seconds). */
const HOLD = 5 * 60 * 1000;

/** Options of {@link redisOutbox}. */
export interface RedisOutboxOptions {
  /** An ioredis `Redis` or `Cluster`, or a node-redis client or cluster, as for `redisStorage()`. */
  client: RedisClient;
  /**
   * Prefix of every key; one user's keys are prefix + `{<user id, base64url>}` + … (the braces
   * are a Cluster hash tag). No braces in it.
   * @default 'koa-messages:outbox:'
   */
  prefix?: string | undefined;
  /** The most messages pending per user; a send beyond it drops the oldest, reported in its result. @default 100 */
  maxMessages?: number | undefined;
  /**
   * Milliseconds a user's outbox lives after the last send or give-back: messages sent to a user
   * who does not come back within it are gone (a message's own `maxAge` and the app's apply too).
   * @default 14 days
   */
  ttl?: number | undefined;
  /**
   * Milliseconds a claim holds its messages for the request that took them: a claim not settled
   * by then (its process died) is returned to the user by their next claim. A request slower than
   * the lease may show a message that a later request shows again (docs/sending.md).
   * @default 60000
   */
  lease?: number | undefined;
  /**
   * Milliseconds a command may take: a request whose claim takes longer goes on without the
   * user's messages (the lease returns them later); a send that takes longer rejects (it may
   * still be stored, whole, if Redis runs it later).
   * @default 1000
   */
  timeout?: number | undefined;
  /**
   * Milliseconds this process remembers that a user has nothing pending (their last claim found
   * nothing), so that their next pages skip the claim's round trip. A send or give-back to that
   * user, from any process, ends it at once: the scripts publish it, and one subscriber
   * connection per process hears it. The time only bounds what a notice lost with a connection
   * not yet seen dead can delay. `0`: claim on every page, no subscriber connection.
   * @default 10000
   */
  rememberEmpty?: number | undefined;
}

const positive = z
  .int({ error: 'must be a positive integer' })
  .positive({ error: 'must be a positive integer' });

const redisOutboxSchema = z.strictObject({
  client: z.custom<RedisClient>(isRedisClient, {
    error: 'must be an ioredis or node-redis client or cluster',
  }),
  prefix: z
    .string()
    .regex(/^[^{}]*$/, { error: 'must be a string without braces' })
    .default('koa-messages:outbox:'),
  maxMessages: positive.default(100),
  ttl: positive.default(14 * DAY),
  lease: positive.default(60_000),
  timeout: positive.default(1000),
  rememberEmpty: z
    .int({ error: 'must be a non-negative integer' })
    .nonnegative({ error: 'must be a non-negative integer' })
    .default(10_000),
});
const exact: Same<z.input<typeof redisOutboxSchema>, RedisOutboxOptions> = true;
void exact;

/**
 * An {@link Outbox} in Redis: send from any process (a job worker, a cron script) to a user, shown
 * once by whichever request of that user claims first, across processes and devices
 * (docs/sending.md). ioredis and node-redis, a single server or a Cluster. A send wakes the live
 * endpoints of every process through Redis pub/sub (sharded on a Cluster); the subscriber
 * connection exists only while this process holds a tab (`watch`).
 *
 * @param options - {@link RedisOutboxOptions}.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for a bad option.
 * @example
 * const outbox = redisOutbox({ client: new Redis() });
 * await outbox.success(userId, 'Your report is ready.');
 */
export function redisOutbox(options: RedisOutboxOptions): Outbox {
  const { prefix, maxMessages, ttl, lease, timeout, rememberEmpty, ...checked } = parseOptions(
    redisOutboxSchema,
    options,
    'redisOutbox()',
  );
  const client = scriptClient(checked.client);

  const keyOf = (user: string) => `${prefix}{${Buffer.from(user).toString('base64url')}}`;
  const sent = `${prefix}sent`;
  const empty = rememberEmpty > 0 ? new EmptyUsers(checked.client, sent, rememberEmpty) : undefined;

  const send: Outbox['send'] = async (user, level, message, sendOptions) => {
    const id = checkUserId(user, 'outbox.send() user');
    const stored = checkSend(level, message, sendOptions, Date.now());
    if (stored === undefined) return { dropped: [] };
    const entryId = randomId();
    const entry = JSON.stringify([entryId, encodeMessage(stored)]);
    const key = keyOf(id);
    let reply: unknown;
    try {
      reply = await withTimeout(
        retried(
          client,
          SEND,
          [key, `${key}:s:${entryId}`],
          [entry, stored.key ?? '', maxMessages, ttl, HOLD, sent],
        ),
        timeout,
      );
    } finally {
      // Even a send that failed may have been stored: this process claims again.
      empty?.heard(key);
    }
    woken(id);
    return { dropped: entriesOf(reply, 0).map((e) => e.message) } satisfies SendReport;
  };

  const claim: Outbox['claim'] = async (user) => {
    const id = checkUserId(user, 'outbox.claim() user');
    const key = keyOf(id);
    if (empty?.has(key)) return EMPTY_CLAIM;
    const token = randomId();
    const record = `${key}:c:${token}`;
    const pending = empty?.begin(key);
    let reply: unknown;
    try {
      reply = await withTimeout(
        retried(client, CLAIM, [key, record, `${key}:claims`], [lease, ttl, `${key}:c:`, token]),
        timeout,
      );
    } finally {
      // Empty for good only when nothing was taken and no other claim may give anything back.
      if (pending !== undefined)
        empty!.end(pending, Array.isArray(reply) && reply.length === 2 && reply[1] === 0);
    }
    const entries = entriesOf(reply, 2);
    if (entries.length === 0) return EMPTY_CLAIM;
    const ids = new Map<StoredMessage, string>(entries.map((e) => [e.message, e.id]));
    const settle = async (mode: 'ack' | 'back', list: readonly StoredMessage[]) => {
      const named = list.map((m) => ids.get(m)).filter((v): v is string => v !== undefined);
      if (named.length === 0) return;
      // An answer that never comes leaves the record to the lease.
      try {
        await withTimeout(
          retried(
            client,
            SETTLE,
            [record, key, `${key}:claims`],
            [mode, HOLD, ttl, token, sent, ...named],
          ),
          timeout,
        );
      } finally {
        if (mode === 'back') empty?.heard(key);
      }
    };
    return Object.freeze({
      messages: Object.freeze(entries.map((e) => e.message)),
      ack: (shown: readonly StoredMessage[]) => settle('ack', shown),
      giveBack: (kept: readonly StoredMessage[]) => settle('back', kept),
    }) satisfies Claim;
  };

  // Sends from this process wake its watchers at once; redisWake() below wakes the other processes.
  const watchers = new Map<string, Set<() => void>>();
  const watch: Outbox['watch'] = (user, wake) => {
    const id = checkUserId(user, 'outbox.watch() user');
    if (typeof wake !== 'function')
      throw new TypeError('koa-messages: outbox.watch(user, wake) takes a function.');
    let set = watchers.get(id);
    if (set === undefined) watchers.set(id, (set = new Set()));
    const watcher = () => wake();
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && watchers.get(id) === set) watchers.delete(id);
    };
  };
  const woken = (id: string) => {
    const set = watchers.get(id);
    if (set !== undefined) wakeAll(set);
  };

  const outbox: Outbox = Object.freeze({ name: 'redis', send, claim, watch, ...shortcuts(send) });
  return redisWake(outbox, {
    client: checked.client,
    prefix: `${prefix}wake:`,
    // The wake-up and the "sent" notice come on different connections: the tab's claim must not
    // trust a mark the notice has not removed yet.
    heard: (user) => empty?.heard(keyOf(user)),
  });
}

const randomId = () => randomBytes(12).toString('base64url');

/**
 * Run a script, once more if the first attempt failed without a Redis error reply (a reset
 * connection: node-redis rejects where ioredis re-sends). Every script is safe to run twice.
 */
async function retried(
  client: ScriptClient,
  script: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await runScript(client, script, keys, args);
  } catch (error) {
    if (isReplyError(error)) throw error;
    debug('redisOutbox: a script failed (%s), sending it once more', String(error));
    return runScript(client, script, keys, args);
  }
}

const isReplyError = (error: unknown): boolean =>
  error instanceof Error && /^(ERR|WRONGTYPE|NOSCRIPT|MOVED|ASK|CROSSSLOT)\b/.test(error.message);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redisOutbox: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The valid entries of a script reply from index `from`; anything else is dropped (logged). */
function entriesOf(reply: unknown, from: number): { id: string; message: StoredMessage }[] {
  if (!Array.isArray(reply)) return [];
  const out: { id: string; message: StoredMessage }[] = [];
  for (let i = from; i < reply.length; i++) {
    let entry: unknown;
    try {
      entry = JSON.parse(String(reply[i]));
    } catch {
      entry = undefined;
    }
    const [id, encoded] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const message = decodeMessage(encoded);
    if (typeof id === 'string' && message !== undefined) out.push({ id, message });
    else debug('redisOutbox: dropped an entry that is not a message: %s', String(reply[i]));
  }
  return out;
}
