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
import {
  isRedisClient,
  type RedisClient,
  scriptClient,
  StandaloneOnClusterError,
} from './client.js';
import { CLAIM, GIVE_BACK, runScript, SAVE } from './scripts.js';
import { ServerClock } from './server-clock.js';
import {
  identify,
  mayCarryHints,
  newId,
  newToken,
  ResponseCookies,
  type Visitor,
} from './visitor.js';

const debug = debuglog('koa-messages');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far apart (ms) the masters' clocks of a Redis Cluster may be: see server-clock.ts. */
const CLUSTER_CLOCK_MARGIN = 25;
/**
 * Fresh hint cookies per visitor id between two claims of it; further saves set the marker
 * instead, so a visitor's cookies stay under 4 KB whatever the request pattern (redis-hint-proof.md).
 */
const HINTS_PER_ID = 8;

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
  if (!parsed.data.hint && parsed.data.key === undefined) {
    // Without hints the only cookie is the id, and parallel first requests of a new browser each
    // make one: the browser keeps one, and what the others stored would never be claimed.
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      'redisStorage() option `hint: false` needs the `key` option (your own visitor identity): ' +
        "the id cookie alone cannot keep track of a new browser's parallel first requests.",
    );
  }
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

/** A script's answer: `done` false when it first ran after its deadline and changed nothing. */
interface Reply {
  readonly done: boolean;
  readonly rest: readonly unknown[];
}

/** The claim of one visitor id: one script, on the server that holds that id's key. */
interface Claim {
  readonly id: string;
  /** The name of its record in Redis (see scripts.ts): a retry, or the give-back, finds it. */
  readonly token: string;
  /**
   * `done`: it ran and its result is in hand; `missed`: it certainly took nothing (it came too
   * late); `unknown`: it may have run, and `givingBack` puts back what it took, if anything.
   */
  readonly status: 'done' | 'missed' | 'unknown';
  /** For an `unknown` claim: resolves true once what it took is certainly back in the list. */
  givingBack?: Promise<boolean>;
}

/** Per request: who the visitor is and what was claimed. */
interface RequestState {
  readonly visitor: Visitor;
  /** One per claimed id, in `visitor.claimIds` order; empty when nothing was claimed. */
  claims: Claim[];
}

const NONE: readonly StoredMessage[] = Object.freeze([]);

/** Waits `ms` without keeping the process alive. */
const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());

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
  // How long Redis keeps a script's record (scripts.ts): longer than any retry, probe or
  // give-back of that script can come (2 timeouts each), with room for the clocks' offset.
  const hold = 4 * timeout + 5000;
  const newVisitorTtl = Math.min(config.newVisitorTtl, ttl);

  // The hash tag puts everything of one id in one cluster slot (docs/redis-cluster.md).
  const keyOf = (id: string) => `${prefix}{${id}}`;
  // The previous version's key (prefix + id), still read on a standalone server so that an
  // upgrade strands nothing. Never in a cluster (that version did not work there), never for an
  // id with braces (its old key could be another id's new one).
  const keysOf = (id: string) =>
    client.cluster || /[{}]/.test(id) ? [keyOf(id)] : [keyOf(id), prefix + id];
  /** Saves since the last claim of `id`: how many fresh hint cookies may be out (see save). */
  const counterOf = (id: string) => `${keyOf(id)}:n`;
  /** A script's record: `c` a claim's, `s` a save's (scripts.ts). */
  const recordOf = (id: string, kind: 'c' | 's', name: string) => `${keyOf(id)}:${kind}:${name}`;

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

  function parseReply(reply: unknown): Reply {
    if (!Array.isArray(reply) || reply.length < 2)
      throw new Error('koa-messages: unexpected reply from the Redis script');
    clock.observe(Number(reply[1]));
    return { done: reply[0] === 1, rest: reply.slice(2) };
  }

  /**
   * Run a script that is safe to run twice (scripts.ts) and learn what it did. Within `timeout`,
   * a rejected command (node-redis on a reset connection, ioredis once its own retries are spent)
   * is sent again under the same name; ioredis re-sends by itself. With no answer by then, the
   * same command is sent once more: it now runs after its deadline, so it either answers from the
   * first run's record or certainly did nothing, and no later copy can change that.
   *
   * @throws when no answer came within two timeouts: the script may or may not have run.
   */
  async function exchange(
    script: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<Reply> {
    if (unusable !== undefined) throw unusable;
    const { giveUpAt, within } = deadline(timeout);
    let serverDeadline: number | undefined;
    let failure: unknown = new Error(`koa-messages: Redis did not answer within ${timeout} ms`);
    for (let attempt = 0; performance.now() < giveUpAt; attempt++) {
      try {
        if (!clock.known) await within(learnClock());
        serverDeadline ??= clock.deadline(giveUpAt);
        return parseReply(await within(runScript(client, script, keys, [serverDeadline, ...args])));
      } catch (error) {
        failure = error;
        if (unusable !== undefined) throw unusable;
        await pause(Math.min(10 * 2 ** attempt, giveUpAt - performance.now()));
      }
    }
    if (serverDeadline === undefined) throw failure; // never sent: nothing ran
    debug('no answer from Redis within %d ms, asking again: %s', timeout, failure);
    return parseReply(
      await deadline(timeout).within(runScript(client, script, keys, [serverDeadline, ...args])),
    );
  }

  interface Saved {
    /** Certainly stored; `false`: certainly not, or unknown (then `error` says which). */
    readonly stored: boolean;
    /** Saves of this id since its last claim, this one included. */
    readonly saves: number;
    /** The oldest entries dropped to keep `maxMessages`. */
    readonly dropped: readonly StoredMessage[];
    readonly error?: unknown;
  }

  /** Put `kept` at the front and `added` at the end of `id`'s list, keeping at most `max` (0: any). */
  async function store(
    id: string,
    kept: readonly StoredMessage[],
    added: readonly StoredMessage[],
    max: number,
    life: number,
  ): Promise<Saved> {
    const keys = [recordOf(id, 's', newToken()), counterOf(id), keyOf(id)];
    try {
      const entries = [...kept, ...added].map(encode);
      const reply = await exchange(SAVE, keys, [hold, life, max, kept.length, ...entries]);
      if (!reply.done) {
        const error = new Error(
          'koa-messages: Redis ran the save after its deadline and skipped it',
        );
        return { stored: false, saves: 0, dropped: [], error };
      }
      return {
        stored: true,
        saves: Number(reply.rest[0]),
        dropped: decodeEntries(reply.rest.slice(1)),
      };
    } catch (error) {
      debug('save failed: %s', error);
      return { stored: false, saves: 0, dropped: [], error };
    }
  }

  /**
   * Put back what an unanswered claim took (from its record in Redis), so that nothing the
   * claimant never saw is lost. Resolves `true` once certainly done (or nothing was taken).
   */
  async function giveBack(id: string, token: string): Promise<boolean> {
    try {
      const reply = await exchange(GIVE_BACK, [recordOf(id, 'c', token), keyOf(id)], [hold, ttl]);
      if (!reply.done) debug('a give-back ran too late; what the claim took is lost');
      return reply.done;
    } catch (error) {
      debug('a give-back failed; what the claim took, if anything, is lost: %s', error);
      return false;
    }
  }

  /**
   * Claim one id. Each id has its own script (in a cluster its key may live on another server),
   * so exactly-once holds per id: see docs/redis-cluster.md.
   */
  async function claimOne(id: string): Promise<[Claim, StoredMessage[]]> {
    const token = newToken();
    try {
      const keys = [recordOf(id, 'c', token), counterOf(id), ...keysOf(id)];
      const reply = await exchange(CLAIM, keys, [hold]);
      // Ran too late (the server clock estimate was cautious): nothing was taken.
      if (!reply.done) return [{ id, token, status: 'missed' }, []];
      return [{ id, token, status: 'done' }, decodeEntries(reply.rest)];
    } catch (error) {
      debug('claim failed, going on with no stored messages: %s', error);
      // It may have run: its record goes back to the list before this response leaves (save).
      return [{ id, token, status: 'unknown', givingBack: giveBack(id, token) }, []];
    }
  }

  async function claim(state: RequestState): Promise<StoredMessage[]> {
    const results = await Promise.all(state.visitor.claimIds.map((id) => claimOne(id)));
    state.claims = results.map(([c]) => c);
    return results.flatMap(([, messages]) => messages);
  }

  /**
   * The save of a request whose headers are already sent (server-sent events, `ctx.respond =
   * false`): no cookie can be set or deleted, so the browser keeps every hint it sent, and any
   * of them (or the marker) makes its next request claim the visitor's own id (see `identify`).
   * What goes there is found; without such a cookie nothing would lead to it: reported.
   */
  async function saveAfterHeaders(
    state: RequestState,
    kept: readonly StoredMessage[],
    added: readonly StoredMessage[],
    max: number,
  ): Promise<DropReport | void> {
    const { visitor } = state;
    if (kept.length + added.length === 0) return;
    const led = config.hint
      ? visitor.hints.length > 0 || visitor.always !== undefined
      : visitor.id !== undefined;
    if (!led || visitor.id === undefined)
      return { reason: 'headers-sent', messages: [...kept, ...added] };
    return outcome(await store(visitor.id, kept, added, max, ttl), kept, added);
  }

  function outcome(
    saved: Saved,
    kept: readonly StoredMessage[],
    added: readonly StoredMessage[],
  ): DropReport | void {
    if (!saved.stored)
      return { reason: 'storage-error', messages: [...kept, ...added], error: saved.error };
    if (saved.dropped.length > 0) return { reason: 'max-messages', messages: saved.dropped };
  }

  /** After the handler: give back, store, and set the cookies that lead the next request. */
  async function save(
    ctx: Context,
    state: RequestState,
    { kept, added, maxMessages, headersSent }: SaveRequest,
  ): Promise<DropReport | void> {
    const { visitor, claims } = state;
    // What unanswered claims took goes back before the response leaves (the hint proof), in
    // parallel with the save: a request waits at most two timeouts for each (claim, save).
    const givingBack = Promise.all(claims.map((c) => c.givingBack));
    const max = maxMessages ?? 0;
    if (headersSent || ctx.headerSent) {
      const report = await saveAfterHeaders(state, kept, added, max);
      await givingBack;
      return report;
    }
    const cookies = new ResponseCookies(ctx, config);
    // A hint this request carried is spent only when the claim of its id certainly ran.
    const claimed = new Set(claims.filter((c) => c.status === 'done').map((c) => c.id));
    if (claimed.size > 0) cookies.clear(visitor.hints, claimed);
    // Messages an unanswered claim gave back need a fresh hint, as any save does (rule 1).
    for (const id of new Set(claims.filter((c) => c.status === 'unknown').map((c) => c.id)))
      cookies.hint(id);
    const count = kept.length + added.length;
    if (count === 0) {
      await givingBack;
      return cookies.send();
    }
    let id = visitor.id;
    const isNew = id === undefined;
    if (id === undefined) {
      if (config.key !== undefined) {
        cookies.send();
        return {
          reason: 'storage-error',
          messages: [...kept, ...added],
          error: new Error('koa-messages: key(ctx) gave no key to store messages under'),
        };
      }
      id = newId();
    }
    // A new visitor's key lives `newVisitorTtl` until it comes back (a flood without cookies).
    const [saved] = await Promise.all([
      store(id, kept, added, max, isNew ? newVisitorTtl : ttl),
      givingBack,
    ]);
    if (visitor.needsIdCookie) cookies.id(id);
    // One fresh hint per save, but no more than HINTS_PER_ID since the id's last claim: past
    // that, the marker, which is never deleted, so it needs no fresh name (docs/contributing/redis-hint-proof.md).
    if (visitor.always === id || (saved.stored && saved.saves > HINTS_PER_ID)) cookies.always(id);
    else cookies.hint(id);
    cookies.send();
    return outcome(saved, kept, added);
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
