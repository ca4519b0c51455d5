import { debuglog } from 'node:util';

import type { Context } from 'koa';

import type { SendingConfig } from '../config/messages-config.js';
import { checkUserId } from './check.js';
import type { Claim, Outbox, UserId } from './types.js';

const debug = debuglog('koa-messages');

/**
 * Whether a request may show messages, so that claiming the user's is worth a round trip: a GET
 * that is not a prefetch (a page), any htmx request, a request whose `Accept` prefers JSON to
 * HTML (`fetch` for `ctx.ajax()`). A form POST answered by a redirect, HEAD, OPTIONS, assets
 * fetched with `Accept: image/*` or `*\/*` claim nothing (docs/sending.md, "When messages are claimed").
 */
export function mayShow(ctx: Context): boolean {
  const h = ctx.headers;
  if (h['hx-request'] === 'true') return true;
  const method = ctx.method;
  if (method === 'GET') {
    // EventSource (the live endpoint, src/live/) claims for itself, as the stream goes on.
    if (h.accept === 'text/event-stream') return false;
    const purpose = h['sec-purpose'] ?? h['purpose'] ?? h['x-purpose'] ?? h['x-moz'];
    return !(typeof purpose === 'string' && /prefetch|prerender|preview/i.test(purpose));
  }
  if (method === 'HEAD' || method === 'OPTIONS') return false;
  const accept = h.accept;
  return (
    typeof accept === 'string' && accept.includes('json') && ctx.accepts('html', 'json') === 'json'
  );
}

/**
 * The request's user, when it claims (see {@link mayShow}): `undefined` when it does not claim or
 * has no user. Synchronous, before anything is claimed: the resolver's error, or a value that is
 * not a user id, fails the request with nothing consumed.
 */
export function userOf(ctx: Context, sending: SendingConfig): UserId | undefined {
  if (!(sending.claimOn ?? mayShow)(ctx)) return undefined;
  const given = sending.user(ctx);
  if (given === undefined || given === null) return undefined;
  return checkUserId(given, 'the user id that messages() option `user` returned');
}

/**
 * Claim what was sent to `user`: `undefined` when nothing is pending. An outbox that fails is a
 * request without the user's messages (they wait); it never fails the request.
 */
export async function claimOf(outbox: Outbox, user: UserId): Promise<Claim | undefined> {
  let claim: Claim;
  try {
    claim = await outbox.claim(user);
  } catch (error) {
    debug('claiming the messages sent to a user failed; they wait for a later request: %O', error);
    return undefined;
  }
  return claim.messages.length === 0 ? undefined : claim;
}
