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
 * In a Redis Cluster each master has its own clock and the samples come from any of them: the
 * deadline is then taken `margin` ms earlier, safe while the masters' clocks agree within that
 * (docs/redis-cluster.md). A smallest-sample rule would need no such assumption, but one reply
 * read late by a busy event loop would then make every script give up early for a while.
 */
export class ServerClock {
  #offset: number | undefined;
  #sampledAt = -Infinity;
  readonly #margin: number;

  /**
   * @param margin - ms taken off every deadline: in a cluster, how far apart the masters'
   *   clocks may be (the samples come from any of them).
   */
  constructor(margin = 0) {
    this.#margin = margin;
  }

  get known(): boolean {
    return this.#offset !== undefined;
  }

  /** Record the server time (ms) read from a reply that has just arrived. */
  observe(serverMs: number): void {
    if (!Number.isFinite(serverMs)) return;
    const now = performance.now();
    const sample = serverMs - now;
    if (this.#offset === undefined || sample > this.#offset || now - this.#sampledAt > 10_000) {
      this.#offset = sample;
      this.#sampledAt = now;
    }
  }

  /** The deadline, in server ms, for a command the app gives up on at local time `giveUpAt` (performance.now() scale). */
  deadline(giveUpAt: number): number {
    if (this.#offset === undefined) throw new Error('koa-messages: server clock not known yet');
    return Math.floor(giveUpAt + this.#offset) - 1 - this.#margin;
  }
}
