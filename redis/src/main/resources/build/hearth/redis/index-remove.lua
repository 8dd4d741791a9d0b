-- Removes one entry from a store's LRU index (not an eviction).
-- KEYS: 1 lru, 2 meta, 3 totals. ARGV: 1 member. Returns the entry's size, or -1 if absent.
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if not meta then
  return -1
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
local size = tonumber(string.match(meta, ' (%d+)$'))
redis.call('HINCRBY', KEYS[3], 'bytes', -size)
return size
