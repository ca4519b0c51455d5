import { performance } from 'node:perf_hooks';

/**
 * What the app knows of the Redis server's clock, so that every script can carry a deadline in
 * server time and refuse to run after the app stopped waiting for it.
 *
 * Why: a command that times out is not cancelled. Redis may run it later (it was stalled, or
 * busy), after the app has answered the request with nothing claimed, and a claim that ran then
 * would take messages no response shows. With the deadline, every script either runs while its
 * request is still waiting, or does nothing.
 *
 * How: each reply carries the server's time `s` (ms). It was read before the reply reached us, so
 * `s - performance.now()` at arrival is never more than the true offset between the two clocks.
 * A deadline computed with it is therefore never later than the server's clock at the moment the
 * app gives up: a script that runs after that moment sees `now > deadline` and does nothing.
 * An offset too small only makes a script give up early (a claim then takes nothing and the
 * messages wait for the next request). The largest recent sample is kept, and replaced after 10 s
 * since the two clocks drift apart slowly. This assumes the Redis host's clock does not jump
 * backwards (NTP slews, it does not step, in normal operation).
 *
 * In a Redis Cluster each master has its own clock, and a key's master can change (failover,
 * resharding): there every 10 s period starts with a TIME to every master, and the offset is the
 * smallest of those samples over the last two periods (docs/redis-cluster.md): safe for every
 * master that answered.
 */
export class ServerClock {
  #offset: number | undefined;
  #sampledAt = -Infinity;
  /** Cluster: the smallest sample of the previous period, and of the current one. */
  #previous: number | undefined;
  readonly #cluster: boolean;

  /**
   * @param cluster - several servers, each with its own clock: the offset must be safe for the
   *   slowest of them: the smallest sample of the last two 10 s periods, each period starting
   *   with a TIME to every master (`startPeriod`).
   */
  constructor(cluster = false) {
    this.#cluster = cluster;
  }

  /** Whether a deadline can be computed now; `false` means: ask every master for its time first. */
  get known(): boolean {
    if (this.#offset === undefined) return false;
    return !this.#cluster || performance.now() - this.#sampledAt <= PERIOD;
  }

  /** Cluster: a new period begins (call, then observe a TIME from every master). */
  startPeriod(): void {
    if (!this.#cluster) return;
    this.#previous = this.#offset;
    this.#offset = undefined;
    this.#sampledAt = performance.now();
  }

  /**
   * Record the server time (ms) read from a reply that has just arrived: a script's (`sweep`
   * false) or a TIME sent to every master at the start of a period (`sweep` true). In a cluster
   * only the latter count: a script's reply does not say which master sent it.
   */
  observe(serverMs: number, sweep = false): void {
    if (!Number.isFinite(serverMs) || (this.#cluster && !sweep)) return;
    const now = performance.now();
    const sample = serverMs - now;
    if (this.#cluster) {
      if (this.#offset === undefined || sample < this.#offset) this.#offset = sample;
      return;
    }
    if (this.#offset === undefined || sample > this.#offset || now - this.#sampledAt > PERIOD) {
      this.#offset = sample;
      this.#sampledAt = now;
    }
  }

  /** The deadline, in server ms, for a command the app gives up on at local time `giveUpAt` (performance.now() scale). */
  deadline(giveUpAt: number): number {
    if (this.#offset === undefined) throw new Error('koa-messages: server clock not known yet');
    const offset =
      this.#previous === undefined ? this.#offset : Math.min(this.#offset, this.#previous);
    return Math.floor(giveUpAt + offset) - 1;
  }
}

const PERIOD = 10_000;
