import './context.js';

import { createRequire } from 'node:module';
import { debuglog } from 'node:util';

import type { Context, DefaultContext, DefaultState, Middleware } from 'koa';

import { type Config, parseMessagesOptions } from './config/messages-config.js';
import { type MessagesOptions } from './config/messages-options.js';
import { storageChannel, traceStorage } from './diagnostics.js';
import { MessagesError } from './errors.js';
import { commit } from './request/commit.js';
import { flash } from './request/flash.js';
import { RequestMessages } from './request/request-messages.js';
import { claimOf, userOf } from './sending/enter.js';
import { LEVELS } from './shared/levels.js';
import type { StorageHandle } from './storage/types.js';
import { respondAjax } from './transport/ajax.js';

const debug = debuglog('koa-messages');

/**
 * Where `messages()` keeps the request's {@link RequestMessages} on `ctx`. Registered
 * (`Symbol.for`), and the record carries its own `ajax` and `flash`, so that two copies of
 * koa-messages in one process (two versions in node_modules) share the context's getters without
 * mixing their requests.
 */
const REQUEST = Symbol.for('koa-messages.request');

/** What every copy of koa-messages finds under {@link REQUEST}. */
interface RequestRecord {
  readonly store: object;
  readonly config: { readonly flash: boolean };
  ajax(data: unknown, success: unknown, init: unknown): unknown;
  flash(args: unknown[]): unknown;
}

type WithRecord = Context & { [REQUEST]?: RequestRecord };

function recordOf(ctx: WithRecord): RequestRecord {
  const record = ctx[REQUEST];
  if (record === undefined) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_NOT_INSTALLED',
      'ctx.messages was used where messages() middleware has not run; ' +
        'app.use(messages()) must come before the middleware or router that uses it.',
    );
  }
  return record;
}

/**
 * Put `ctx.messages` and `ctx.ajax` on a context prototype (as koa-session's `extendContext`
 * does): nothing is defined on each request's ctx. Left alone when already there (another copy).
 */
function extendContext(proto: object): void {
  if (Object.hasOwn(proto, 'messages')) return;
  Object.defineProperties(proto, {
    messages: {
      configurable: true,
      get(this: WithRecord) {
        return recordOf(this).store;
      },
    },
    ajax: {
      configurable: true,
      writable: true,
      value(this: WithRecord, data?: unknown, success?: unknown, init?: unknown) {
        return recordOf(this).ajax(data, success, init);
      },
    },
  });
}

// app.context objects that have our ctx.flash.
const flashing = new WeakSet<object>();

/**
 * `ctx.flash` on an app's context prototype, only for apps that enable it: another `flash` (the
 * app's own, koa-flash's) is a setup error, not something to overwrite.
 */
function extendFlash(proto: object): void {
  if ('flash' in proto) {
    throw new MessagesError(
      'ERR_KOA_MESSAGES_OPTION',
      'option `flash` is true but ctx.flash is already defined on this app (another flash ' +
        'middleware, or the app itself); remove the other one or leave `flash` off.',
    );
  }
  Object.defineProperty(proto, 'flash', {
    configurable: true,
    writable: true,
    value(this: WithRecord, ...args: unknown[]) {
      const record = this[REQUEST];
      if (!record?.config.flash) {
        throw new MessagesError(
          'ERR_KOA_MESSAGES_NOT_INSTALLED',
          'ctx.flash was called where messages({ flash: true }) has not run.',
        );
      }
      return record.flash(args);
    },
  });
  flashing.add(proto);
}

/**
 * Koa's shared context prototype, which every app's `app.context` inherits from, from the `koa`
 * this package resolves (a peer dependency); `undefined` if it cannot be loaded.
 *
 * `messages()` is not handed the app (koa-session's `session(app)` is, and extends `app.context`
 * at set-up). Extending the shared prototype when `messages()` is called gives every app the
 * getters before its first request, so a handler that runs where `messages()` has not gets the
 * explanatory error instead of `Cannot read properties of undefined`.
 */
function sharedKoaContext(): object | undefined {
  try {
    const proto: unknown = createRequire(import.meta.url)('koa/lib/context.js');
    return typeof proto === 'object' && proto !== null ? proto : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The messages middleware: gives every request `ctx.messages` and `ctx.ajax()`.
 *
 * Install it after the session middleware when using the session or fallback storage.
 *
 * @param options - see {@link MessagesOptions}.
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for unknown or malformed options.
 * @example
 * app.use(session(app));
 * app.use(messages());
 * router.post('/vote', (ctx) => { ctx.messages.success('Vote recorded.'); ctx.ajax({ votes }, true); });
 */
export function messages<StateT = DefaultState, ContextT = DefaultContext>(
  options?: MessagesOptions,
): Middleware<StateT, ContextT> {
  const config = parseMessagesOptions(options);
  const { storage } = config;
  const shared = sharedKoaContext();
  if (shared !== undefined) extendContext(shared);

  const enter = storage.enter?.bind(storage);
  const sending = config.sending;
  let extended: object | undefined;

  return async function messages(context, next) {
    const ctx = context as unknown as WithRecord;
    // Installed twice (app and router): the outer one owns the request.
    if (ctx[REQUEST] !== undefined) {
      await next();
      return;
    }
    if (ctx.app.context !== extended) extendApp(ctx.app.context, config);
    extended = ctx.app.context;

    // The user's messages (docs/sending.md) are claimed before the handler, as ctx.messages is
    // synchronous, alongside the storage's enter. The resolver runs first: its error fails the
    // request before anything is claimed.
    const user = sending === undefined ? undefined : userOf(ctx, sending);
    const claiming =
      user === undefined || sending === undefined ? undefined : claimOf(sending.outbox, user);

    let handle: StorageHandle | undefined;
    const entered =
      enter === undefined
        ? null
        : storageChannel.start.hasSubscribers
          ? traceStorage(ctx, storage, 'enter', enter, ctx)
          : enter(ctx);
    if (entered !== null) {
      try {
        handle = await entered;
      } catch (error) {
        // A storage should answer "nothing pending" itself when its backend is down; this is the net.
        debug('the storage failed before the handler, going on without stored messages: %O', error);
        handle = undefined;
      }
    }
    const claim = claiming === undefined ? undefined : await claiming;
    const request = new Request(ctx, config, handle, claim);
    ctx[REQUEST] = request;
    // For template engines (Django's context processor): lazy, consumed only if iterated.
    ctx.state.messages = request.store;
    ctx.state.messageLevels = LEVELS;

    try {
      await next();
    } catch (error) {
      try {
        await commit(request, true, error);
      } catch (commitError) {
        debug('finishing the messages of a failed request failed too: %O', commitError);
      }
      throw error;
    }
    // A request that never touched messages has nothing to commit: no second async step.
    if (request.touched || request.wantsHeaderTransport()) await commit(request, false);
  };
}

/** The app's context gets `ctx.messages` (when another copy of Koa made it) and `ctx.flash`. */
function extendApp(proto: object, config: Config): void {
  // An app built on another copy of Koa than the one this package resolves.
  if (!('messages' in proto)) extendContext(proto);
  if (config.flash && !flashing.has(proto)) extendFlash(proto);
}

/** The record of this copy: {@link RequestMessages} with the entry points other copies call. */
class Request extends RequestMessages implements RequestRecord {
  ajax(data: unknown, success: unknown, init: unknown): unknown {
    return respondAjax(this, data, success, init);
  }

  flash(args: unknown[]): unknown {
    return flash(this, args);
  }
}
