import { debuglog } from 'node:util';

import { report } from '../request/drops.js';
import type { RequestMessages } from '../request/request-messages.js';

const debug = debuglog('koa-messages');

/**
 * End the request's claim on its user's outbox, after `plan()`: what was shown (or replaced by a
 * key, or expired) is acked, what stays pending is given back ahead of newer sends. A failure is
 * not the request's: the outbox's lease returns an unsettled claim to the user later
 * (docs/sending.md), so it is only logged.
 */
export async function settleClaim(request: RequestMessages): Promise<void> {
  const outcome = request.claimOutcome;
  if (outcome === undefined) return;
  const { claim, kept, done, expired } = outcome;
  const { ctx, config } = request;
  if (expired !== undefined) report(ctx, config, { ctx, reason: 'expired', messages: expired });
  const work: Promise<void>[] = [];
  if (done.length > 0) work.push(claim.ack(done));
  if (kept.length > 0) work.push(claim.giveBack(kept));
  for (const result of await Promise.allSettled(work)) {
    if (result.status === 'rejected')
      debug('settling the claim on a user outbox failed; its lease returns it: %O', result.reason);
  }
}
