import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';

import { type ScriptClient, StandaloneOnClusterError } from './client.js';
import { runScript, type Script } from './scripts.js';
import { ServerClock } from './server-clock.js';

const debug = debuglog('koa-messages');

/** How far apart (ms) the masters' clocks of a Redis Cluster may be: see server-clock.ts. */
const CLUSTER_CLOCK_MARGIN = 25;

/** A script's answer: `done` false when it first ran after its deadline and changed nothing. */
export interface Reply {
  readonly done: boolean;
  readonly rest: readonly unknown[];
}

/**
 * `promise`, or a rejection once `performance.now()` reaches `giveUpAt` (`ms` is for the message).
 * Whole milliseconds: Node keeps one timer list per distinct duration, and a fractional one
 * (999.97…) would make a list of its own for every command. Rounding up is safe: the script
 * itself refuses to run past its deadline, whatever this timer does.
 */
function within<T>(promise: Promise<T>, giveUpAt: number, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
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
        reject(error);
      },
    );
  });
}

/** No attempt has failed yet (a sentinel, so a thrown `undefined` still counts as a failure). */
const NO_ANSWER = Symbol('no answer');

/** Waits `ms` without keeping the process alive. */
const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());

/**
 * Runs the storage's scripts with a deadline each: the client's side (a timer) and the server's
 * (the script's first argument, in the server's clock, see server-clock.ts).
 */
export class Exchange {
  readonly #client: ScriptClient;
  readonly #timeout: number;
  readonly #clock: ServerClock;
  #learning: Promise<void> | undefined;
  /** A client that cannot work with this server (see StandaloneOnClusterError). */
  #unusable: Error | undefined;

  constructor(client: ScriptClient, timeout: number) {
    this.#client = client;
    this.#timeout = timeout;
    this.#clock = new ServerClock(client.cluster ? CLUSTER_CLOCK_MARGIN : 0);
  }

  /** Learn the server clock (from every master, in a cluster) on first use; shared by callers. */
  #learnClock(): Promise<void> {
    this.#learning ??= (async () => {
      try {
        await this.#client.times((serverMs) => this.#clock.observe(serverMs));
        if (!this.#clock.known) throw new Error('koa-messages: no Redis server answered TIME');
      } catch (error) {
        if (error instanceof StandaloneOnClusterError) this.#unusable = error;
        throw error;
      }
    })().finally(() => (this.#learning = undefined));
    return this.#learning;
  }

  #reply(reply: unknown): Reply {
    if (!Array.isArray(reply) || reply.length < 2)
      throw new Error('koa-messages: unexpected reply from the Redis script');
    this.#clock.observe(Number(reply[1]));
    return { done: reply[0] === 1, rest: reply.slice(2) };
  }

  /**
   * Throws what made this storage unusable, if anything. A method, not an inline test: the clock
   * check awaited in between may set it, which a narrowed inline test would not see.
   */
  #throwIfUnusable(): void {
    if (this.#unusable !== undefined) throw this.#unusable;
  }

  /**
   * Run a script that is safe to run twice (scripts.ts) and learn what it did. `args[0]` is the
   * deadline's place: it is set here (callers pass 0), so the arguments are not copied per call.
   * Within `timeout`, a rejected command (node-redis on a reset connection, ioredis once its own
   * retries are spent) is sent again under the same name; ioredis re-sends by itself. With no
   * answer by then, the same command is sent once more: it now runs after its deadline, so it
   * either answers from the first run's record or certainly did nothing, and no later copy can
   * change that.
   *
   * @throws when no answer came within two timeouts: the script may or may not have run.
   */
  async run(script: Script, keys: readonly string[], args: (string | number)[]): Promise<Reply> {
    this.#throwIfUnusable();
    const timeout = this.#timeout;
    const clock = this.#clock;
    const giveUpAt = performance.now() + timeout;
    let sent = false;
    // Made only when needed: an Error captures a stack trace when made (microseconds, in every call).
    let failure: unknown = NO_ANSWER;
    for (let attempt = 0; performance.now() < giveUpAt; attempt++) {
      try {
        if (!clock.known) await within(this.#learnClock(), giveUpAt, timeout);
        if (!sent) {
          args[0] = clock.deadline(giveUpAt);
          sent = true;
        }
        return this.#reply(
          await within(runScript(this.#client, script, keys, args), giveUpAt, timeout),
        );
      } catch (error) {
        failure = error;
        this.#throwIfUnusable();
        await pause(Math.min(10 * 2 ** attempt, giveUpAt - performance.now()));
      }
    }
    if (failure === NO_ANSWER)
      failure = new Error(`koa-messages: Redis did not answer within ${timeout} ms`);
    if (!sent) throw failure; // never sent: nothing ran
    debug('no answer from Redis within %d ms, asking again: %s', timeout, failure);
    const runAgain = runScript(this.#client, script, keys, args);
    return this.#reply(await within(runAgain, performance.now() + timeout, timeout));
  }
}
