import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The two Lua scripts the Redis storage runs. Each is one atomic step on the server: no other
 * command, from any process, runs between its reads and writes. A visitor's messages are one
 * Redis LIST of JSON-encoded tuples (see `codec.ts`), oldest first.
 *
 * Anything under the key that is not a list (another app, a hand edit) is deleted, never thrown
 * on: a WRONGTYPE error would otherwise fail that visitor's every request.
 */

/**
 * Claim: take and delete everything under each key (KEYS), in key order. Returns the raw entries.
 * Several keys only when parallel first requests of one browser made several visitor ids.
 */
export const CLAIM = `
local out = {}
for i = 1, #KEYS do
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
 * Save: put `kept` back at the FRONT (in order) and append `added` at the END, then renew the
 * expiry. ARGV = ttl ms, number of kept entries, kept entries..., added entries...
 * Returns the list's length afterwards.
 */
export const SAVE = `
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind ~= 'list' and kind ~= 'none' then redis.call('DEL', key) end
local kept = tonumber(ARGV[2])
for i = 2 + kept, 3, -1 do redis.call('LPUSH', key, ARGV[i]) end
for i = 3 + kept, #ARGV do redis.call('RPUSH', key, ARGV[i]) end
redis.call('PEXPIRE', key, ARGV[1])
return redis.call('LLEN', key)
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
export async function runScript(client: Redis, script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(sha1(script), keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script, keys.length, ...keys, ...args);
  }
}
