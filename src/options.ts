import type { Context } from 'koa';
import { z } from 'zod';

import { parseOptions, type Same } from './config/parse.js';
import type { Translate } from './descriptor.js';
import { describeValue, MessagesError } from './errors.js';
import { DEFAULT_TAGS, isLevelName, type Level, NAME_LIST, toLevel } from './level.js';
import type { Outbox, UserId } from './sending/types.js';
import type { LevelName } from './shared/levels.js';
import { cookieStorage } from './storage/cookie/cookie-storage.js';
import { fallbackStorage } from './storage/cookie/fallback-storage.js';
import { memoryStorage } from './storage/memory.js';
import { sessionStorage } from './storage/session.js';
import type { DropReason, MessageStorage, StoredMessage } from './storage/types.js';

/** What the `onDrop` hook receives: messages that were added but could not be kept. */
export interface DropEvent {
  readonly ctx: Context;
  readonly reason: DropReason;
  readonly messages: readonly StoredMessage[];
  readonly error?: unknown;
}

/** The built-in storages `messages({ storage })` takes by name. */
export type StorageName = 'session' | 'cookie' | 'fallback' | 'memory';

/** `tags`: a tag per level, by standard name or by integer. */
export type TagOptions = { readonly [K in LevelName | 'warn']?: string } & {
  readonly [level: number]: string;
};

/** The options of `messages()`. Every key is optional. */
export interface MessagesOptions {
  /**
   * Where messages wait between requests: a built-in storage by name, or a storage object
   * (`cookieStorage({...})`, `redisStorage({...})`, your own {@link MessageStorage}).
   * A name is the storage's factory with its defaults (`'cookie'` is `cookieStorage()`); give the
   * factory itself to set its options (`cookieStorage({ maxSize: 1024 })`). `'session'` and
   * `'fallback'` need koa-session installed before `messages()`; `'cookie'` and `'fallback'` need
   * `app.keys`.
   * @default 'session'
   */
  storage?: StorageName | MessageStorage | undefined;
  /**
   * The threshold: messages below it are ignored (Django's `MESSAGE_LEVEL`). A level name or any
   * integer; a request can change it with `ctx.messages.level`.
   * @default 'info'
   */
  level?: Level | undefined;
  /**
   * Tags per level, merged over the defaults (Django's `MESSAGE_TAGS`): `{ error: 'danger',
   * 35: 'notice' }`. `''` hides a level's tag.
   * @default {}
   */
  tags?: TagOptions | undefined;
  /**
   * HTML-escape message text in `ctx.ajax()` answers (messages added with `html: true` never are).
   * @default true
   */
  escape?: boolean | undefined;
  /**
   * At most this many messages stay pending per visitor; the oldest beyond it are dropped and
   * reported to `onDrop` with reason `'max-messages'`.
   * @default 100
   */
  maxMessages?: number | undefined;
  /**
   * Add nothing when a message with the same level, text, extra tags (and key) is already pending,
   * stored or added in this request, so a double submit shows one toast (docs/dedupe.md). Off by
   * default, as in Django.
   * @default false
   */
  dedupe?: boolean | undefined;
  /**
   * Milliseconds a message stays pending: a request that loads an older one drops it and reports
   * it to `onDrop` with reason `'expired'`. `add(…, { maxAge })` overrides it per message. Without
   * it (and without a per-message one) messages wait until shown, as in Django, and storages keep
   * no add time (docs/expiry.md).
   * @default undefined
   */
  maxAge?: number | undefined;
  /**
   * Turns a message added as a descriptor (`ctx.messages.success({ id, values })`) into text when
   * it is shown, with the showing request's `ctx`, so the reader's current language wins
   * (docs/translation.md). Adding a descriptor without it is an error.
   * @default undefined
   */
  translate?: Translate | undefined;
  /**
   * htmx requests (`HX-Request: true`) whose handler did not show the messages get them in the
   * `HX-Trigger` response header as a `messages` event (docs/htmx.md).
   * @default false
   */
  htmx?: boolean | undefined;
  /**
   * The largest `HX-Trigger` / `X-Messages` header koa-messages writes, in bytes (an integer from
   * 256 to 65536); messages that do not fit stay pending for the next response. Well under the
   * 8 KB many proxies allow per header.
   * @default 4096
   */
  maxHeaderBytes?: number | undefined;
  /**
   * Told about every message that was added but could not be kept (too many, no room in the
   * cookie, the storage failed) or was dropped unread past its `maxAge` (`'expired'`). Without it
   * they are logged with `NODE_DEBUG=koa-messages`.
   * @default undefined
   */
  onDrop?: ((event: DropEvent) => unknown) | undefined;
  /**
   * Give the app connect-flash's `ctx.flash(type, message)` over the same messages, for
   * koa-passport's `failureFlash`/`successFlash` (docs/flash.md). Off, so that `ctx.flash` does not
   * collide with an app's own; its type is the `FlashContext` opt-in.
   * @default false
   */
  flash?: boolean | undefined;
  /**
   * Where messages sent to users wait (`memoryOutbox()`, `redisOutbox()` from `koa-messages/redis`);
   * requires `user` (docs/sending.md).
   * @default undefined
   */
  outbox?: Outbox | undefined;
  /**
   * The request's user id, for `outbox` (required with it): `(ctx) => ctx.state.user?.id`.
   * `undefined` or `null` for a visitor who is not logged in. Mount `messages()` after whatever
   * sets the user (koa-passport's `passport.session()`).
   * @default undefined
   */
  user?: ((ctx: Context) => UserId | number | undefined | null) | undefined;
  /**
   * Which requests claim the user's messages from `outbox` before the handler (a round trip to
   * the outbox each). By default: a GET that is not a prefetch, any htmx request, and a request
   * whose `Accept` prefers JSON to HTML (docs/sending.md).
   * @default undefined
   */
  claimOn?: ((ctx: Context) => boolean) | undefined;
}

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
      message: 'must be a function (descriptor, ctx) => string',
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
      message: 'must be a function',
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
        message: 'must be an outbox (memoryOutbox(), redisOutbox() or an object with claim(user))',
      },
    )
    .optional(),
  user: z
    .custom<(ctx: Context) => UserId | number | undefined | null>(
      (value) => typeof value === 'function',
      { message: 'must be a function (ctx) => the user id' },
    )
    .optional(),
  claimOn: z
    .custom<(ctx: Context) => boolean>((value) => typeof value === 'function', {
      message: 'must be a function (ctx) => boolean',
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
