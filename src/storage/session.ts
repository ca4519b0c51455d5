import type { Context } from 'koa';
import { z } from 'zod';

import { parseOptions, type Same } from '../config/parse.js';
import { MessagesError } from '../errors.js';
import { decodeMessages, encodeMessages } from './codec.js';
import { commitNow, fitSessionCookie } from './session-cookie.js';
import type {
  DropReport,
  MessageStorage,
  SaveRequest,
  StorageHandle,
  StoredMessage,
} from './types.js';

type SessionData = Record<string, unknown>;

/**
 * koa-session's per-request `ContextSession`, if its middleware has started on this request: an
 * own, symbol-keyed property of `ctx` that has `ctx` and `commit()` (so in koa-session 6 and 7),
 * created before it calls `next()`. Nothing else makes it before a handler reads `ctx.session`.
 * The symbol is found once by a scan and then looked up directly, so the check costs one property
 * read per request (test/contracts pins this reach into koa-session).
 */
let contextSessionKey: symbol | undefined;

const isContextSession = (ctx: Context, value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as { ctx?: unknown }).ctx === ctx &&
  typeof (value as { commit?: unknown }).commit === 'function';

function sessionStarted(ctx: Context): boolean {
  const own = ctx as unknown as Record<symbol, unknown>;
  if (contextSessionKey !== undefined && isContextSession(ctx, own[contextSessionKey])) return true;
  for (const key of Object.getOwnPropertySymbols(ctx)) {
    if (isContextSession(ctx, own[key])) {
      contextSessionKey = key;
      return true;
    }
  }
  return false;
}

/**
 * Whether koa-session's middleware runs outside `messages()` on this request, as the request
 * enters `messages()`. koa-session saves the session when its own middleware returns, so messages
 * written after that, at the end of `messages()`, would be lost without a word.
 */
export const sessionRunsOutside = sessionStarted;

/**
 * Throw unless koa-session is installed before `messages()`, in this request's middleware chain.
 * `in`, not a read: koa-session's getter would parse its cookie, and the session must stay
 * untouched on requests that do not need it.
 *
 * @param storage - the storage name, for the message.
 * @param outside - {@link sessionRunsOutside} as the request entered `messages()`.
 */
export function requireSession(ctx: Context, storage: string, outside: boolean): void {
  const usage = `app.use(session(app)); app.use(messages(${storage === 'session' ? '' : `{ storage: '${storage}' }`}));`;
  if (!('session' in ctx)) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_SESSION',
      `storage \`${storage}\` needs koa-session, and ctx.session is undefined. Install it before messages(): ${usage}`,
    );
  }
  if (!outside) {
    // koa-session's middleware had not run when the request reached messages(): it runs inside
    // (and saves before messages() writes), or not at all for this request (nothing saves).
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NO_SESSION',
      `storage \`${storage}\` needs koa-session's middleware to run before messages(), and it had not ` +
        `run when this request reached messages(): koa-session would save the session before messages() ` +
        `writes to it, and the messages would be lost. Install koa-session first: ${usage}`,
    );
  }
}

/**
 * The koa-session session of this request. koa-session 7 gives `ctx.session` no type, so it is
 * read here and nowhere else.
 *
 * @returns the session, or `null` when the app destroyed it in this request (`ctx.session = null`).
 * @throws {MessagesError} `ERR_KOA_MESSAGES_NO_SESSION` when koa-session is missing or installed
 *   after `messages()`.
 */
export function sessionOf(ctx: Context, storage: string, outside: boolean): SessionData | null {
  requireSession(ctx, storage, outside);
  return (ctx as { session?: unknown }).session as SessionData | null;
}

/**
 * Names a koa-session `Session` object already has (its members, and `Object.prototype`'s): messages
 * stored under one of them would throw on every save (`length`, `maxAge`), vanish (`isNew`), or
 * break the app's own `ctx.session.save()`.
 */
const SESSION_MEMBERS = new Set([
  'isNew',
  'length',
  'populated',
  'maxAge',
  'externalKey',
  'toJSON',
  'inspect',
  'save',
  'regenerate',
  'manuallyCommit',
  'commit',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/**
 * A session key: koa-session silently does not save keys that start with `_`, and a name its
 * session object already uses (`length`, `save`, `toString`, …) would break it. The one rule for
 * every option that names a session key.
 */
export const sessionKeySchema = z
  .string({ error: 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })
  .refine((key) => !key.startsWith('_'), {
    error: "must not start with '_': koa-session does not save such keys",
  })
  .refine((key) => key.startsWith('_') || !SESSION_MEMBERS.has(key), {
    error: ({ input }) =>
      `must not be '${String(input)}', a name koa-session's session object already uses`,
  });

/** Options of {@link sessionStorage}. */
export interface SessionStorageOptions {
  /**
   * The session key the messages live under. koa-session does not save keys that start with `_`.
   * @default 'messages'
   */
  key?: string | undefined;
}

const sessionStorageSchema = z.strictObject({ key: sessionKeySchema.default('messages') });
const exact: Same<z.input<typeof sessionStorageSchema>, SessionStorageOptions> = true;
void exact;

/**
 * `storage: 'session'` (the default): messages in the koa-session session under `key`, as a
 * list of compact tuples (see `codec.ts`).
 *
 * - The key is written only when the pending list changed, and removed when it becomes empty, so
 *   koa-session (which saves only when the session's JSON changed) writes nothing on requests that
 *   leave messages alone.
 * - When the session lives in koa-session's cookie (no `store`), the messages are kept within what
 *   a browser keeps of one cookie (4096 bytes of name and value, the app's own session data
 *   included): the oldest are dropped first and reported to `onDrop` as `'cookie-size'`, where a
 *   cookie the browser refuses would lose them all and log the visitor out.
 * - A handler that throws: Koa's error handler drops koa-session's `Set-Cookie`, so the session is
 *   committed at once and its cookies travel on the error; what the request added survives.
 *
 * @param options - `key`: the session key (`'messages'`).
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` when `key` is not a non-empty string, starts
 *   with `_`, or is a name the session object already uses (`length`, `save`, `toString`, …).
 */
export function sessionStorage(options?: SessionStorageOptions): MessageStorage {
  const { key } = parseOptions(sessionStorageSchema, options, 'sessionStorage()');
  return {
    name: 'session',
    // Only a request that entered before koa-session's middleware gets its handle now, marked so.
    enter: (ctx) => (sessionStarted(ctx) ? null : new SessionHandle(ctx, key, false)),
    open: (ctx) => new SessionHandle(ctx, key, true),
  };
}

/** One request's view of the session storage; also the session half of the fallback storage. */
export class SessionHandle implements StorageHandle {
  /** The stored value held invalid entries: rewrite (clean) it even if nothing changed. */
  #unclean = false;

  /**
   * @param outside - koa-session's middleware runs outside `messages()` on this request.
   * @param storage - the storage's name in errors.
   */
  constructor(
    readonly ctx: Context,
    readonly key: string,
    readonly outside: boolean,
    readonly storage = 'session',
  ) {}

  load(): readonly StoredMessage[] {
    const session = sessionOf(this.ctx, this.storage, this.outside);
    if (session === null) return [];
    const value = session[this.key];
    const { messages, clean } = decodeMessages(value);
    // A value that holds no message (garbage, `null`, `[]`: never written by us) is removed.
    if (!clean || (value !== undefined && messages.length === 0)) this.#unclean = true;
    return messages;
  }

  async save({
    pending,
    added,
    changed,
    headersSent,
    failed,
  }: SaveRequest): Promise<DropReport | void> {
    if (!changed && !this.#unclean) return;
    if (headersSent) {
      // koa-session could not send the cookie of a changed session (and would throw trying):
      // nothing is written, what was pending stays as it was.
      return added.length > 0 ? { reason: 'headers-sent', messages: added } : undefined;
    }
    const { ctx, key } = this;
    const session = sessionOf(ctx, this.storage, this.outside);
    if (session === null) {
      // The app logged the visitor out during this request: messages added for the next
      // response ("You have been logged out.") go into a fresh session.
      if (pending.length > 0)
        (ctx as { session?: unknown }).session = { [key]: encodeMessages(pending) };
      if (failed) await commitNow(ctx);
      return;
    }
    let dropped: readonly StoredMessage[] = [];
    if (pending.length > 0) {
      const encoded = encodeMessages(pending);
      session[key] = encoded;
      const fitted = fitSessionCookie(ctx, session, key, pending, encoded);
      dropped = fitted.dropped;
      if (fitted.kept.length > 0) session[key] = fitted.encoded;
      else delete session[key];
    } else if (key in session) delete session[key];
    if (failed) await commitNow(ctx);
    return dropped.length > 0 ? { reason: 'cookie-size', messages: dropped } : undefined;
  }
}
