import { debuglog } from 'node:util';

import type { Context } from 'koa';

import type { DropReport, SaveRequest, StoredMessage } from '../types.js';
import type { RequestState } from './claim.js';
import { newId, newToken } from './random.js';
import { ResponseCookies } from './response-cookies.js';
import { counterKey, decodeEntries, encode, listKey, recordKey, type Room } from './room.js';
import { SAVE } from './scripts.js';

const debug = debuglog('koa-messages');

/**
 * Fresh hint cookies per visitor id between two claims of it; further saves set the marker
 * instead, so a visitor's cookies stay under 4 KB whatever the request pattern (docs/contributing/redis-hint-proof.md).
 */
const HINTS_PER_ID = 8;

interface Saved {
  /** Certainly stored; `false`: certainly not, or unknown (then `error` says which). */
  readonly stored: boolean;
  /** Saves of this id since its last claim, this one included. */
  readonly saves: number;
  /** The oldest entries dropped to keep `maxMessages`. */
  readonly dropped: readonly StoredMessage[];
  readonly error?: unknown;
}

/** Put `kept` at the front and `added` at the end of `id`'s list, keeping at most `max` (0: any). */
async function store(
  room: Room,
  id: string,
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
  max: number,
  life: number,
): Promise<Saved> {
  const { prefix } = room.config;
  const keys = [
    recordKey(prefix, id, 's', newToken()),
    counterKey(prefix, id),
    listKey(prefix, id),
  ];
  try {
    // The script's arguments, built in place: deadline (set by the exchange), hold, life, max,
    // how many are kept, the entries.
    const args: (string | number)[] = [0, room.hold, life, max, kept.length];
    for (const m of kept) args.push(encode(m));
    for (const m of added) args.push(encode(m));
    const reply = await room.exchange.run(SAVE, keys, args);
    if (!reply.done) {
      const error = new Error('koa-messages: Redis ran the save after its deadline and skipped it');
      return { stored: false, saves: 0, dropped: [], error };
    }
    return {
      stored: true,
      saves: Number(reply.rest[0]),
      dropped: decodeEntries(reply.rest.slice(1)),
    };
  } catch (error) {
    debug('save failed: %s', error);
    return { stored: false, saves: 0, dropped: [], error };
  }
}

function outcome(
  saved: Saved,
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
): DropReport | void {
  if (!saved.stored)
    return { reason: 'storage-error', messages: [...kept, ...added], error: saved.error };
  if (saved.dropped.length > 0) return { reason: 'max-messages', messages: saved.dropped };
}

/**
 * The save of a request whose headers are already sent (server-sent events, `ctx.respond =
 * false`): no cookie can be set or deleted, so the browser keeps every hint it sent, and any
 * of them (or the marker) makes its next request claim the visitor's own id (see `identify`).
 * What goes there is found; without such a cookie nothing would lead to it: reported.
 */
async function saveAfterHeaders(
  room: Room,
  state: RequestState,
  kept: readonly StoredMessage[],
  added: readonly StoredMessage[],
  max: number,
): Promise<DropReport | void> {
  const { visitor } = state;
  if (kept.length + added.length === 0) return;
  const led = room.config.hint
    ? visitor.hints.length > 0 || visitor.always !== undefined
    : visitor.id !== undefined;
  if (!led || visitor.id === undefined)
    return { reason: 'headers-sent', messages: [...kept, ...added] };
  return outcome(await store(room, visitor.id, kept, added, max, room.config.ttl), kept, added);
}

/** After the handler: give back, store, and set the cookies that lead the next request. */
export async function save(
  room: Room,
  ctx: Context,
  state: RequestState,
  { kept, added, maxMessages, headersSent }: SaveRequest,
): Promise<DropReport | void> {
  const { config } = room;
  const { visitor, claims } = state;
  // What unanswered claims took goes back before the response leaves (the hint proof), in
  // parallel with the save: a request waits at most two timeouts for each (claim, save).
  const givingBack = Promise.all(
    claims.flatMap((c) => (c.givingBack === undefined ? [] : [c.givingBack])),
  );
  const max = maxMessages ?? 0;
  if (headersSent || ctx.headerSent) {
    const report = await saveAfterHeaders(room, state, kept, added, max);
    await givingBack;
    return report;
  }
  const cookies = new ResponseCookies(ctx, config);
  // A hint this request carried is spent only when the claim of its id certainly ran.
  const claimed = new Set(claims.filter((c) => c.status === 'done').map((c) => c.id));
  if (claimed.size > 0) cookies.clear(visitor.hints, claimed);
  // Messages an unanswered claim gave back need a fresh hint, as any save does (rule 1 of
  // docs/contributing/redis-hint-proof.md).
  for (const id of new Set(claims.filter((c) => c.status === 'unknown').map((c) => c.id)))
    cookies.hint(id);
  const count = kept.length + added.length;
  if (count === 0) {
    await givingBack;
    return cookies.send();
  }
  let id = visitor.id;
  const isNew = id === undefined;
  if (id === undefined) {
    if (config.key !== undefined) {
      cookies.send();
      return {
        reason: 'storage-error',
        messages: [...kept, ...added],
        error: new Error('koa-messages: key(ctx) gave no key to store messages under'),
      };
    }
    id = newId();
  }
  // A new visitor's key lives `newVisitorTtl` (at most `ttl`) until it comes back (a flood
  // without cookies).
  const life = isNew ? Math.min(config.newVisitorTtl, config.ttl) : config.ttl;
  const [saved] = await Promise.all([store(room, id, kept, added, max, life), givingBack]);
  if (visitor.needsIdCookie) cookies.id(id);
  // One fresh hint per save, but no more than HINTS_PER_ID since the id's last claim: past
  // that, the marker, which is never deleted, so it needs no fresh name (docs/contributing/redis-hint-proof.md).
  if (visitor.always === id || (saved.stored && saved.saves > HINTS_PER_ID)) cookies.always(id);
  else cookies.hint(id);
  cookies.send();
  return outcome(saved, kept, added);
}
