import { debuglog } from 'node:util';

import { z } from 'zod';

import { parseOptions, type Same } from '../config/parse.js';
import type { StoredMessage } from '../storage/types.js';
import { checkSend, checkUserId } from './check.js';
import { shortcuts } from './shortcuts.js';
import type { Claim, Outbox, SendReport } from './types.js';

const debug = debuglog('koa-messages');

/** Options of {@link memoryOutbox}. */
export interface MemoryOutboxOptions {
  /**
   * The most messages pending per user; a send beyond it drops the oldest, which it reports in
   * its result (`{ dropped }`).
   * @default 100
   */
  maxMessages?: number | undefined;
}

const memoryOutboxSchema = z.strictObject({
  maxMessages: z
    .int({ error: 'must be a positive integer' })
    .positive({ error: 'must be a positive integer' })
    .default(100),
});
const exact: Same<z.input<typeof memoryOutboxSchema>, MemoryOutboxOptions> = true;
void exact;

const NOTHING: readonly StoredMessage[] = Object.freeze([]);

/** One user's box: what waits, and who watches. */
interface Box {
  list: StoredMessage[];
  watchers: Set<() => void> | undefined;
}

/**
 * An {@link Outbox} in this process's memory: for an app that runs as one process, and for tests.
 * Messages wait until a request of their user claims them (the app's `maxAge` or the message's
 * own then drops the stale ones); they are lost when the process exits. Across processes, use
 * `redisOutbox()` from `koa-messages/redis`.
 *
 * @param options - {@link MemoryOutboxOptions}.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for a bad option.
 * @example
 * const outbox = memoryOutbox();
 * app.use(messages({ outbox, user: (ctx) => ctx.state.user?.id }));
 * await outbox.success(user.id, 'Your export is ready.');
 */
export function memoryOutbox(options?: MemoryOutboxOptions): Outbox {
  const { maxMessages } = parseOptions(memoryOutboxSchema, options, 'memoryOutbox()');
  const boxes = new Map<string, Box>();

  const boxOf = (id: string): Box => {
    let box = boxes.get(id);
    if (box === undefined) boxes.set(id, (box = { list: [], watchers: undefined }));
    return box;
  };
  /** Forget a box nobody needs (empty and unwatched), so memory follows what is pending. */
  const tidy = (id: string, box: Box): void => {
    if (box.list.length === 0 && (box.watchers === undefined || box.watchers.size === 0))
      boxes.delete(id);
  };

  const send: Outbox['send'] = (user, level, message, sendOptions) => {
    try {
      const id = checkUserId(user, 'outbox.send() user');
      const stored = checkSend(level, message, sendOptions, Date.now());
      if (stored === undefined) return Promise.resolve({ dropped: NOTHING });
      const box = boxOf(id);
      // A key holds one pending message: the newer replaces it.
      if (stored.key !== undefined) box.list = box.list.filter((m) => m.key !== stored.key);
      box.list.push(Object.freeze(stored));
      const excess = box.list.length - maxMessages;
      const report: SendReport = { dropped: excess > 0 ? box.list.splice(0, excess) : NOTHING };
      if (box.watchers !== undefined) wakeAll(box.watchers);
      return Promise.resolve(report);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const claim: Outbox['claim'] = (user) => {
    try {
      const id = checkUserId(user, 'outbox.claim() user');
      const box = boxes.get(id);
      if (box === undefined || box.list.length === 0) return Promise.resolve(EMPTY_CLAIM);
      const taken = box.list;
      box.list = [];
      tidy(id, box);
      return Promise.resolve(
        memoryClaim(taken, (kept) => {
          const again = boxOf(id);
          again.list = kept.concat(again.list);
          const excess = again.list.length - maxMessages;
          // Given back beyond the bound: the oldest go, as a send would drop them.
          if (excess > 0)
            debug('memoryOutbox: %d message(s) given back beyond maxMessages dropped', excess);
          if (excess > 0) again.list.splice(0, excess);
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const watch: Outbox['watch'] = (user, onSend) => {
    const id = checkUserId(user, 'outbox.watch() user');
    if (typeof onSend !== 'function')
      throw new TypeError('koa-messages: outbox.watch(user, wake) takes a function.');
    const box = boxOf(id);
    const watcher = () => onSend();
    (box.watchers ??= new Set()).add(watcher);
    return () => {
      box.watchers?.delete(watcher);
      if (boxes.get(id) === box) tidy(id, box);
    };
  };

  return Object.freeze({ name: 'memory', send, claim, watch, ...shortcuts(send) });
}

/** Tell the watchers, after the send resolved, each failing alone. */
export function wakeAll(watchers: Set<() => void>): void {
  for (const watcher of watchers) {
    queueMicrotask(() => {
      try {
        watcher();
      } catch (error) {
        debug('an outbox watcher threw: %O', error);
      }
    });
  }
}

const done = () => Promise.resolve();

/** The claim of a user with nothing pending. */
export const EMPTY_CLAIM: Claim = Object.freeze({ messages: NOTHING, ack: done, giveBack: done });

/**
 * A claim of `taken`: `giveBack` returns (once) those of them it is handed, in their order, ahead
 * of anything sent since; `ack` forgets them. Messages handed to neither are acked.
 */
function memoryClaim(taken: StoredMessage[], restore: (kept: StoredMessage[]) => void): Claim {
  const open = new Set(taken);
  return Object.freeze({
    messages: Object.freeze(taken.slice()),
    ack(shown: readonly StoredMessage[]) {
      for (const m of shown) open.delete(m);
      return Promise.resolve();
    },
    giveBack(kept: readonly StoredMessage[]) {
      const back = taken.filter((m) => open.has(m) && kept.includes(m));
      for (const m of back) open.delete(m);
      if (back.length > 0) restore(back);
      return Promise.resolve();
    },
  });
}
