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
  constructor(private readonly lua: string) {}

  run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return client.eval(this.lua, keys.length, ...keys, ...args);
  }
}

// A key's value is the JSON of its RoomAddress, set by the claim itself: a
// key is never held without saying where its room is.
// Scripts read the owner from it, so a process never renews or deletes a key
// that another process holds.

/**
 * KEYS[1] the key. ARGV: value, ttl, liveness-key prefix, this process.
 * Takes the key when it is free, or held by a process whose liveness key
 * lapsed (it died), or a leftover of this very process.
 */
export const CLAIM = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current then
  local owner = cjson.decode(current).process
  if owner ~= ARGV[4] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
end
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

/** KEYS[1] the key. ARGV[1] liveness-key prefix. The key's value, unless its owner is dead. */
export const LOCATE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if not current then return false end
if redis.call('EXISTS', ARGV[1] .. cjson.decode(current).process) == 0 then return false end
return current
`);

/**
 * KEYS: the epoch key, this process's liveness key and its tombstone, then
 * the liveness keys of the processes to check. ARGV: a new epoch, liveness
 * ttl, the epoch this process knows, whether it may judge ('1'), the
 * longest gap between two beats that still counts as fresh, tombstone ttl,
 * then the tombstone key of each process checked.
 *
 * Renews this process's liveness (its value: Redis's clock, in ms). Judges
 * only when asked, when the epoch is the known one (Redis kept its data)
 * and when this process's previous beat is fresh (Redis did not stall): a
 * process whose liveness key is gone is then dead, and gets a tombstone so
 * that, should it come back, it knows it was declared dead. Answers the
 * epoch, whether this process's key was still there, whether it had a
 * tombstone, whether it judged, then 1 or 0 for each process checked.
 */
export const HEARTBEAT = new LuaScript(`
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local epoch = redis.call('GET', KEYS[1])
local judge = ARGV[4] == '1'
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  judge = false
elseif epoch ~= ARGV[3] then
  judge = false
end
local previous = tonumber(redis.call('GET', KEYS[2]))
if previous == nil or now - previous > tonumber(ARGV[5]) then judge = false end
local declared = redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[2], now, 'PX', ARGV[2])
local reply = { epoch, previous and 1 or 0, declared, judge and 1 or 0 }
for i = 4, #KEYS do
  local alive = redis.call('EXISTS', KEYS[i])
  if alive == 0 and judge then redis.call('SET', ARGV[i + 3], '1', 'PX', ARGV[6]) end
  reply[#reply + 1] = alive
end
return reply
`);
