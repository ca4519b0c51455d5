import { debuglog } from 'node:util';

import type { RedisClient } from '../storage/redis/client.js';

const debug = debuglog('koa-messages');

/** The most users remembered per outbox (about 100 bytes each); the oldest go first. */
const MOST = 10_000;
/**
 * After the subscriber connection failed, the next attempt waits this long, doubled after each
 * attempt that failed too (a server that refuses SUBSCRIBE to this ACL user), up to a minute.
 */
const RETRY = 1000;
const MOST_RETRY = 60_000;

/** A claim in flight: what it finds counts only if nothing was heard for its user meanwhile. */
export interface Pending {
  readonly key: string;
  spoiled: boolean;
}

/**
 * Users of a Redis outbox this process knows have nothing pending, so that their pages skip the
 * claim's round trip (docs/sending.md, "Users with nothing pending cost no round trip").
 *
 * A claim that found nothing, with no other claim of the user open, marks the user for `ttl` ms.
 * Every send and every give-back that returns messages PUBLISHes the user's key on `channel`
 * inside its script, and one subscriber connection per outbox hears it and forgets the user. The
 * mark is trusted only while that subscription is known to be live:
 * - a claim that was in flight when its user was heard, or when the subscription was not live,
 *   marks nothing (the send may have run after the claim read the list);
 * - a dropped subscriber connection forgets every user, and a new connection is made at a later
 *   claim (at most one attempt a second, backing off to one a minute while attempts fail);
 * - `ttl` bounds what a notice lost without the connection dropping (a dead peer not yet noticed)
 *   can delay.
 * The connection is unref'd: it never keeps the process alive after the app closes its client.
 */
export class EmptyUsers {
  readonly #marks = new Map<string, number>();
  readonly #inFlight = new Map<string, Set<Pending>>();
  #live = false;
  /** The current subscriber connection's token, while there is one. */
  #subscriber: object | undefined;
  #nextTry = -Infinity;
  #failures = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly ttl: number,
  ) {}

  /** Whether `key` is known to have nothing pending. */
  has(key: string): boolean {
    const until = this.#marks.get(key);
    if (until === undefined) return false;
    if (until > Date.now() && this.#live) return true;
    this.#marks.delete(key);
    return false;
  }

  /** A claim of `key` starts; end it with {@link end}, whatever happens. */
  begin(key: string): Pending {
    if (this.#subscriber === undefined) this.#subscribe();
    const pending: Pending = { key, spoiled: !this.#live };
    let set = this.#inFlight.get(key);
    if (set === undefined) this.#inFlight.set(key, (set = new Set()));
    set.add(pending);
    return pending;
  }

  /** The claim ended; `empty`: it found nothing and no claim of the user is open. */
  end(pending: Pending, empty: boolean): void {
    const set = this.#inFlight.get(pending.key);
    set?.delete(pending);
    if (set?.size === 0) this.#inFlight.delete(pending.key);
    if (!empty || pending.spoiled || !this.#live) return;
    this.#marks.delete(pending.key);
    if (this.#marks.size >= MOST) this.#marks.delete(this.#marks.keys().next().value!);
    this.#marks.set(pending.key, Date.now() + this.ttl);
  }

  /** Something was sent or given back to `key` (by this process, or heard from Redis). */
  heard = (key: string): void => {
    this.#marks.delete(key);
    for (const pending of this.#inFlight.get(key) ?? []) pending.spoiled = true;
  };

  /** The subscription is not live (any more): nothing known can be trusted. */
  #forget(): void {
    this.#live = false;
    this.#marks.clear();
    for (const set of this.#inFlight.values()) for (const pending of set) pending.spoiled = true;
  }

  #subscribe(): void {
    const now = Date.now();
    if (now < this.#nextTry) return;
    this.#nextTry = now + Math.min(RETRY * 2 ** this.#failures, MOST_RETRY);
    const subscriber = {};
    this.#subscriber = subscriber;
    subscribe(this.client, this.channel, {
      message: this.heard,
      up: () => {
        if (this.#subscriber !== subscriber) return;
        this.#live = true;
        this.#failures = 0;
      },
      down: () => {
        if (this.#subscriber !== subscriber) return;
        if (!this.#live) this.#failures++;
        this.#subscriber = undefined;
        this.#forget();
      },
    });
  }
}

interface Events {
  /** A message on the channel: a user's key. */
  message(key: string): void;
  /** Subscribed: from now on every publish reaches `message`. */
  up(): void;
  /** The connection failed or closed: publishes may have been missed; it will not come back. */
  down(): void;
}

type Loose = Record<string, (...args: never[]) => unknown> & { isCluster?: boolean };
type Emitter = Loose & {
  on(event: string, listener: (...args: never[]) => void): void;
  off(event: string, listener: (...args: never[]) => void): void;
};

/**
 * Dedicated connections subscribed (plain SUBSCRIBE) to `channel`: one to the server, or one to
 * each master of a Cluster. They never reconnect: any failure of any of them is `down()`, and the
 * owner makes new ones later, so "live" always means "no publish was missed". A master added
 * later is not listened to: its sends are still heard, over the cluster bus, a moment later.
 */
function subscribe(client: RedisClient, channel: string, on: Events): void {
  let closed = false;
  const closers: (() => void)[] = [];
  const close = () => {
    for (const f of closers.splice(0)) f();
  };
  /** The app's client closed: so does this connection (it would outlive it, unref'd). */
  const follow = (app: Emitter) => {
    const ended = () => down('the client was closed');
    app.on('end', ended);
    closers.push(() => app.off('end', ended));
  };
  const down = (why: unknown) => {
    if (closed) return;
    debug(
      'the "sent" subscriber is down (%s): users are claimed for on every page until it is back',
      String(why),
    );
    closed = true;
    close();
    on.down();
  };
  const ioredis = async (base: Emitter) => {
    const s = base['duplicate']!() as Emitter & { status: string; stream?: { unref(): void } };
    closers.push(() => void s['disconnect']!());
    if (closed) return close();
    s.on('message', (ch: string, key: string) => {
      if (ch === channel && !closed) on.message(key);
    });
    s.on('connect', () => s.stream?.unref());
    s.on('error', (error: unknown) => debug('the "sent" subscriber: %O', error));
    s.on('close', () => down('connection closed'));
    if (s.status === 'wait') await (s['connect']!() as Promise<unknown>);
    await (s['subscribe']!(channel as never) as Promise<unknown>);
  };
  const nodeRedis = async (base: Emitter) => {
    const s = base['duplicate']!() as Emitter;
    closers.push(() => void s['destroy']!());
    if (closed) return close();
    s.on('error', (error: unknown) => down(error));
    s.on('end', () => down('connection ended'));
    s.on('reconnecting', () => down('connection lost'));
    await (s['connect']!() as Promise<unknown>);
    s['unref']!();
    const heard = (key: string) => {
      if (!closed) on.message(key);
    };
    await (s['subscribe']!(channel as never, heard as never) as Promise<unknown>);
  };
  // On a Cluster, one connection per master: a script's PUBLISH leaves its own node in the same
  // pass as the script's reply; other nodes hear it later, relayed over the cluster bus.
  const start = async () => {
    const c = client as unknown as Emitter & { status?: string; isOpen?: boolean };
    if (typeof c.isCluster === 'boolean') {
      if (c.status === 'end') throw new Error('the client was closed');
      // A Cluster's master nodes are ioredis clients with the cluster's options.
      const bases = c.isCluster ? (c['nodes']!('master' as never) as Emitter[]) : [c];
      if (bases.length === 0) throw new Error('the cluster has no master yet');
      follow(c);
      await Promise.all(bases.map(ioredis));
    } else {
      if (c.isOpen === false) throw new Error('the client was closed');
      const masters = (c as { masters?: unknown }).masters;
      const bases = Array.isArray(masters)
        ? await Promise.all(masters.map((m) => c['nodeClient']!(m as never) as Promise<Emitter>))
        : [c];
      if (bases.length === 0) throw new Error('the cluster has no master yet');
      for (const base of bases) follow(base);
      await Promise.all(bases.map(nodeRedis));
    }
    if (!closed) on.up();
  };
  start().catch(down);
}
