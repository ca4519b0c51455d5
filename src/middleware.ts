import './context.js';

import { debuglog } from 'node:util';

import type { Context, DefaultContext, DefaultState, Middleware } from 'koa';

import { ajax } from './ajax-response.js';
import { markPrivate } from './headers.js';
import { type Config, type DropEvent, type MessagesOptions, parseOptions } from './options.js';
import { LEVELS } from './shared/levels.js';
import type { DropReport, SaveRequest } from './storage/types.js';
import { DELIVERED, FINISH, MessageStore } from './store.js';
import { deliverInHeader } from './transport/deliver.js';

const debug = debuglog('koa-messages');

const STORE = Symbol('koa-messages store');
const CONFIG = Symbol('koa-messages config');

type Internal = Context & { [STORE]?: MessageStore; [CONFIG]?: Config };

// app.context objects that already have the getters.
const extended = new WeakSet<object>();

/**
 * Put `ctx.messages` and `ctx.ajax` on an app's context prototype, once per app (as koa-session's
 * `extendContext` does): nothing is defined on each request's ctx.
 */
function extendContext(proto: object): void {
  Object.defineProperties(proto, {
    messages: {
      configurable: true,
      get(this: Internal) {
        const store = this[STORE];
        if (store === undefined) {
          throw new TypeError(
            'koa-messages: ctx.messages was used where messages() middleware has not run; ' +
              'app.use(messages()) must come before the middleware or router that uses it.',
          );
        }
        return store;
      },
    },
    ajax: {
      configurable: true,
      writable: true,
      value(this: Internal, data?: unknown, success?: unknown, init?: unknown) {
        return ajax(this, this.messages, this[CONFIG]!, data, success, init);
      },
    },
  });
  extended.add(proto);
}

/**
 * Whether delivering messages in this response counts: never for HEAD and OPTIONS (no body reaches
 * a person) nor for a browser's prefetch or prerender, which the person may never look at.
 */
function mayConsume(ctx: Context): boolean {
  if (ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return false;
  const h = ctx.headers;
  const purpose = h['sec-purpose'] ?? h['purpose'] ?? h['x-purpose'] ?? h['x-moz'];
  return !(typeof purpose === 'string' && /prefetch|prerender|preview/i.test(purpose));
}

function report(config: Config, event: DropEvent): void {
  if (event.messages.length === 0) return;
  if (config.onDrop !== undefined) config.onDrop(event);
  else debug('dropped %d message(s): %s', event.messages.length, event.reason);
}

const NOTHING_DROPPED: SaveRequest['kept'] = Object.freeze([]);

/** Keep at most `maxMessages`, dropping the oldest (stored ones first). */
function bound(
  plan: SaveRequest,
  max: number,
): { plan: SaveRequest; dropped: SaveRequest['kept'] } {
  const excess = plan.kept.length + plan.added.length - max;
  if (excess <= 0) return { plan, dropped: NOTHING_DROPPED };
  const all = [...plan.kept, ...plan.added];
  const fromKept = Math.min(excess, plan.kept.length);
  return {
    plan: {
      kept: plan.kept.slice(fromKept),
      added: plan.added.slice(excess - fromKept),
      changed: true,
    },
    dropped: all.slice(0, excess),
  };
}

/**
 * End of request (Django's `MessageMiddleware.process_response` + `storage.update`): save what
 * stays pending, report what could not be kept, and mark responses that delivered messages private.
 */
async function finish(
  ctx: Internal,
  store: MessageStore,
  config: Config,
  failed: boolean,
): Promise<void> {
  const consume = !failed && ctx.status < 500 && mayConsume(ctx);
  if (consume) deliverInHeader(ctx, store, config);
  const planned = store[FINISH](consume);
  if (planned === null) return;
  const { plan, dropped } = bound(planned, config.maxMessages);
  if (dropped.length > 0) report(config, { ctx, reason: 'max-messages', messages: dropped });
  let result: DropReport | void;
  try {
    result = await config.storage.save(ctx, plan);
  } catch (error) {
    report(config, { ctx, reason: 'storage-error', messages: plan.added, error });
    throw error;
  }
  if (result) report(config, { ctx, ...result });
  // Whether or not they count as consumed: a prefetch, HEAD or 503 that showed messages is one visitor's too.
  if (store[DELIVERED]) markPrivate(ctx);
}

/**
 * Carry the `Set-Cookie` headers a storage set while finishing a failed request onto the error:
 * Koa's error handler removes every header set before the error and then sets `err.headers`.
 */
function carryCookies(error: unknown, before: string[], after: string[]): void {
  if (typeof error !== 'object' || error === null) return;
  const added = after.filter((cookie) => !before.includes(cookie));
  if (added.length === 0) return;
  const target = error as { headers?: Record<string, unknown> };
  const headers = { ...target.headers };
  const existing = headers['set-cookie'] ?? headers['Set-Cookie'];
  delete headers['Set-Cookie'];
  headers['set-cookie'] = [
    ...(Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]),
    ...added,
  ];
  // A frozen error, or one whose `headers` is a getter, cannot take them: the app's own error (and
  // its status) must reach Koa unchanged, so the cookie is given up rather than the error replaced.
  if (!Reflect.set(target, 'headers', headers))
    debug('could not carry Set-Cookie onto a read-only error');
}

const setCookies = (ctx: Context): string[] => {
  const value = ctx.response.headers['set-cookie'];
  return Array.isArray(value) ? value.slice() : value === undefined ? [] : [String(value)];
};

/**
 * The messages middleware: gives every request `ctx.messages` and `ctx.ajax()`.
 *
 * Install it after the session middleware when using session storage:
 *
 * @param options - see {@link MessagesOptions}: `storage` (`'session'`), `sessionKey` (`'messages'`),
 *   `level` (`'info'`), `tags` (`{}`), `escape` (`true`), `maxMessages` (`100`), `onDrop`.
 * @throws {TypeError} `koa-messages: …` for unknown or malformed options.
 * @example
 * app.use(session(app));
 * app.use(messages());
 * router.post('/vote', (ctx) => { ctx.messages.success('Vote recorded.'); ctx.ajax({ votes }, true); });
 */
export function messages<StateT = DefaultState, ContextT = DefaultContext>(
  options?: MessagesOptions,
): Middleware<StateT, ContextT> {
  const config = parseOptions(options);
  const { storage } = config;

  return async function messages(context, next) {
    const ctx = context as unknown as Internal;
    // Installed twice (app and router): the outer one owns the request.
    if (ctx[STORE] !== undefined) return next();
    if (!extended.has(ctx.app.context)) extendContext(ctx.app.context);

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
    ctx[STORE] = store;
    ctx[CONFIG] = config;
    // For template engines (Django's context processor): lazy, consumed only if iterated.
    ctx.state.messages = store;
    ctx.state.messageLevels = LEVELS;

    try {
      await next();
    } catch (error) {
      const before = setCookies(ctx);
      try {
        await finish(ctx, store, config, true);
      } catch (saveError) {
        debug('saving messages after a failed request failed too: %O', saveError);
      }
      carryCookies(error, before, setCookies(ctx));
      throw error;
    }
    await finish(ctx, store, config, false);
  };
}
