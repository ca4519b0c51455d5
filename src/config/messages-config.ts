import type { Context } from 'koa';
import { z } from 'zod';

import { describeValue, MessagesError } from '../errors.js';
import type { Translate } from '../message/descriptor.js';
import { DEFAULT_TAGS, isLevelName, type Level, NAME_LIST, toLevel } from '../message/level.js';
import type { Outbox, UserId } from '../sending/types.js';
import { cookieStorage } from '../storage/cookie/cookie-storage.js';
import { fallbackStorage } from '../storage/cookie/fallback-storage.js';
import { memoryStorage } from '../storage/memory.js';
import { sessionStorage } from '../storage/session.js';
import type { MessageStorage } from '../storage/types.js';
import type { DropEvent, MessagesOptions, StorageName } from './messages-options.js';
import { parseOptions, type Same } from './parse.js';

const isStorage = (value: unknown): value is MessageStorage =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as MessageStorage).open === 'function' &&
  ((value as MessageStorage).enter === undefined ||
    typeof (value as MessageStorage).enter === 'function');

// The error echoes what was given (`got 'loud'`), as the other level errors do.
const levelSchema = z.custom<Level>((value) => isLevelName(value) || Number.isSafeInteger(value), {
  error: ({ input }) =>
    `must be a level name (${NAME_LIST}) or an integer, got ${
      typeof input === 'string'
        ? `'${input}'`
        : typeof input === 'number'
          ? String(input)
          : describeValue(input)
    }`,
});

const tagKeySchema = z.custom<string>(
  (key) => isLevelName(key) || (typeof key === 'string' && /^-?\d+$/.test(key)),
);

/** A storage's name is its factory with the factory's defaults, and nothing more. */
const NAMED: Readonly<Record<StorageName, () => MessageStorage>> = {
  session: () => sessionStorage(),
  cookie: () => cookieStorage(),
  fallback: () => fallbackStorage(),
  memory: memoryStorage,
};

/** The runtime check of {@link MessagesOptions}. */
const optionsSchema = z.strictObject({
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
          "must be 'session', 'cookie', 'fallback', 'memory', or a storage object with an open(ctx) method",
      },
    )
    .default('session'),
  level: levelSchema.default('info'),
  tags: z
    .record(tagKeySchema, z.string(), { error: 'must be an object of tag strings keyed by level' })
    .default({}),
  escape: z.boolean().default(true),
  maxMessages: z
    .int({ error: 'must be a positive integer' })
    .positive({ error: 'must be a positive integer' })
    .default(100),
  dedupe: z.boolean().default(false),
  maxAge: z
    .int({ error: 'must be a positive integer of milliseconds' })
    .positive({ error: 'must be a positive integer of milliseconds' })
    .optional(),
  translate: z
    .custom<Translate>((value) => typeof value === 'function', {
      error: 'must be a function (descriptor, ctx) => string',
    })
    .optional(),
  htmx: z.boolean({ error: 'must be a boolean' }).default(false),
  maxHeaderBytes: z
    .int({ error: 'must be an integer from 256 to 65536' })
    .min(256, { error: 'must be an integer from 256 to 65536' })
    .max(65536, { error: 'must be an integer from 256 to 65536' })
    .default(4096),
  onDrop: z
    .custom<(event: DropEvent) => unknown>((value) => typeof value === 'function', {
      error: 'must be a function',
    })
    .optional(),
  flash: z.boolean().default(false),
  outbox: z
    .custom<Outbox>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Outbox).claim === 'function',
      {
        error: 'must be an outbox (memoryOutbox(), redisOutbox() or an object with claim(user))',
      },
    )
    .optional(),
  user: z
    .custom<(ctx: Context) => UserId | number | undefined | null>(
      (value) => typeof value === 'function',
      { error: 'must be a function (ctx) => the user id' },
    )
    .optional(),
  claimOn: z
    .custom<(ctx: Context) => boolean>((value) => typeof value === 'function', {
      error: 'must be a function (ctx) => boolean',
    })
    .optional(),
});

const exact: Same<z.input<typeof optionsSchema>, MessagesOptions> = true;
void exact;

/** The parsed, frozen configuration one `messages()` middleware runs with. */
export interface Config {
  readonly storage: MessageStorage;
  readonly level: number;
  /** DEFAULT_TAGS with the `tags` option merged over them (Django's MESSAGE_TAGS). */
  readonly tags: Readonly<Record<number, string>>;
  readonly escape: boolean;
  readonly maxMessages: number;
  /** Skip adds equal to a pending message (docs/dedupe.md). */
  readonly dedupe: boolean;
  /** The default age limit in milliseconds (docs/expiry.md); `undefined` for none. */
  readonly maxAge: number | undefined;
  readonly translate: Translate | undefined;
  readonly htmx: boolean;
  readonly maxHeaderBytes: number;
  readonly onDrop: ((event: DropEvent) => unknown) | undefined;
  readonly flash: boolean;
  /** Messages sent to users: the outbox, the user resolver, the claim predicate (docs/sending.md). */
  readonly sending: SendingConfig | undefined;
}

/** `outbox`, `user` and `claimOn`, given together. */
export interface SendingConfig {
  readonly outbox: Outbox;
  readonly user: (ctx: Context) => UserId | number | undefined | null;
  readonly claimOn: ((ctx: Context) => boolean) | undefined;
}

/**
 * Options that configure one storage belong to its factory; named here so that passing them to
 * `messages()` says where they go instead of only "unknown option".
 */
const FACTORY_OPTIONS: Readonly<Record<string, string>> = {
  sessionKey: 'sessionStorage({ key }) or fallbackStorage({ sessionKey })',
  cookie: 'cookieStorage({ … }) or fallbackStorage({ cookie: { … } })',
};

/**
 * Validate `messages()` options (the caller's object is not touched) and make the storage a name
 * stands for.
 *
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` naming each bad or unknown option.
 */
export function parseMessagesOptions(options: unknown): Config {
  if (typeof options === 'object' && options !== null) {
    for (const [key, factory] of Object.entries(FACTORY_OPTIONS)) {
      if (Object.hasOwn(options, key)) {
        throw new MessagesError(
          'ERR_KOA_MESSAGES_OPTION',
          `invalid messages() options: option \`${key}\` belongs to the storage: pass \`storage: ${factory}\`.`,
        );
      }
    }
  }
  const o = parseOptions(optionsSchema, options, 'messages()');
  if (
    Object.hasOwn(o.tags, 'warn') &&
    Object.hasOwn(o.tags, 'warning') &&
    o.tags['warn'] !== o.tags['warning']
  ) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `invalid messages() options: option \`tags\` has both \`warn\` (${JSON.stringify(o.tags['warn'])}) and \`warning\` (${JSON.stringify(o.tags['warning'])}), which name the same level; keep one.`,
    );
  }
  if (
    (o.outbox === undefined) !== (o.user === undefined) ||
    (o.claimOn !== undefined && o.outbox === undefined)
  ) {
    const missing = o.outbox === undefined ? 'outbox' : 'user';
    const given = o.outbox === undefined ? (o.user === undefined ? 'claimOn' : 'user') : 'outbox';
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      `invalid messages() options: option \`${given}\` needs option \`${missing}\` (docs/sending.md).`,
    );
  }
  const tags: Record<number, string> = { ...DEFAULT_TAGS };
  for (const [key, tag] of Object.entries(o.tags))
    tags[toLevel(/^-?\d+$/.test(key) ? Number(key) : key, 'tags key')] = tag;
  return Object.freeze({
    storage: typeof o.storage === 'string' ? NAMED[o.storage]() : o.storage,
    level: toLevel(o.level, 'level'),
    tags: Object.freeze(tags),
    escape: o.escape,
    maxMessages: o.maxMessages,
    dedupe: o.dedupe,
    maxAge: o.maxAge,
    translate: o.translate,
    htmx: o.htmx,
    maxHeaderBytes: o.maxHeaderBytes,
    onDrop: o.onDrop,
    flash: o.flash,
    sending:
      o.outbox === undefined || o.user === undefined
        ? undefined
        : Object.freeze({ outbox: o.outbox, user: o.user, claimOn: o.claimOn }),
  });
}
