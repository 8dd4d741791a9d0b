-- Adds (or replaces) one entry of a store's LRU index, then evicts the least recently used entries
-- until the store is within its capacity. Runs in the index's slot only: the blobs or entries of
-- the victims are deleted by the caller, each in its own slot, guarded by the generation returned.
-- KEYS: 1 lru (sorted set: member -> last use), 2 meta (hash: member -> "generation size"),
--       3 totals (hash: bytes)
-- ARGV: 1 member ('' to only evict), 2 generation, 3 size, 4 use score, 5 capacity in bytes
-- Returns the victims as a flat array: member, generation, size, member, generation, size, ...
local member = ARGV[1]
local bytes
if member ~= '' then
  local size = tonumber(ARGV[3])
  local delta = size
  local old = redis.call('HGET', KEYS[2], member)
  if old then
    delta = size - tonumber(string.match(old, ' (%d+)$'))
  end
  redis.call('ZADD', KEYS[1], 'GT', ARGV[4], member)
  redis.call('HSET', KEYS[2], member, ARGV[2] .. ' ' .. ARGV[3])
  bytes = redis.call('HINCRBY', KEYS[3], 'bytes', delta)
else
  bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
end
local capacity = tonumber(ARGV[5])
local victims = {}
while bytes > capacity do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then
    break
  end
  local victim = popped[1]
  if victim == member then
    -- What was just put is never its own victim (another server's clock may run behind).
    redis.call('ZADD', KEYS[1], popped[2], victim)
    break
  end
  local meta = redis.call('HGET', KEYS[2], victim)
  redis.call('HDEL', KEYS[2], victim)
  local generation, size = string.match(meta or '', '^(%S+) (%d+)$')
  size = tonumber(size or '0')
  bytes = redis.call('HINCRBY', KEYS[3], 'bytes', -size)
  victims[#victims + 1] = victim
  victims[#victims + 1] = generation or ''
  victims[#victims + 1] = tostring(size)
end
return victims
