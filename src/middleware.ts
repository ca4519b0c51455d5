import './context.js';

import { createRequire } from 'node:module';
import { debuglog } from 'node:util';

import type { Context, DefaultContext, DefaultState, Middleware } from 'koa';

import { respondAjax } from './ajax-response.js';
import { carryCookies, commit, setCookies } from './commit.js';
import { MessagesError } from './errors.js';
import { flash } from './flash.js';
import { type Config, type MessagesOptions, parseOptions } from './options.js';
import { LEVELS } from './shared/levels.js';
import { resolveStorage } from './storage/named.js';
import { internals, MessageStore } from './store.js';

const debug = debuglog('koa-messages');

/**
 * What `messages()` puts on `ctx`: the request's store and the `ctx.ajax()` that goes with it.
 * Registered (`Symbol.for`), and carrying its own `ajax`, so that two copies of koa-messages in one
 * process (two versions in node_modules) share the context's getters without mixing their stores.
 */
const REQUEST = Symbol.for('koa-messages.request');

interface RequestRecord {
  readonly store: MessageStore;
  readonly ajax: typeof respondAjax;
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
        const { store, ajax } = recordOf(this);
        return ajax(this, store, data, success, init);
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
      if (record === undefined || !internals.config(record.store).flash) {
        throw new MessagesError(
          'ERR_KOA_MESSAGES_NOT_INSTALLED',
          'ctx.flash was called where messages({ flash: true }) has not run.',
        );
      }
      return flash(record.store, args);
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
 * @throws {MessagesError} `ERR_KOA_MESSAGES_OPTION` for unknown, malformed or inapplicable options.
 * @example
 * app.use(session(app));
 * app.use(messages());
 * router.post('/vote', (ctx) => { ctx.messages.success('Vote recorded.'); ctx.ajax({ votes }, true); });
 */
export function messages<StateT = DefaultState, ContextT = DefaultContext>(
  options?: MessagesOptions,
): Middleware<StateT, ContextT> {
  const parsed = parseOptions(options);
  const storage = resolveStorage(parsed.storage);
  const config: Config = Object.freeze({ ...parsed.core, storage });
  const shared = sharedKoaContext();
  if (shared !== undefined) extendContext(shared);

  return async function messages(context, next) {
    const ctx = context as unknown as WithRecord;
    // Installed twice (app and router): the outer one owns the request.
    if (ctx[REQUEST] !== undefined) return next();
    // An app built on another copy of Koa than the one this package resolves.
    if (!('messages' in ctx)) extendContext((ctx as Context).app.context);
    if (config.flash && !flashing.has(ctx.app.context)) extendFlash(ctx.app.context);

    let preloaded;
    const preloading = storage.preload?.(ctx) ?? null;
    if (preloading !== null) {
      try {
        preloaded = await preloading;
      } catch (error) {
        // A storage should answer "nothing pending" itself when its backend is down; this is the net.
        debug('preload failed, going on without stored messages: %O', error);
        preloaded = [];
      }
    }
    const store = new MessageStore(ctx, config, preloaded);
    ctx[REQUEST] = { store, ajax: respondAjax };
    // For template engines (Django's context processor): lazy, consumed only if iterated.
    ctx.state.messages = store;
    ctx.state.messageLevels = LEVELS;

    try {
      await next();
    } catch (error) {
      const before = setCookies(ctx);
      try {
        await commit(ctx, store, true);
      } catch (saveError) {
        debug('saving messages after a failed request failed too: %O', saveError);
      }
      carryCookies(error, before, setCookies(ctx));
      throw error;
    }
    await commit(ctx, store, false);
  };
}
