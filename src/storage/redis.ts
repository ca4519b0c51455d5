import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { debuglog } from 'node:util';
import { z } from 'zod';
import { decodeMessage, encodeMessage } from './codec.js';
import { CLAIM, SAVE, runScript } from './redis-scripts.js';
import { type Visitor, addHint, clearHints, identify, newId, setIdCookie } from './redis-visitor.js';
import type { DropReport, MessageStorage, StoredMessage } from './types.js';

const debug = debuglog('koa-messages');

const DAY = 86_400_000;

const isClient = (value: unknown): value is Redis =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Redis).evalsha === 'function' &&
  typeof (value as Redis).eval === 'function';

/** The options of `redisStorage()`. The schema is the type: `z.input` for callers. */
export const redisOptionsSchema = z.strictObject({
  client: z.custom<Redis>(isClient, { message: 'must be an ioredis client (new Redis(...))' }),
  prefix: z.string().default('koa-messages:'),
  ttl: z.int().positive().default(14 * DAY),
  timeout: z.int().positive().default(1000),
  key: z
    .custom<(ctx: Context) => string | null | undefined>((value) => typeof value === 'function', {
      message: 'must be a function (ctx) => string | undefined',
    })
    .optional(),
  cookie: z
    .string()
    .regex(/^[!#$%&'*+\-^_`|~0-9A-Za-z]+$/, { message: 'must be a cookie name (letters, digits, - and _; no dot)' })
    .default('koa-messages'),
  hint: z.boolean().default(true),
});

/** Options of `redisStorage()`; only `client` is required. */
export type RedisStorageOptions = z.input<typeof redisOptionsSchema>;

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map((key) => `\`${key}\``).join(', ')}`;
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `option \`${path}\` ${issue.message.replace(/^Invalid input: /, '')}`;
}

function parse(options: unknown): z.output<typeof redisOptionsSchema> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('koa-messages: redisStorage(options) takes an options object with a `client`.');
  }
  const parsed = redisOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`koa-messages: invalid redisStorage() options: ${parsed.error.issues.map(formatIssue).join('; ')}.`);
  }
  return parsed.data;
}

/** Resolve or reject within `ms`; the command itself goes on, and its late outcome is the caller's. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`koa-messages: Redis did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Raw list entries to messages. Redis contents are untrusted: anything malformed is dropped. */
function decodeEntries(raw: unknown): StoredMessage[] {
  if (!Array.isArray(raw)) return [];
  const messages: StoredMessage[] = [];
  for (const entry of raw) {
    let message: StoredMessage | undefined;
    try {
      message = typeof entry === 'string' ? decodeMessage(JSON.parse(entry)) : undefined;
    } catch {
      message = undefined;
    }
    if (message !== undefined) messages.push(message);
    else debug('dropped a malformed entry from Redis');
  }
  return messages;
}

const encode = (m: StoredMessage): string => JSON.stringify(encodeMessage(m));

interface RequestState {
  readonly visitor: Visitor;
  /** `done`: the claim certainly ran and its result is in hand; `unknown`: it failed or timed out. */
  claim: 'none' | 'done' | 'unknown';
}

/**
 * `storage: redisStorage({ client })`: messages in Redis, delivered exactly once across parallel
 * requests and any number of processes (see notes in `redis-visitor.ts` for the cookie hint).
 *
 * - Before the handler, one atomic claim (a Lua script that reads and deletes the visitor's list)
 *   runs only when a hint cookie says something may be pending: a visitor with nothing pending
 *   costs no Redis command.
 * - After the handler, one atomic script puts unread claimed messages back at the front and
 *   appends new ones at the end (skipped when there is nothing to store).
 * - Redis down or slower than `timeout`: the request goes on with no stored messages, and new
 *   messages that could not be stored are reported to `onDrop` with reason `'storage-error'`.
 *   A claim that answers after its timeout gives its messages back as soon as the answer arrives.
 *
 * Pass a dedicated ioredis client made with `enableOfflineQueue: false` and no `commandTimeout`
 * (this storage times commands itself and needs late answers to give late claims back).
 *
 * @param options.client - an ioredis client (required).
 * @param options.prefix - key prefix (default `'koa-messages:'`); the key is prefix + visitor id.
 * @param options.ttl - milliseconds a visitor's messages and cookies live after the last save
 *   (default 14 days).
 * @param options.timeout - milliseconds to wait for each Redis command (default `1000`).
 * @param options.key - `(ctx) => string | undefined`: identify visitors yourself (a user id, a
 *   session id) instead of the signed random id cookie; `undefined` means "no visitor".
 * @param options.cookie - name of the id cookie, and prefix of the hint cookies (default `'koa-messages'`).
 * @param options.hint - use hint cookies to skip Redis for visitors with nothing pending
 *   (default `true`); `false` claims on every request of a known visitor.
 * @throws {TypeError} `koa-messages: …` for missing or malformed options; on first use when
 *   cookie mode has no `app.keys`.
 * @example
 * import { Redis } from 'ioredis';
 * import { redisStorage } from 'koa-messages/redis';
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * app.use(messages({ storage: redisStorage({ client }) }));
 */
export function redisStorage(options: RedisStorageOptions): MessageStorage {
  const config = Object.freeze(parse(options));
  const { client, prefix, ttl, timeout } = config;
  const states = new WeakMap<Context, RequestState>();

  const store = (id: string, kept: readonly StoredMessage[], added: readonly StoredMessage[]) =>
    runScript(client, SAVE, [prefix + id], [ttl, kept.length, ...kept.map(encode), ...added.map(encode)]);

  async function claim(state: RequestState): Promise<StoredMessage[]> {
    const command = runScript(client, CLAIM, state.visitor.claimIds.map((id) => prefix + id), []);
    try {
      const raw = await within(command, timeout);
      state.claim = 'done';
      return decodeEntries(raw);
    } catch (error) {
      state.claim = 'unknown';
      debug('claim failed, going on with no stored messages: %s', error);
      // If the claim still runs, its messages were taken from Redis but never shown: put them back.
      command.then(
        (late) => {
          const messages = decodeEntries(late);
          if (messages.length === 0) return;
          store(state.visitor.id!, messages, []).then(
            () => debug('gave back %d message(s) from a late claim', messages.length),
            (giveBackError: unknown) => debug('lost %d message(s) of a late claim: %s', messages.length, giveBackError),
          );
        },
        () => undefined,
      );
      return [];
    }
  }

  return {
    preload(ctx) {
      const state: RequestState = { visitor: identify(ctx, config), claim: 'none' };
      states.set(ctx, state);
      return state.visitor.claimIds.length === 0 ? null : claim(state);
    },

    // Everything pending was claimed in preload(); a request without a claim has nothing stored.
    load: () => [],

    async save(ctx, { kept, added }): Promise<DropReport | void> {
      let state = states.get(ctx);
      if (state === undefined) {
        state = { visitor: identify(ctx, config), claim: 'none' };
        states.set(ctx, state);
      }
      const { visitor } = state;
      // Hints this request carried are spent only when its claim certainly took their messages.
      if (state.claim === 'done') clearHints(ctx, config, visitor.hints);
      if (kept.length === 0 && added.length === 0) {
        // A late claim may still give messages back under this id: keep a hint for them.
        if (state.claim === 'unknown') addHint(ctx, config, visitor.id!);
        return;
      }
      let id = visitor.id;
      if (id === undefined) {
        if (config.key !== undefined) {
          return { reason: 'storage-error', messages: [...kept, ...added], error: new Error('koa-messages: key(ctx) gave no key to store messages under') };
        }
        id = newId();
      }
      if (!visitor.settled) setIdCookie(ctx, config, id);
      // Before the command: if it times out it may still run, so the hint must be there either way.
      addHint(ctx, config, id);
      const command = store(id, kept, added);
      try {
        await within(command, timeout);
      } catch (error) {
        command.catch(() => undefined);
        debug('save failed: %s', error);
        return { reason: 'storage-error', messages: [...kept, ...added], error };
      }
    },
  };
}
