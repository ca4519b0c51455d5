import { debuglog } from 'node:util';

import { decodeMessage, encodeMessage } from '../codec.js';
import type { StoredMessage } from '../types.js';
import type { Exchange } from './exchange.js';
import type { RedisConfig } from './options.js';

const debug = debuglog('koa-messages');

/** What the claim and the save of one `redisStorage()` share. */
export interface Room {
  readonly config: RedisConfig;
  readonly exchange: Exchange;
  /**
   * How long Redis keeps a script's record (scripts.ts): longer than any retry, probe or
   * give-back of that script can come (2 timeouts each), with room for the clocks' offset.
   */
  readonly hold: number;
}

/** The room of `config`'s storage. */
export const roomOf = (config: RedisConfig, exchange: Exchange): Room => ({
  config,
  exchange,
  hold: 4 * config.timeout + 5000,
});

// The hash tag puts everything of one id in one cluster slot (docs/redis-cluster.md).
/** The list of `id`'s pending messages. */
export const listKey = (prefix: string, id: string): string => `${prefix}{${id}}`;
/** Saves since the last claim of `id`: how many fresh hint cookies may be out (save.ts). */
export const counterKey = (prefix: string, id: string): string => `${prefix}{${id}}:n`;
/** A script's record: `c` a claim's, `s` a save's (scripts.ts). */
export const recordKey = (prefix: string, id: string, kind: 'c' | 's', name: string): string =>
  `${prefix}{${id}}:${kind}:${name}`;

/** Raw list entries to messages. Redis contents are untrusted: anything malformed is dropped. */
export function decodeEntries(raw: readonly unknown[]): StoredMessage[] {
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

export const encode = (m: StoredMessage): string => JSON.stringify(encodeMessage(m));
