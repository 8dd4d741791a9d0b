-- Deletes an evicted blob or entry, but only the generation that was evicted: if another upload
-- committed the same key since, its generation is newer and it stays. A chunked blob's chunks are
-- not deleted at once but expire after a grace period, so readers that opened the blob before the
-- eviction can finish.
-- KEYS: 1 the manifest (a hash with fields g, n, d). ARGV: 1 the blob's key base, 2 generation,
--       3 grace in milliseconds. Returns 1 if deleted, 0 if a newer generation is there.
local current = redis.call('HMGET', KEYS[1], 'g', 'n')
if current[1] ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
local n = tonumber(current[2] or '0') or 0
for i = 0, n - 1 do
  redis.call('PEXPIRE', ARGV[1] .. ':c:' .. ARGV[2] .. ':' .. i, ARGV[3])
end
return 1
