import type { Context } from 'koa';

import type { Translate } from '../message/descriptor.js';
import type { Level } from '../message/level.js';
import type { Outbox, UserId } from '../sending/types.js';
import type { LevelName } from '../shared/levels.js';
import type { DropReason, MessageStorage, StoredMessage } from '../storage/types.js';

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
export type TagOptions = Readonly<Partial<Record<LevelName | 'warn', string>>> &
  Readonly<Record<number, string>>;

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
