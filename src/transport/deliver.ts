import { requeuedChannel, watchingReads } from '../diagnostics.js';
import { appError } from '../request/drops.js';
import type { RequestMessages } from '../request/request-messages.js';
import { MESSAGES_HEADER } from '../shared/wire.js';
import { encodeList } from './encode.js';
import { mergeHxTrigger } from './htmx.js';

/** The header this response should carry its messages in, if any. */
function transportOf(request: RequestMessages): 'x-messages' | 'hx-trigger' | null {
  if (request.wantsHeader) return 'x-messages';
  if (request.config.htmx && request.ctx.headers['hx-request'] === 'true') return 'hx-trigger';
  return null;
}

/**
 * End of request, before the store is saved: put the pending messages in a response header when
 * this response is an htmx request's (option `htmx`) or asked for it (`ctx.messages.toHeader()`),
 * and consume the ones sent.
 *
 * Only called when the response counts as delivering (delivery.ts). Left alone: a handler that
 * showed the messages itself (iterated them, as a boosted page's template does, or called
 * `ctx.ajax()`), and a redirect, whose headers `fetch` and htmx's XMLHttpRequest never see (they
 * follow it): the messages ride the followed response. What is not sent (no room left in
 * `maxHeaderBytes`, too large for any header, or its translation failed) stays pending, in
 * order, for the next response; a failed translation is the app's error, handed to its
 * `'error'` event without failing this response.
 */
export function deliverInHeader(request: RequestMessages): void {
  const { ctx, config } = request;
  const transport = transportOf(request);
  if (transport === null || request.used || ctx.headerSent) return;
  if (ctx.status >= 300 && ctx.status < 400) return;
  const pending = request.pending();
  if (pending.length === 0) return;

  const name = transport === 'x-messages' ? MESSAGES_HEADER : 'HX-Trigger';
  const own = transport === 'hx-trigger' ? ctx.res.getHeader('hx-trigger') : undefined;
  const existing = own === undefined ? undefined : String(own);
  const wrap = (list: string) =>
    existing === undefined ? `{"messages":${list}}` : mergeHxTrigger(existing, list);
  // The header around an empty list: what the app's events and the framing cost.
  const frame = wrap('[]');
  if (frame === null) return;
  const { json, sent, unsent, errors } = encodeList(
    pending,
    config.escape,
    config.maxHeaderBytes - frame.length + 2,
  );
  for (const error of errors) appError(ctx, error);
  if (unsent.length > 0 && requeuedChannel.hasSubscribers)
    requeuedChannel.publish({ ctx, transport, messages: unsent });
  if (sent.length === 0) return;

  ctx.set(name, wrap(json)!);
  request.consume();
  if (watchingReads()) request.noteRead(transport, sent);
  if (unsent.length > 0) request.requeue(unsent);
}
