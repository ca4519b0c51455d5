import type { Context } from 'koa';

import type { Config } from '../options.js';
import { MESSAGES_HEADER } from '../shared/wire.js';
import { internals, type MessageStore } from '../store.js';
import { encodeList } from './encode.js';
import { mergeHxTrigger } from './htmx.js';
import { type Marked, TO_HEADER } from './request.js';

/** The header this response should carry its messages in, if any. */
function transportOf(ctx: Context, config: Config): 'x-messages' | 'hx-trigger' | null {
  if ((ctx as Marked)[TO_HEADER] === true) return 'x-messages';
  if (config.htmx && ctx.headers['hx-request'] === 'true') return 'hx-trigger';
  return null;
}

/**
 * End of request, before the store is saved: put the pending messages in a response header when
 * this response is an htmx request's (option `htmx`) or asked for it (`ctx.messages.toHeader()`),
 * and consume the ones that fit.
 *
 * Only called when the response counts as delivering (`consume`: not failed, not 5xx, not HEAD,
 * OPTIONS or a prefetch). Left alone: a handler that showed the messages itself (iterated them, as
 * a boosted page's template does, or called `ctx.ajax()`), and a redirect, whose headers `fetch`
 * and htmx's XMLHttpRequest never see (they follow it): the messages ride the followed response.
 * What does not fit in `maxHeaderBytes` stays pending, in order, for the next response.
 */
export function deliverInHeader(ctx: Context, store: MessageStore, config: Config): void {
  const transport = transportOf(ctx, config);
  if (transport === null || store.used || ctx.headerSent) return;
  if (ctx.status >= 300 && ctx.status < 400) return;
  const pending = internals.pending(store);
  if (pending.length === 0) return;

  const name = transport === 'x-messages' ? MESSAGES_HEADER : 'HX-Trigger';
  const own = transport === 'hx-trigger' ? ctx.res.getHeader('hx-trigger') : undefined;
  const existing = own === undefined ? undefined : String(own);
  const wrap = (list: string) =>
    existing === undefined ? `{"messages":${list}}` : mergeHxTrigger(existing, list);
  // The header around an empty list: what the app's events and the framing cost.
  const frame = wrap('[]');
  if (frame === null) return;
  const { json, count } = encodeList(
    pending,
    config.escape,
    config.maxHeaderBytes - frame.length + 2,
  );
  if (count === 0) return;
  const value = wrap(json)!;

  ctx.set(name, value);
  internals.consume(store);
  if (count < pending.length) internals.requeue(store, pending.slice(count));
}
