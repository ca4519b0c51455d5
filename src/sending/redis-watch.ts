import { debuglog } from 'node:util';

import { MessagesError } from '../errors.js';
import type { RedisClient } from '../storage/redis/client.js';
import type { StoredMessage } from '../storage/types.js';
import { checkUserId } from './check.js';
import { shortcuts } from './shortcuts.js';
import type { Claim, Outbox, UserId } from './types.js';

const debug = debuglog('koa-messages');

/** Options of {@link redisWake}. */
export interface RedisWakeOptions {
  /** The outbox's client (ioredis `Redis`/`Cluster`, node-redis client/cluster); duplicated to subscribe. */
  client: RedisClient;
  /** Channel prefix; a user's channel is prefix + `{<user id, base64url>}` (a Cluster hash tag). @default 'koa-messages:wake:' */
  prefix?: string;
  /** Called with the user when a wake-up is heard from Redis, before the watchers are woken. */
  heard?: (user: UserId) => void;
}

/** The subscriber connection, whichever library: one per outbox, shared by all its watchers. */
interface Subscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  close(): void;
}

/** PUBLISH on a single server, SPUBLISH (sharded) on a Cluster. */
function publisherOf(client: RedisClient): (channel: string) => Promise<unknown> {
  const c = client as unknown as Any;
  if (typeof c.isCluster === 'boolean')
    return (channel) => c[c.isCluster ? 'spublish' : 'publish']!(channel, '1') as Promise<unknown>;
  if (Array.isArray((c as unknown as { masters?: unknown }).masters))
    return (channel) => c['sPublish']!(channel, '1') as Promise<unknown>;
  return (channel) => c['publish']!(channel, '1') as Promise<unknown>;
}

type Any = Record<string, (...args: unknown[]) => unknown> & { isCluster?: boolean };

/**
 * Wake the watchers of every process (docs/sending.md, "Live in open tabs"): `send` and a
 * `giveBack` publish the user's channel, and `watch` subscribes it on one dedicated connection
 * per outbox, subscribed while at least one tab of that user is open here. On Redis Cluster the
 * channel is sharded (SSUBSCRIBE/SPUBLISH, Redis 7): it lives on the shard of the user's slot. A
 * subscriber connection that comes back wakes every watcher: a send may have gone unheard.
 * The outbox's own `watch` (same-process sends) is kept as well.
 *
 * @param outbox - the outbox to wrap (`redisOutbox()`'s, or any outbox on the same Redis).
 * @param options - see {@link RedisWakeOptions}.
 */
export function redisWake(outbox: Outbox, options: RedisWakeOptions): Outbox {
  const prefix = options.prefix ?? 'koa-messages:outbox:wake:';
  const watchers = new Map<string, Set<() => void>>();
  const channelOf = (user: UserId) => `${prefix}{${Buffer.from(user).toString('base64url')}}`;
  const byChannel = new Map<string, string>();
  const heard = (channel: string) => {
    const user = byChannel.get(channel);
    if (user === undefined) return;
    options.heard?.(user);
    for (const wake of watchers.get(user) ?? []) wake();
  };
  const wakeAll = () => {
    for (const set of watchers.values()) for (const wake of set) wake();
  };
  let subscriber: Subscriber | undefined;
  const sub = () => (subscriber ??= subscriberOf(options.client, heard, wakeAll));
  const publishTo = publisherOf(options.client);
  const publish = (user: UserId) =>
    publishTo(channelOf(user)).then(undefined, (error: unknown) =>
      debug('publishing a wake-up failed: %O', error),
    );

  const send: Outbox['send'] = async (user, level, message, sendOptions) => {
    const report = await outbox.send(user, level, message, sendOptions);
    await publish(checkUserId(user, 'outbox.send() user'));
    return report;
  };
  const claim: Outbox['claim'] = async (user) => {
    const claimed = await outbox.claim(user);
    if (claimed.messages.length === 0) return claimed;
    return Object.freeze({
      messages: claimed.messages,
      ack: (shown: readonly StoredMessage[]) => claimed.ack(shown),
      giveBack: async (kept: readonly StoredMessage[]) => {
        await claimed.giveBack(kept);
        if (kept.length > 0) await publish(checkUserId(user, 'outbox.claim() user'));
      },
    }) satisfies Claim;
  };
  const watch: Outbox['watch'] = (user, wake) => {
    const id = checkUserId(user, 'outbox.watch() user');
    const stopLocal = outbox.watch(id, wake);
    let set = watchers.get(id);
    if (set === undefined) {
      watchers.set(id, (set = new Set()));
      const channel = channelOf(id);
      byChannel.set(channel, id);
      sub()
        .subscribe(channel)
        // Subscribed: anything sent before it was not heard here.
        .then(() => wake())
        .catch((error: unknown) => debug('subscribing to wake-ups failed: %O', error));
    }
    const own = () => wake();
    set.add(own);
    const mine = set;
    return () => {
      stopLocal();
      mine.delete(own);
      if (mine.size === 0 && watchers.get(id) === mine) {
        watchers.delete(id);
        const channel = channelOf(id);
        byChannel.delete(channel);
        const current = sub();
        current
          .unsubscribe(channel)
          .catch((error: unknown) => debug('unsubscribing failed: %O', error));
        // No tab of any user here: the dedicated connection goes (made again by the next watch).
        if (watchers.size === 0) {
          subscriber = undefined;
          current.close();
        }
      }
    };
  };
  return Object.freeze({
    name: outbox.name,
    send,
    claim,
    watch,
    ...shortcuts(send),
  });
}

/** A dedicated subscriber for `client`: ioredis or node-redis, standalone or Cluster. */
function subscriberOf(
  client: RedisClient,
  heard: (channel: string) => void,
  reconnected: () => void,
): Subscriber {
  const c = client as unknown as Any;
  if (typeof c.isCluster === 'boolean') {
    // ioredis. A Cluster subscribes with sharded pub/sub (its `shardedSubscribers` option: one
    // subscriber per master, moved with the slots); a single server with plain pub/sub.
    const sharded = c.isCluster;
    const s = (
      sharded ? c['duplicate']!([], { shardedSubscribers: true }) : c['duplicate']!()
    ) as Any & { on(event: string, listener: (...args: never[]) => void): void };
    let ready = false;
    s.on(sharded ? 'smessage' : 'message', (channel: string) => heard(channel));
    s.on('ready', () => {
      // A connection that comes back (ioredis resubscribes itself) may have missed a publish.
      if (ready) reconnected();
      ready = true;
    });
    s.on('error', (error: unknown) => debug('the wake-up subscriber: %O', error));
    // The duplicate has the client's options: with `lazyConnect` it waits for connect(), with
    // `enableOfflineQueue: false` it refuses commands until ready.
    const status = (s as unknown as { status: string }).status;
    const connected: Promise<unknown> =
      status === 'ready'
        ? Promise.resolve()
        : status === 'wait'
          ? (s['connect']!() as Promise<unknown>)
          : new Promise((resolve) => s.on('ready', resolve));
    return {
      subscribe: async (channel) => {
        await connected;
        return s[sharded ? 'ssubscribe' : 'subscribe']!(channel);
      },
      unsubscribe: async (channel) => {
        await connected;
        return s[sharded ? 'sunsubscribe' : 'unsubscribe']!(channel);
      },
      close: () => {
        const end = () => void s['disconnect']!();
        connected.then(end, end);
      },
    };
  }
  if (Array.isArray((c as unknown as { masters?: unknown }).masters)) {
    // node-redis cluster: sSubscribe keeps its own subscriber connections per shard.
    const listener = (_message: string, channel: string) => heard(channel);
    return {
      subscribe: (channel) => c['sSubscribe']!(channel, listener) as Promise<unknown>,
      unsubscribe: (channel) => c['sUnsubscribe']!(channel, listener) as Promise<unknown>,
      // The cluster client owns those connections: nothing of ours to close.
      close: () => undefined,
    };
  }
  if (typeof c['duplicate'] === 'function') {
    // node-redis client.
    const s = c['duplicate']() as Any & {
      on(event: string, listener: (...args: unknown[]) => void): void;
    };
    let ready = false;
    s.on('ready', () => {
      if (ready) reconnected();
      ready = true;
    });
    // Errors come back as 'ready' after a reconnect; without a listener node-redis would throw them.
    s.on('error', (error: unknown) => debug('the wake-up subscriber failed: %O', error));
    const connected = s['connect']!() as Promise<unknown>;
    const listener = (_message: string, channel: string) => heard(channel);
    return {
      subscribe: async (channel) => {
        await connected;
        return s['subscribe']!(channel, listener);
      },
      unsubscribe: async (channel) => {
        await connected;
        return s['unsubscribe']!(channel, listener);
      },
      close: () => {
        const end = () => void s['destroy']!();
        connected.then(end, end);
      },
    };
  }
  throw new MessagesError(
    'ERR_KOA_MESSAGES_OPTION',
    'redisWake() option `client` must be an ioredis or node-redis client or cluster.',
  );
}
