import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';

import type { Context } from 'koa';
import { z } from 'zod';

import { optionsError } from '../../errors.js';
import { MessagesError } from '../../errors.js';
import { decodeMessage, encodeMessage } from '../codec.js';
import type {
  DropReport,
  MessageStorage,
  SaveRequest,
  StorageHandle,
  StoredMessage,
} from '../types.js';

const NONE: readonly StoredMessage[] = Object.freeze([]);
import {
  isRedisClient,
  type RedisClient,
  scriptClient,
  StandaloneOnClusterError,
} from './client.js';
import { CLAIM, runScript, SAVE } from './scripts.js';
import { ServerClock } from './server-clock.js';
import { identify, mayCarryHints, newId, ResponseCookies, type Visitor } from './visitor.js';

const debug = debuglog('koa-messages');

const DAY = 86_400_000;
/** How far apart (ms) the masters' clocks of a Redis Cluster may be: see server-clock.ts. */
const CLUSTER_CLOCK_MARGIN = 25;

/** The options of `redisStorage()`. The schema is the type: `z.input` for callers. */
export const redisOptionsSchema = z.strictObject({
  client: z.custom<RedisClient>(isRedisClient, {
    message:
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
      message: 'must be a function (ctx) => string | undefined',
    })
    .optional(),
  cookie: z
    .string()
    // No dot: the hint cookies are `<cookie>.p.<token>` and the signature `<name>.sig`.
    .regex(/^[A-Za-z0-9_-]+$/, {
      message: 'must be a cookie name of letters, digits, - and _ only',
    })
    .default('koa-messages'),
  hint: z.boolean().default(true),
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
}

// The interface is the documented type; the schema must accept exactly it, key for key.
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaIsInterface: Same<RedisStorageOptions, z.input<typeof redisOptionsSchema>> = true;
void schemaIsInterface;

function parse(options: unknown): z.output<typeof redisOptionsSchema> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      'redisStorage(options) takes an options object with a `client`.',
    );
  }
  const parsed = redisOptionsSchema.safeParse(options);
  if (!parsed.success) throw optionsError('redisStorage()', parsed.error);
  return parsed.data;
}

/** A deadline `ms` from now: `giveUpAt` on the performance.now() scale, and a race against it. */
function deadline(ms: number): { giveUpAt: number; within<T>(promise: Promise<T>): Promise<T> } {
  const giveUpAt = performance.now() + ms;
  return {
    giveUpAt,
    within<T>(promise: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        // Whole milliseconds: Node keeps one timer list per distinct duration, and a fractional
        // one (999.97…) would make a list of its own for every command. Rounding up is safe: the
        // script itself refuses to run past `giveUpAt`, whatever this timer does.
        const timer = setTimeout(
          () => reject(new Error(`koa-messages: Redis did not answer within ${ms} ms`)),
          Math.max(0, Math.ceil(giveUpAt - performance.now())),
        );
        timer.unref();
        promise.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error as Error);
          },
        );
      });
    },
  };
}

/** Raw list entries to messages. Redis contents are untrusted: anything malformed is dropped. */
function decodeEntries(raw: readonly unknown[]): StoredMessage[] {
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

/** A script's answer: `done` false when it ran after its deadline and changed nothing. */
interface Reply {
  readonly done: boolean;
  readonly rest: readonly unknown[];
}

/** The claim of one visitor id: one script, on the server that holds that id's key. */
interface Claim {
  readonly id: string;
  /** `done`: it certainly ran and its result is in hand; `unknown`: it failed or timed out. */
  status: 'done' | 'unknown';
  /** A claim that timed out: what it took, if it ran before its deadline after all. */
  late?: Promise<StoredMessage[]>;
  /** `late`'s result once it is known. */
  lateResult?: StoredMessage[];
}

interface RequestState {
  readonly visitor: Visitor;
  /** One per claimed id, in `visitor.claimIds` order; empty when nothing was claimed. */
  claims: Claim[];
}

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
 *   Each script carries a deadline in the server's clock (`redis-clock.ts`) and does nothing when
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
 *   (default `true`); `false` claims on every request of a known visitor.
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
  const config = Object.freeze(parse(options));
  const { prefix, ttl, timeout } = config;
  // ioredis: `commandTimeout` of a Redis client, or of a Cluster's nodes (`redisOptions`).
  const ioOptions = (
    config.client as {
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
  const client = scriptClient(config.client);
  const clock = new ServerClock(client.cluster ? CLUSTER_CLOCK_MARGIN : 0);
  let learning: Promise<void> | undefined;
  /** A client that cannot work with this server (see StandaloneOnClusterError). */
  let unusable: Error | undefined;

  // The hash tag puts everything of one id in one cluster slot (docs/redis-cluster.md).
  const keyOf = (id: string) => `${prefix}{${id}}`;
  // The previous version's key (prefix + id), still read on a standalone server so that an
  // upgrade strands nothing. Never in a cluster (that version did not work there), never for an
  // id with braces (its old key could be another id's new one).
  const keysOf = (id: string) =>
    client.cluster || /[{}]/.test(id) ? [keyOf(id)] : [keyOf(id), prefix + id];

  /** Learn the server clock (from every master, in a cluster) on first use; shared by callers. */
  function learnClock(): Promise<void> {
    learning ??= (async () => {
      try {
        await client.times((serverMs) => clock.observe(serverMs));
        if (!clock.known) throw new Error('koa-messages: no Redis server answered TIME');
      } catch (error) {
        if (error instanceof StandaloneOnClusterError) unusable = error;
        throw error;
      }
    })().finally(() => (learning = undefined));
    return learning;
  }

  /** Run a script with a deadline in server time (learning the server's clock first if needed). */
  async function run(
    script: string,
    keys: readonly string[],
    args: readonly (string | number)[],
    giveUpAt: number,
  ): Promise<Reply> {
    if (unusable !== undefined) throw unusable;
    if (!clock.known) await learnClock();
    const reply = await runScript(client, script, keys, [clock.deadline(giveUpAt), ...args]);
    if (!Array.isArray(reply) || reply.length < 2)
      throw new Error('koa-messages: unexpected reply from the Redis script');
    clock.observe(Number(reply[1]));
    return { done: reply[0] === 1, rest: reply.slice(2) };
  }

  /** Put `kept` at the front and `added` at the end of `id`'s list; the error when it may not have. */
  async function store(
    id: string,
    kept: readonly StoredMessage[],
    added: readonly StoredMessage[],
  ): Promise<unknown> {
    const { giveUpAt, within } = deadline(timeout);
    const command = run(
      SAVE,
      [keyOf(id)],
      [ttl, kept.length, ...kept.map(encode), ...added.map(encode)],
      giveUpAt,
    );
    command.catch(() => undefined); // its outcome is read below, or no longer matters after a timeout
    try {
      const reply = await within(command);
      return reply.done
        ? undefined
        : new Error('koa-messages: Redis ran the save after its deadline and skipped it');
    } catch (error) {
      return error;
    }
  }

  /**
   * Claim one id. Each id has its own script (in a cluster its key may live on another server),
   * so exactly-once holds per id: see docs/redis-cluster.md.
   */
  async function claimOne(
    id: string,
    giveUpAt: number,
    within: <T>(p: Promise<T>) => Promise<T>,
  ): Promise<[Claim, StoredMessage[]]> {
    const command = run(CLAIM, keysOf(id), [], giveUpAt);
    try {
      const reply = await within(command);
      // Ran too late (the server clock estimate was cautious): nothing was taken.
      if (!reply.done) return [{ id, status: 'unknown', lateResult: [] }, []];
      return [{ id, status: 'done' }, decodeEntries(reply.rest)];
    } catch (error) {
      debug('claim failed, going on with no stored messages: %s', error);
      // The script ran before its deadline only if its answer is merely late: save() gives back
      // what it took.
      const claim: Claim = {
        id,
        status: 'unknown',
        late: command.then(
          (reply) => (reply.done ? decodeEntries(reply.rest) : []),
          () => [],
        ),
      };
      void claim.late!.then((taken) => (claim.lateResult = taken));
      return [claim, []];
    }
  }

  async function claim(state: RequestState): Promise<StoredMessage[]> {
    const { giveUpAt, within } = deadline(timeout);
    const results = await Promise.all(
      state.visitor.claimIds.map((id) => claimOne(id, giveUpAt, within)),
    );
    state.claims = results.map(([c]) => c);
    return results.flatMap(([, messages]) => messages);
  }

  /** One request's handle: the visitor and claims of `state`, or none until the save needs them. */
  const handleFor = (
    ctx: Context,
    state: RequestState | undefined,
    preloaded?: readonly StoredMessage[],
  ): StorageHandle => ({
    preloaded,
    // Everything pending was claimed in enter(); a request without a claim has nothing stored.
    load: () => NONE,
    save: (request) => save(ctx, state ?? { visitor: identify(ctx, config), claims: [] }, request),
  });

  async function save(
    ctx: Context,
    state: RequestState,
    { kept, added }: SaveRequest,
  ): Promise<DropReport | void> {
    const { visitor } = state;
    // A late claim whose answer is already here goes back first, in the same script.
    const { claims } = state;
    const front = claims.flatMap((c) => c.lateResult ?? []);
    const waiting = claims.filter((c) => c.late !== undefined && c.lateResult === undefined);
    const outstanding =
      waiting.length === 0
        ? undefined
        : Promise.all(waiting.map((c) => c.late!)).then((lists) => lists.flat());
    const all = [...front, ...kept, ...added];
    const unsure = claims.some((c) => c.status === 'unknown');

    // Cookies first: they must reach the browser whatever Redis does with the commands below.
    // A hint this request carried is spent only when the claim of its id certainly ran.
    const cookies = new ResponseCookies(ctx, config);
    const claimed = new Set(claims.filter((c) => c.status === 'done').map((c) => c.id));
    if (claimed.size > 0) cookies.clear(visitor.hints, claimed);
    let id = visitor.id;
    if (all.length > 0 && id === undefined) {
      if (config.key !== undefined) {
        cookies.send();
        return {
          reason: 'storage-error',
          messages: all,
          error: new Error('koa-messages: key(ctx) gave no key to store messages under'),
        };
      }
      id = newId();
    }
    if (id !== undefined) {
      if (all.length > 0 && visitor.needsIdCookie) cookies.id(id);
      if (all.length > 0 || unsure) cookies.hint(id);
    }
    cookies.send();
    if (id === undefined) return;

    const dropped: StoredMessage[] = [];
    let failure: unknown;
    if (all.length > 0) {
      failure = await store(id, [...front, ...kept], added);
      if (failure !== undefined) dropped.push(...all);
    }
    if (outstanding !== undefined) {
      // Still waiting for a claim that timed out. Redis answers one connection in order, so a
      // claim on the save's server has answered by the time the save did; one on another
      // cluster node, or one not answered yet, gets one more timeout.
      const taken = await deadline(timeout)
        .within(outstanding)
        .catch(() => undefined);
      if (taken === undefined) {
        // The one case the guarantee leaves open: the claim ran before its deadline but this
        // process has not read the answer within two timeouts (its event loop is blocked, or
        // the answer is stuck in the network). If it did take messages, they go back after the
        // response, where only a later hint cookie (the visitor's next add) leads a claim to them.
        const owner = id;
        void outstanding
          .then((late) => (late.length > 0 ? store(owner, late, []) : undefined))
          .then((error) => {
            if (error !== undefined)
              debug('lost the messages of a claim answered very late: %s', error);
          });
      } else if (taken.length > 0) {
        const error = await store(id, taken, []);
        if (error !== undefined) {
          failure ??= error;
          dropped.unshift(...taken);
        }
      }
    }
    if (dropped.length > 0) return { reason: 'storage-error', messages: dropped, error: failure };
  }

  return {
    name: 'redis',
    enter(ctx) {
      // No hint cookie, nothing pending: the visitor is identified only if this request saves.
      if (config.hint && !mayCarryHints(ctx, config)) return null;
      const state: RequestState = { visitor: identify(ctx, config), claims: [] };
      if (state.visitor.claimIds.length === 0) return handleFor(ctx, state);
      return claim(state).then((messages) => handleFor(ctx, state, messages));
    },
    open: (ctx) => handleFor(ctx, undefined),
  };
}
