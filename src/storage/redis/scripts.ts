import { createHash } from 'node:crypto';

import type { ScriptClient } from './client.js';

/**
 * The Lua scripts the Redis storage runs. Each is one atomic step on the server: no other
 * command, from any process, runs between its reads and writes. A visitor's messages are one
 * Redis LIST of JSON-encoded tuples (see `codec.ts`), oldest first.
 *
 * Every script is safe to run twice (docs/contributing/redis-hint-proof.md, "Retried scripts"). A reply can be
 * lost after Redis ran the script (a reset connection, a failover); ioredis then sends the same
 * command again on the new connection, and the storage itself re-sends one that node-redis
 * rejected. So each call carries a random name, and its first run leaves a short-lived record
 * under that name (`hold` ms) which a second run answers from instead of doing the work again:
 *
 * - save: the record `<key>:s:<id>` says it ran (and what it dropped for `maxMessages`);
 * - claim: the record `<key>:c:<token>` holds what it took, so a second run returns the same
 *   messages instead of an empty list; the give-back script moves them back to the list when the
 *   claimant never read the answer, and leaves a tombstone so a later run takes nothing.
 *
 * Each also takes a deadline in the server's clock (ARGV[1], ms; 0 for none) and does nothing when
 * it first runs after it: the app gave up waiting by then, and a command that ran later would move
 * messages behind its answer's back (see `server-clock.ts`). The record is checked BEFORE the
 * deadline, so a run after the deadline answers the truth: "it ran" (with the same result) or
 * "it did not and never will". All return { done (1, or 0 when too late), server time in ms, ... }.
 *
 * Anything under a key that is not of the expected type (another app, a hand edit) is deleted,
 * never thrown on: a WRONGTYPE error would otherwise fail that visitor's every request.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = tonumber(ARGV[1])
local late = deadline > 0 and now > deadline
local function pushAll(key, cmd, items, from)
  for i = from, #items, 1000 do
    redis.call(cmd, key, unpack(items, i, math.min(i + 999, #items)))
  end
end
local function extend(key, ms)
  if redis.call('PTTL', key) < tonumber(ms) then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * Claim: take and delete everything under one visitor's list. KEYS = record (`:c:<token>`),
 * hint counter, list, and on a standalone server the same visitor's list as the previous version
 * wrote it (prefix + id, read first since it is older). ARGV = deadline, hold ms.
 * Returns {1, now, entry...}; a second run returns the same entries (or none once given back).
 */
export const CLAIM = `${PRELUDE}
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'list' then
  local out = {1, now}
  local copy = redis.call('LRANGE', KEYS[1], 1, -1)
  for j = 1, #copy do out[#out + 1] = copy[j] end
  return out
end
if kind ~= 'none' then return {1, now} end
if late then return {0, now} end
local out = {1, now}
local taken = {'claimed'}
for i = #KEYS, 3, -1 do
  local k = redis.call('TYPE', KEYS[i]).ok
  if k == 'list' then
    local items = redis.call('LRANGE', KEYS[i], 0, -1)
    for j = 1, #items do
      out[#out + 1] = items[j]
      taken[#taken + 1] = items[j]
    end
  end
  if k ~= 'none' then redis.call('DEL', KEYS[i]) end
end
redis.call('DEL', KEYS[2])
pushAll(KEYS[1], 'RPUSH', taken, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return out
`;

/**
 * Give back what a claim took when the claimant never read the answer: the record's entries go
 * back to the FRONT of the list, and the record becomes a tombstone (a later run of that claim
 * takes nothing). KEYS = record, list. ARGV = deadline, hold ms, ttl ms. Returns {1, now}.
 */
export const GIVE_BACK = `${PRELUDE}
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then return {1, now} end
if late then return {0, now} end
if kind == 'list' then
  local items = redis.call('LRANGE', KEYS[1], 1, -1)
  if #items > 0 then
    local k = redis.call('TYPE', KEYS[2]).ok
    if k ~= 'list' and k ~= 'none' then redis.call('DEL', KEYS[2]) end
    for i = #items, 1, -1 do redis.call('LPUSH', KEYS[2], items[i]) end
    extend(KEYS[2], ARGV[3])
  end
end
redis.call('SET', KEYS[1], 'given back', 'PX', ARGV[2])
return {1, now}
`;

/**
 * Save: put the kept entries back at the FRONT (in order) and append the added ones at the END,
 * drop the oldest beyond `max` (0: no bound), count the save in the hint counter (saves since
 * the list was last empty), and make the list live at least `ttl` ms. KEYS = record (`:s:<id>`), hint counter, list.
 * ARGV = deadline, hold ms, ttl ms, max, number of kept entries, kept..., added...
 * Returns {1, now, saves since the last claim, dropped entry...}; a second run the same.
 */
export const SAVE = `${PRELUDE}
if redis.call('TYPE', KEYS[1]).ok == 'list' then
  local out = {1, now}
  local record = redis.call('LRANGE', KEYS[1], 0, -1)
  for j = 1, #record do out[#out + 1] = record[j] end
  return out
end
if late then return {0, now} end
local key = KEYS[3]
local kind = redis.call('TYPE', key).ok
if kind ~= 'list' and kind ~= 'none' then redis.call('DEL', key) end
local kept = tonumber(ARGV[5])
for i = 5 + kept, 6, -1 do redis.call('LPUSH', key, ARGV[i]) end
for i = 6 + kept, #ARGV, 1000 do
  redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local record = {0}
local max = tonumber(ARGV[4])
if max > 0 then
  local excess = redis.call('LLEN', key) - max
  if excess > 0 then
    local dropped = redis.call('LRANGE', key, 0, excess - 1)
    redis.call('LTRIM', key, excess, -1)
    for j = 1, #dropped do record[#record + 1] = dropped[j] end
  end
end
extend(key, ARGV[3])
-- The counter exists only from a visitor's second save without a claim between: a list that was
-- empty had no save since its last claim (the common case costs no key).
if kind == 'list' then
  if redis.call('TYPE', KEYS[2]).ok ~= 'string' then redis.call('SET', KEYS[2], 1) end
  record[1] = redis.call('INCR', KEYS[2])
  extend(KEYS[2], ARGV[3])
else
  redis.call('DEL', KEYS[2])
  record[1] = 1
end
pushAll(KEYS[1], 'RPUSH', record, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local out = {1, now}
for j = 1, #record do out[#out + 1] = record[j] end
return out
`;

const shas = new Map<string, string>();
const sha1 = (script: string): string => {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  return sha;
};

/**
 * Run a script by its SHA (one short command), sending its text only when the server does not
 * know it yet (first use, or after a Redis restart emptied the script cache).
 */
export async function runScript(
  client: ScriptClient,
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(sha1(script), keys, args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    // Each server has its own script cache: in a cluster, the node that owns this key.
    return client.eval(script, keys, args);
  }
}
