import { debuglog } from 'node:util';

import type { StoredMessage } from '../types.js';
import { newToken } from './random.js';
import { counterKey, decodeEntries, listKey, recordKey, type Room } from './room.js';
import { CLAIM, GIVE_BACK } from './scripts.js';
import type { Visitor } from './visitor.js';

const debug = debuglog('koa-messages');

/** The claim of one visitor id: one script, on the server that holds that id's key. */
export interface Claim {
  readonly id: string;
  /** The name of its record in Redis (see scripts.ts): a retry, or the give-back, finds it. */
  readonly token: string;
  /**
   * `done`: it ran and its result is in hand; `missed`: it certainly took nothing (it came too
   * late); `unknown`: it may have run, and `givingBack` puts back what it took, if anything.
   */
  readonly status: 'done' | 'missed' | 'unknown';
  /** For an `unknown` claim: resolves true once what it took is certainly back in the list. */
  givingBack?: Promise<boolean>;
}

/** Per request: who the visitor is and what was claimed. */
export interface RequestState {
  readonly visitor: Visitor;
  /** One per claimed id, in `visitor.claimIds` order; empty when nothing was claimed. */
  claims: Claim[];
}

/**
 * Put back what an unanswered claim took (from its record in Redis), so that nothing the
 * claimant never saw is lost. Resolves `true` once certainly done (or nothing was taken).
 */
async function giveBack(room: Room, id: string, token: string): Promise<boolean> {
  const { prefix, ttl } = room.config;
  try {
    const keys = [recordKey(prefix, id, 'c', token), listKey(prefix, id)];
    const reply = await room.exchange.run(GIVE_BACK, keys, [0, room.hold, ttl]);
    if (!reply.done) debug('a give-back ran too late; what the claim took is lost');
    return reply.done;
  } catch (error) {
    debug('a give-back failed; what the claim took, if anything, is lost: %s', error);
    return false;
  }
}

/**
 * Claim one id. Each id has its own script (in a cluster its key may live on another server),
 * so exactly-once holds per id: see docs/redis-cluster.md.
 */
async function claimOne(room: Room, id: string): Promise<[Claim, StoredMessage[]]> {
  const { prefix } = room.config;
  const token = newToken();
  try {
    const keys = [recordKey(prefix, id, 'c', token), counterKey(prefix, id), listKey(prefix, id)];
    const reply = await room.exchange.run(CLAIM, keys, [0, room.hold]);
    // Ran too late (the server clock estimate was cautious): nothing was taken.
    if (!reply.done) return [{ id, token, status: 'missed' }, []];
    return [{ id, token, status: 'done' }, decodeEntries(reply.rest)];
  } catch (error) {
    debug('claim failed, going on with no stored messages: %s', error);
    // It may have run: its record goes back to the list before this response leaves (save).
    return [{ id, token, status: 'unknown', givingBack: giveBack(room, id, token) }, []];
  }
}

/** Claim every id `state`'s visitor may have messages under; records the claims in `state`. */
export async function claim(room: Room, state: RequestState): Promise<StoredMessage[]> {
  const results = await Promise.all(state.visitor.claimIds.map((id) => claimOne(room, id)));
  state.claims = results.map(([c]) => c);
  return results.flatMap(([, messages]) => messages);
}
