import diagnostics from 'node:diagnostics_channel';

import {
  type AddedEvent,
  CHANNELS,
  type DroppedEvent,
  type KeptEvent,
  type KeptReason,
  type RequeuedEvent,
  type ShownEvent,
  type Transport,
} from '../diagnostics.js';
import { describeValue, MessagesError } from '../errors.js';
import { DEFAULT_TAGS } from '../message/level.js';
import { Message } from '../message/message.js';
import type { DropReason, StoredMessage } from '../storage/types.js';

/** One message as a record shows it. */
export interface RecordedMessage {
  readonly message: string;
  readonly tags: string;
  readonly level: number;
}

/** A message a response showed, and how. */
export interface ShownMessage extends RecordedMessage {
  readonly transport: Transport;
}

/** A message a response read but did not show (it stays pending), and why. */
export interface KeptMessage extends ShownMessage {
  readonly reason: KeptReason;
}

/** A message that did not fit its header (it stays pending). */
export interface RequeuedMessage extends RecordedMessage {
  readonly transport: 'hx-trigger' | 'x-messages';
}

/** A message lost, with the reason `onDrop` is given. */
export interface DroppedMessage extends RecordedMessage {
  readonly reason: DropReason;
}

/** A message `add()` was given: recorded, skipped as a duplicate, or replacing a keyed one. */
export interface AddedMessage extends RecordedMessage {
  readonly key: string | undefined;
  readonly deduplicated: boolean;
  /** How many pending messages with its key it replaced. */
  readonly replaced: number;
}

/** What the requests that ended while `recordMessages()` ran did with their messages, in order. */
export interface MessagesRecord<T> {
  /** What the recorded function returned (a supertest response, a fetch `Response`). */
  readonly result: T;
  readonly added: AddedMessage[];
  readonly shown: ShownMessage[];
  readonly kept: KeptMessage[];
  readonly requeued: RequeuedMessage[];
  readonly dropped: DroppedMessage[];
}

const plain = (m: StoredMessage): RecordedMessage => ({
  message: m.message,
  // A storage may hand back plain data: its tags are its extra tags, then the default level tag.
  tags:
    m instanceof Message
      ? m.tags
      : [m.extraTags, DEFAULT_TAGS[m.level] ?? ''].filter((t) => t !== '').join(' '),
  level: m.level,
});

/**
 * Record what koa-messages did while `run` runs, from its `node:diagnostics_channel` events
 * (docs/observability.md): what each response showed (a rendered page that iterated
 * `ctx.messages`, `ctx.ajax()`, `HX-Trigger`, `X-Messages`, `ctx.flash`), what it read but kept,
 * what did not fit a header, what was dropped, and what was added. No cookie keys, no HTML
 * parsing, any storage. Every event of the process counts while `run` runs: run one request at a
 * time (mocha and `node:test` run tests one after another unless told otherwise).
 *
 * @param run - makes the request(s): `() => agent.get('/')`; awaited.
 * @returns the record, with `result` what `run` returned.
 * @throws {TypeError} when `run` is not a function; whatever `run` throws.
 * @example
 * const { result, shown } = await recordMessages(() => agent.get('/dashboard').expect(200));
 * assert.deepEqual(shown, [
 *   { message: 'Vote recorded.', tags: 'success', level: 25, transport: 'iteration' },
 * ]);
 */
export async function recordMessages<T>(run: () => T): Promise<MessagesRecord<Awaited<T>>> {
  if (typeof run !== 'function') {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_ARGUMENT',
      `recordMessages(run) needs a function that makes the request, got ${describeValue(run)}.`,
    );
  }
  const added: AddedMessage[] = [];
  const shown: ShownMessage[] = [];
  const kept: KeptMessage[] = [];
  const requeued: RequeuedMessage[] = [];
  const dropped: DroppedMessage[] = [];
  const listeners: [string, (event: unknown) => void][] = [
    [
      CHANNELS.added,
      (event) => {
        const { message, deduplicated, replaced } = event as AddedEvent;
        added.push({
          ...plain(message),
          key: message.key,
          deduplicated,
          replaced: replaced.length,
        });
      },
    ],
    [
      CHANNELS.shown,
      (event) => {
        const { transport, messages } = event as ShownEvent;
        for (const m of messages) shown.push({ ...plain(m), transport });
      },
    ],
    [
      CHANNELS.kept,
      (event) => {
        const { transport, reason, messages } = event as KeptEvent;
        for (const m of messages) kept.push({ ...plain(m), transport, reason });
      },
    ],
    [
      CHANNELS.requeued,
      (event) => {
        const { transport, messages } = event as RequeuedEvent;
        for (const m of messages) requeued.push({ ...plain(m), transport });
      },
    ],
    [
      CHANNELS.dropped,
      (event) => {
        const { reason, messages } = event as DroppedEvent;
        for (const m of messages) dropped.push({ ...plain(m), reason });
      },
    ],
  ];
  for (const [name, listener] of listeners) diagnostics.subscribe(name, listener);
  try {
    const result = await run();
    return { result, added, shown, kept, requeued, dropped };
  } finally {
    for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener);
  }
}
