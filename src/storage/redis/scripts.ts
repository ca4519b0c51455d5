import { createHash } from 'node:crypto';

import type { ScriptClient } from './client.js';

/**
 * The two Lua scripts the Redis storage runs. Each is one atomic step on the server: no other
 * command, from any process, runs between its reads and writes. A visitor's messages are one
 * Redis LIST of JSON-encoded tuples (see `codec.ts`), oldest first.
 *
 * Both take a deadline in the server's clock (ARGV[1], milliseconds; 0 for none) and do nothing
 * when they run after it: the app gave up waiting by then and answered its request, and a
 * command that ran later would move messages behind that answer's back (see `redis-clock.ts`).
 * Both return { done (1, or 0 when too late), server time in ms, ... }.
 *
 * Anything under a key that is not a list (another app, a hand edit) is deleted, never thrown
 * on: a WRONGTYPE error would otherwise fail that visitor's every request.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = tonumber(ARGV[1])
if deadline > 0 and now > deadline then return {0, now} end
`;

/**
 * Claim: take and delete everything under one visitor's key (KEYS[1]); returns
 * {1, now, entry...}. In a standalone server KEYS[2], when given, is the same visitor's key as
 * the previous version wrote it (prefix + id, no hash tag): read first, since it is older.
 */
export const CLAIM = `${PRELUDE}
local out = {1, now}
for i = #KEYS, 1, -1 do
  local kind = redis.call('TYPE', KEYS[i]).ok
  if kind == 'list' then
    local items = redis.call('LRANGE', KEYS[i], 0, -1)
    for j = 1, #items do out[#out + 1] = items[j] end
  end
  if kind ~= 'none' then redis.call('DEL', KEYS[i]) end
end
return out
`;

/**
 * Save: put the kept entries back at the FRONT (in order) and append the added ones at the END,
 * then renew the expiry. ARGV = deadline, ttl ms, number of kept entries, kept..., added...
 * Returns {1, now, length of the list}.
 */
export const SAVE = `${PRELUDE}
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind ~= 'list' and kind ~= 'none' then redis.call('DEL', key) end
local kept = tonumber(ARGV[3])
for i = 3 + kept, 4, -1 do redis.call('LPUSH', key, ARGV[i]) end
for i = 4 + kept, #ARGV do redis.call('RPUSH', key, ARGV[i]) end
redis.call('PEXPIRE', key, ARGV[2])
return {1, now, redis.call('LLEN', key)}
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
