import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

import { random } from './delivery-workload.js';

/**
 * A fault-injecting TCP proxy between a Redis client and a Redis server: what a load balancer, a
 * NAT timeout or a failover does to a connection. It forwards bytes both ways and counts the RESP
 * commands and replies on each connection, so that it can let one command reach Redis, wait until
 * Redis has answered it (so it certainly ran), drop that answer and reset the client's connection
 * (a TCP RST). The client then sees a broken connection after the command ran: ioredis sends it
 * again on its new connection, node-redis rejects it.
 *
 * In a cluster, give each node its own proxy and announce the proxies' ports (see
 * `test/helpers/redis-cluster.ts`): the clients then only ever reach the nodes through them.
 */
export interface FaultProxy {
  readonly port: number;
  /** Connections reset so far, and replies dropped after Redis ran their command. */
  readonly counts: { resets: number; droppedReplies: number };
  /**
   * The next command whose text contains `match` (any case) goes through; once Redis has answered it, the
   * answer is dropped and the connection reset (`skip`: let that many matching commands through
   * first). Resolves when that happened.
   */
  dropReplyTo(match: string, skip?: number): Promise<void>;
  /**
   * Until the returned function is called: every `minMs`–`maxMs` (seeded random), either reset a
   * random open connection at once, or drop the next reply to a command on any connection and
   * reset that connection.
   */
  chaos(options: { minMs: number; maxMs: number; seed: number }): () => void;
  /**
   * While `true`, every new connection is reset as soon as it is accepted: Redis is unreachable
   * (connections already open are left alone).
   */
  blocked: boolean;
  /** Forget every armed `dropReplyTo` that has not fired (their promises never resolve). */
  disarm(): void;
  close(): Promise<void>;
}

/**
 * The end (exclusive) of the RESP value starting at `at` in `buf`, or -1 while it is incomplete.
 * RESP2 and RESP3: aggregates (`*`, `~`, `>`; `%` and `|` hold pairs), blobs (`$`, `=`, `!`) and
 * one-line values.
 */
function valueEnd(buf: Buffer, at: number): number {
  if (at >= buf.length) return -1;
  const line = buf.indexOf('\r\n', at);
  if (line < 0) return -1;
  const type = String.fromCharCode(buf[at]!);
  const n = Number(buf.toString('latin1', at + 1, line));
  let next = line + 2;
  if (type === '$' || type === '=' || type === '!') {
    if (n < 0) return next;
    return next + n + 2 <= buf.length ? next + n + 2 : -1;
  }
  if ('*~>%|'.includes(type)) {
    const items = n < 0 ? 0 : type === '%' || type === '|' ? 2 * n : n;
    for (let i = 0; i < items; i++) {
      next = valueEnd(buf, next);
      if (next < 0) return -1;
    }
    // An attribute (`|`) comes before the value it describes.
    return type === '|' ? valueEnd(buf, next) : next;
  }
  return next;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Commands the client sent, replies Redis gave (counted as whole RESP values). */
  sent: number;
  answered: number;
  /** Index of the command whose reply is to be dropped, once one matched. */
  doomed?: number;
  up: Buffer;
  down: Buffer;
  /** Bytes at the start of `down` already passed on to the client. */
  forwarded: number;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const counts = { resets: 0, droppedReplies: 0 };
  /** Armed drops: a match (or '' for any command) and what to call once done. */
  const armed: { match: string; skip: number; done: () => void }[] = [];

  const reset = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    counts.resets++;
    pair.client.resetAndDestroy();
    pair.server.destroy();
  };

  const proxy = { blocked: false };
  const server = createServer((client) => {
    if (proxy.blocked) {
      counts.resets++;
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      server: upstream,
      sent: 0,
      answered: 0,
      up: Buffer.alloc(0),
      down: Buffer.alloc(0),
      forwarded: 0,
    };
    pairs.add(pair);
    const close = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);

    client.on('data', (chunk: Buffer) => {
      pair.up = Buffer.concat([pair.up, chunk]);
      let at = 0;
      for (let end; (end = valueEnd(pair.up, at)) >= 0; at = end) {
        if (pair.doomed === undefined) {
          // Case-insensitive: ioredis sends command names in lower case, node-redis in upper.
          const text = pair.up.toString('latin1', at, end).toLowerCase();
          const i = armed.findIndex((a) => text.includes(a.match.toLowerCase()));
          if (i >= 0 && armed[i]!.skip > 0) armed[i]!.skip--;
          else if (i >= 0) {
            pair.doomed = pair.sent;
            const { done } = armed.splice(i, 1)[0]!;
            upstream.once('close', done);
          }
        }
        pair.sent++;
      }
      pair.up = pair.up.subarray(at);
      upstream.write(chunk);
    });

    upstream.on('data', (chunk: Buffer) => {
      pair.down = Buffer.concat([pair.down, chunk]);
      let at = 0;
      let end: number;
      while ((end = valueEnd(pair.down, at)) >= 0) {
        if (pair.doomed === pair.answered) {
          // Redis has run the doomed command: forward what came before its answer, drop the
          // answer, reset the connection.
          if (at > pair.forwarded) client.write(pair.down.subarray(pair.forwarded, at));
          counts.droppedReplies++;
          reset(pair);
          return;
        }
        pair.answered++;
        at = end;
      }
      // Forward at once, except what may be the doomed command's answer (its index is set when
      // the command is sent, so bytes already forwarded never belong to it).
      const upto = pair.doomed === undefined ? pair.down.length : at;
      if (upto > pair.forwarded) client.write(pair.down.subarray(pair.forwarded, upto));
      pair.forwarded = Math.max(pair.forwarded, upto) - at;
      pair.down = pair.down.subarray(at);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');

  const api: Omit<FaultProxy, 'blocked'> = {
    port: address.port,
    counts,
    dropReplyTo(match, skip = 0) {
      return new Promise((resolve) => armed.push({ match, skip, done: resolve }));
    },
    chaos({ minMs, maxMs, seed }) {
      const rng = random(seed);
      let timer: NodeJS.Timeout | undefined;
      const tick = () => {
        const open = [...pairs];
        if (rng() < 0.5) {
          if (armed.every((a) => a.match !== ''))
            armed.push({ match: '', skip: 0, done: () => undefined });
        } else if (open.length > 0) {
          reset(open[Math.floor(rng() * open.length)]!);
        }
        timer = setTimeout(tick, minMs + rng() * (maxMs - minMs));
      };
      timer = setTimeout(tick, minMs + rng() * (maxMs - minMs));
      return () => {
        clearTimeout(timer);
        armed.splice(0, armed.length, ...armed.filter((a) => a.match !== ''));
      };
    },
    disarm() {
      armed.length = 0;
    },
    async close() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.destroy();
        pair.server.destroy();
      }
      server.close();
      await once(server, 'close');
    },
  };
  return Object.assign(proxy, api);
}
