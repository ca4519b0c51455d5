import type { Context } from 'koa';
import { z } from 'zod';

import { optionsError } from './errors.js';
import { MessagesError } from './errors.js';
import { DEFAULT_TAGS, toLevel } from './level.js';
import { LEVEL_NAMES, LEVELS } from './shared/levels.js';
import { cookieOptionsSchema, cookieStorage } from './storage/cookie/cookie-storage.js';
import { fallbackStorage } from './storage/cookie/fallback-storage.js';
import { memoryStorage } from './storage/memory.js';
import { sessionKeyProblem, sessionStorage } from './storage/session.js';
import type { DropReason, MessageStorage, StoredMessage } from './storage/types.js';

/** What the `onDrop` hook receives: messages that were added but could not be kept. */
export interface DropEvent {
  readonly ctx: Context;
  readonly reason: DropReason;
  readonly messages: readonly StoredMessage[];
  readonly error?: unknown;
}

const isStorage = (value: unknown): value is MessageStorage =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as MessageStorage).load === 'function' &&
  typeof (value as MessageStorage).save === 'function';

const levelSchema = z.custom<string | number>(
  (value) =>
    (typeof value === 'string' && Object.hasOwn(LEVELS, value)) || Number.isSafeInteger(value),
  {
    message: `must be a level name (${LEVEL_NAMES.map((n) => `'${n}'`).join(', ')}) or an integer`,
  },
);

const tagKeySchema = z.custom<string>(
  (key) => typeof key === 'string' && (Object.hasOwn(LEVELS, key) || /^-?\d+$/.test(key)),
);

/** The options of `messages()`. The schema is the type: `z.input` for callers, `z.output` inside. */
export const optionsSchema = z.strictObject({
  storage: z
    .union(
      [
        z.literal('session'),
        z.literal('cookie'),
        z.literal('fallback'),
        z.literal('memory'),
        z.custom<MessageStorage>(isStorage),
      ],
      {
        error: () =>
          "must be 'session', 'cookie', 'fallback', 'memory', or an object with load() and save() methods",
      },
    )
    .default('session'),
  sessionKey: z
    .string({ error: 'must be a non-empty string' })
    .min(1, { error: 'must be a non-empty string' })
    .refine((key) => sessionKeyProblem(key) === undefined, {
      error: (issue) => sessionKeyProblem(issue.input as string),
    })
    .default('messages'),
  /** The messages cookie of storages 'cookie' and 'fallback' (ignored by the others). */
  cookie: cookieOptionsSchema.optional(),
  level: levelSchema.default('info'),
  tags: z
    .record(tagKeySchema, z.string(), { error: 'must be an object of tag strings keyed by level' })
    .default({}),
  escape: z.boolean().default(true),
  maxMessages: z
    .int({ error: 'must be a positive integer' })
    .positive({ error: 'must be a positive integer' })
    .default(100),
  /**
   * htmx requests (`HX-Request: true`) whose handler did not show the messages get them in the
   * `HX-Trigger` response header as a `messages` event (docs/htmx.md).
   * @default false
   */
  htmx: z.boolean({ error: 'must be a boolean' }).default(false),
  /**
   * The largest `HX-Trigger` / `X-Messages` header koa-messages writes, in bytes; messages that do
   * not fit stay pending for the next response. Well under the 8 KB many proxies allow per header.
   * @default 4096
   */
  maxHeaderBytes: z
    .int({ error: 'must be an integer from 256 to 65536' })
    .min(256, { error: 'must be an integer from 256 to 65536' })
    .max(65536, { error: 'must be an integer from 256 to 65536' })
    .default(4096),
  onDrop: z
    .custom<(event: DropEvent) => void>((value) => typeof value === 'function', {
      message: 'must be a function',
    })
    .optional(),
});

/** Options of `messages()`; every key is optional. */
export type MessagesOptions = z.input<typeof optionsSchema>;

/** The parsed, frozen configuration one `messages()` middleware runs with. */
export interface Config {
  readonly storage: MessageStorage;
  readonly level: number;
  /** DEFAULT_TAGS with the `tags` option merged over them (Django's MESSAGE_TAGS). */
  readonly tags: Readonly<Record<number, string>>;
  readonly escape: boolean;
  readonly maxMessages: number;
  readonly htmx: boolean;
  readonly maxHeaderBytes: number;
  readonly onDrop: ((event: DropEvent) => void) | undefined;
}

/**
 * Validate `messages()` options into a new frozen {@link Config}; the caller's object is not touched.
 *
 * @throws {TypeError} `koa-messages: …` naming each bad option.
 */
export function parseOptions(options: unknown): Config {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      'messages(options) takes an options object.',
    );
  }
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw optionsError('messages()', parsed.error);
  }
  const o = parsed.data;
  const tags: Record<number, string> = { ...DEFAULT_TAGS };
  for (const [key, tag] of Object.entries(o.tags))
    tags[toLevel(/^-?\d+$/.test(key) ? Number(key) : key, 'tags key')] = tag;
  return Object.freeze({
    storage: resolveStorage(o.storage, o),
    level: toLevel(o.level, 'level'),
    tags: Object.freeze(tags),
    escape: o.escape,
    maxMessages: o.maxMessages,
    htmx: o.htmx,
    maxHeaderBytes: o.maxHeaderBytes,
    onDrop: o.onDrop,
  });
}

function resolveStorage(
  storage: z.output<typeof optionsSchema>['storage'],
  o: z.output<typeof optionsSchema>,
): MessageStorage {
  switch (storage) {
    case 'session':
      return sessionStorage(o.sessionKey);
    case 'cookie':
      return cookieStorage(o.cookie);
    case 'fallback':
      return fallbackStorage({
        sessionKey: o.sessionKey,
        ...(o.cookie === undefined ? {} : { cookie: o.cookie }),
      });
    case 'memory':
      return memoryStorage();
    default:
      return storage;
  }
}
