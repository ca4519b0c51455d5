import { script } from '../storage/redis/scripts.js';

/**
 * The Lua scripts of `redisOutbox()`. One user's outbox is, under one Cluster hash tag:
 * - `<user>`: a LIST of entries `[id, encoded message]` (JSON), oldest first;
 * - `<user>:c:<token>`: a claim record, a LIST of the entries one claim took and has not
 *   settled; once settled, a short-lived string (a retried claim with that token takes nothing);
 * - `<user>:claims`: a ZSET of open claims, scored by the server time their lease ends;
 * - `<user>:s:<id>`: a short-lived record that a send ran (a retried send does nothing again).
 *
 * A send, and a give-back that returns messages, PUBLISH the user's list key on the outbox's
 * "sent" channel inside the script: when the write happened, so did the notice. Processes that
 * remember users with nothing pending (`redis-empty.ts`) forget them on hearing it. `pcall`: an
 * ACL user without that channel still sends (a script's error would come after its writes).
 *
 * Every script is safe to run twice (a lost reply; ioredis re-sends, the outbox re-sends what
 * node-redis rejected): each call carries a random name (the message id, the claim token) and
 * its first run leaves what a second run answers from. Keys other than KEYS are built from
 * ARGV with the same hash tag, so they live in the same Cluster slot.
 */

const DECODE = `
local function entryOf(item)
  local ok, e = pcall(cjson.decode, item)
  if ok and type(e) == 'table' then return e end
  return nil
end
local function keyOf(item)
  local e = entryOf(item)
  if e and type(e[2]) == 'table' and type(e[2][5]) == 'string' then return e[2][5] end
  return ''
end
local function idOf(item)
  local e = entryOf(item)
  if e and type(e[1]) == 'string' then return e[1] end
  return ''
end
local function listOnly(key)
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'list' and kind ~= 'none' then redis.call('DEL', key) end
end
local function extend(key, ms)
  if redis.call('PTTL', key) < tonumber(ms) then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * Send: KEYS = list, send record. ARGV = entry, message key ('' for none), max, ttl ms, hold ms,
 * "sent" channel.
 * Drops a pending entry with the same message key, appends, drops the oldest beyond `max`.
 * Returns the dropped entries (a second run: the first run's).
 */
export const SEND = script(`${DECODE}
if redis.call('TYPE', KEYS[2]).ok == 'list' then return redis.call('LRANGE', KEYS[2], 1, -1) end
listOnly(KEYS[1])
if ARGV[2] ~= '' then
  local items = redis.call('LRANGE', KEYS[1], 0, -1)
  for i = 1, #items do
    if keyOf(items[i]) == ARGV[2] then redis.call('LREM', KEYS[1], 1, items[i]) end
  end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
local dropped = {}
local excess = redis.call('LLEN', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  dropped = redis.call('LRANGE', KEYS[1], 0, excess - 1)
  redis.call('LTRIM', KEYS[1], excess, -1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], 'sent')
for i = 1, #dropped do redis.call('RPUSH', KEYS[2], dropped[i]) end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.pcall('PUBLISH', ARGV[6], KEYS[1])
return dropped
`);

/**
 * Claim: KEYS = list, claim record, claims zset. ARGV = lease ms, ttl ms, record key prefix
 * (`<user>:c:`), token. First returns to the front of the list what claims past their lease
 * still hold (oldest claim first); then moves the whole list into the record. Returns
 * {server ms, open, entry...}: `open` is 0 when no claim of the user is left open (nothing took
 * anything that may come back), 1 otherwise; a second run the same entries, or none once settled.
 */
export const CLAIM = script(`${DECODE}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kind = redis.call('TYPE', KEYS[2]).ok
if kind == 'list' then
  local out = {now, 1}
  local items = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = 1, #items do out[#out + 1] = items[i] end
  return out
end
if kind ~= 'none' then return {now, 1} end
if redis.call('TYPE', KEYS[3]).ok == 'zset' then
  local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  if #stale > 0 then
    local back = {}
    for i = 1, #stale do
      local record = ARGV[3] .. stale[i]
      if redis.call('TYPE', record).ok == 'list' then
        local items = redis.call('LRANGE', record, 0, -1)
        for j = 1, #items do back[#back + 1] = items[j] end
      end
      redis.call('DEL', record)
      redis.call('ZREM', KEYS[3], stale[i])
    end
    listOnly(KEYS[1])
    for i = #back, 1, -1 do redis.call('LPUSH', KEYS[1], back[i]) end
  end
else
  redis.call('DEL', KEYS[3])
end
listOnly(KEYS[1])
local items = redis.call('LRANGE', KEYS[1], 0, -1)
if #items == 0 then
  local open = 0
  if redis.call('EXISTS', KEYS[3]) == 1 then open = 1 end
  return {now, open}
end
local out = {now, 1}
redis.call('DEL', KEYS[1])
for i = 1, #items, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
for i = 1, #items do out[#out + 1] = items[i] end
return out
`);

/**
 * Settle part of a claim: KEYS = claim record, list, claims zset. ARGV = mode ('ack' or 'back'),
 * hold ms, ttl ms, token, "sent" channel, id... The named entries leave the record: acked ones are done, given
 * back ones go to the FRONT of the list in their order. When the record was already returned to
 * the list by a later claim (its lease ended), an ack removes the named entries from the list.
 * A record left empty becomes a short-lived tombstone. Returns 1.
 */
export const SETTLE = script(`${DECODE}
local named = {}
for i = 6, #ARGV do named[ARGV[i]] = true end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'list' then
  if kind == 'none' and ARGV[1] == 'ack' and redis.call('TYPE', KEYS[2]).ok == 'list' then
    local items = redis.call('LRANGE', KEYS[2], 0, -1)
    for i = 1, #items do
      if named[idOf(items[i])] then redis.call('LREM', KEYS[2], 1, items[i]) end
    end
  end
  return 1
end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local stay, moved = {}, {}
for i = 1, #items do
  if named[idOf(items[i])] then moved[#moved + 1] = items[i] else stay[#stay + 1] = items[i] end
end
if #moved == 0 then return 1 end
if ARGV[1] == 'back' then
  listOnly(KEYS[2])
  for i = #moved, 1, -1 do redis.call('LPUSH', KEYS[2], moved[i]) end
  extend(KEYS[2], ARGV[3])
  redis.pcall('PUBLISH', ARGV[5], KEYS[2])
end
redis.call('DEL', KEYS[1])
if #stay == 0 then
  redis.call('SET', KEYS[1], 'settled', 'PX', ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[4])
else
  redis.call('RPUSH', KEYS[1], unpack(stay))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`);
