// The Lua scripts of the Redis backplane: every read-and-write on Redis that
// must be atomic (claiming, renewing, releasing and locating keys, liveness).

import type { Redis } from 'ioredis';

/**
 * A Lua script, always sent whole with EVAL (Redis caches the compiled
 * script). EVALSHA with a fallback would reorder commands on the
 * connection after a restart emptied Redis's script cache: a publish could
 * land after a later lookup.
 */
export class LuaScript {
  /** Encoded once: a string argument is encoded to UTF-8 on every call. */
  private readonly body: Buffer;

  constructor(lua: string) {
    this.body = Buffer.from(lua);
  }

  run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return client.eval(this.body, keys.length, ...keys, ...args);
  }
}

// A key's value is the JSON of its RoomAddress, set by the claim itself: a
// key is never held without saying where its room is.
// Scripts read the owner from it, so a process never renews or deletes a key
// that another process holds.

/**
 * Lua shared by the scripts that read the epoch (the random value that names
 * one life of Redis's data). KEYS: the epoch key, the settling key, the
 * noticed key. Creates the epoch if Redis has none. The first process that
 * knew an earlier epoch and finds another one (Redis restarted empty) starts
 * the settling period: for `settleMs`, free keys may not be claimed, so that
 * every live process can claim its own keys again first.
 */
const CURRENT_EPOCH = `
local function current_epoch(epoch_key, settling_key, noticed_key, known, fresh, settle_ms)
  local epoch = redis.call('GET', epoch_key)
  if not epoch then
    epoch = fresh
    redis.call('SET', epoch_key, epoch)
  end
  if known ~= '' and known ~= epoch and redis.call('SET', noticed_key, epoch, 'NX') then
    redis.call('SET', settling_key, '1', 'PX', settle_ms)
  end
  return epoch
end
`;

/**
 * KEYS: the key, then the epoch, settling and noticed keys. ARGV: value,
 * ttl, liveness-key prefix, this process, the epoch this process knows, a
 * new epoch, the settling period.
 * Takes the key when it is free, or held by a process whose liveness key
 * lapsed (it died), or a leftover of this very process: answers 1, or 0 when
 * a live process holds it. Answers -1 (not now) when this process has not
 * seen Redis's current epoch yet, or while Redis settles after a restart and
 * the key is not this process's.
 */
export const CLAIM = new LuaScript(`${CURRENT_EPOCH}
local epoch = current_epoch(KEYS[2], KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7])
if epoch ~= ARGV[5] then return -1 end
local current = redis.call('GET', KEYS[1])
local mine = false
if current then
  local owner = cjson.decode(current).process
  mine = owner == ARGV[4]
  if not mine and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
end
if not mine and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * KEYS: keys this process holds. ARGV: this process, ttl, then one value per key.
 * Renews each key that is still ours, claims again each that vanished (Redis
 * restarted), and answers 0 for each that another process holds now.
 */
export const KEEP = new LuaScript(`
local kept = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current == false or cjson.decode(current).process == ARGV[1] then
    redis.call('SET', key, ARGV[2 + i], 'PX', ARGV[2])
    kept[i] = 1
  else
    kept[i] = 0
  end
end
return kept
`);

/** KEYS[1] the key. ARGV[1] this process. Deletes the key only if this process holds it. */
export const RELEASE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).process == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * KEYS: the key, the settling key. ARGV[1] liveness-key prefix. The key's
 * value, unless its owner is dead; -1 (not now) instead of nothing while
 * Redis settles after a restart: the owner may not have claimed it again yet.
 */
export const LOCATE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current and redis.call('EXISTS', ARGV[1] .. cjson.decode(current).process) == 1 then return current end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
return false
`);

/**
 * KEYS: the epoch key, this process's liveness key and its tombstone, the
 * settling and noticed keys, then the liveness keys of the processes to
 * check. ARGV: a new epoch, liveness ttl (also the settling period), the
 * epoch this process knows, whether it may judge ('1'), the longest gap
 * between two beats that still counts as fresh, tombstone ttl, then the
 * tombstone key of each process checked.
 *
 * Renews this process's liveness (its value: Redis's clock, in ms). Judges
 * only when asked, when the epoch is the known one (Redis kept its data)
 * and when this process's previous beat is fresh (Redis did not stall): a
 * process whose liveness key is gone is then dead, and gets a tombstone so
 * that, should it come back, it knows it was declared dead. Answers the
 * epoch, whether this process's key was still there, whether it had a
 * tombstone, whether it judged, then 1 or 0 for each process checked.
 */
export const HEARTBEAT = new LuaScript(`${CURRENT_EPOCH}
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local judge = ARGV[4] == '1'
local epoch = current_epoch(KEYS[1], KEYS[4], KEYS[5], ARGV[3], ARGV[1], ARGV[2])
if epoch ~= ARGV[3] then judge = false end
local previous = tonumber(redis.call('GET', KEYS[2]))
if previous == nil or now - previous > tonumber(ARGV[5]) then judge = false end
local declared = redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[2], now, 'PX', ARGV[2])
local reply = { epoch, previous and 1 or 0, declared, judge and 1 or 0 }
for i = 6, #KEYS do
  local alive = redis.call('EXISTS', KEYS[i])
  if alive == 0 and judge then redis.call('SET', ARGV[i + 1], '1', 'PX', ARGV[6]) end
  reply[#reply + 1] = alive
end
return reply
`);
