-- Makes an uploaded blob visible: checks that every chunk the upload wrote is still there, makes
-- the chunks permanent (or gives them the store's TTL), then writes the manifest. A manifest of an
-- earlier upload of the same blob is replaced; its chunks expire after the grace period, so readers
-- that had opened it can finish.
-- KEYS: 1 the manifest. ARGV: 1 the blob's key base, 2 generation, 3 chunk count (0: inline),
--       4 TTL in milliseconds (0: none), 5 grace in milliseconds, 6 inline data
-- Returns 1, or 0 if a chunk is gone (it expired before the commit).
local base, generation, n, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 0, n - 1 do
  local chunk = base .. ':c:' .. generation .. ':' .. i
  if redis.call('EXISTS', chunk) == 0 then
    return 0
  end
  if ttl > 0 then
    redis.call('PEXPIRE', chunk, ttl)
  else
    redis.call('PERSIST', chunk)
  end
end
local old = redis.call('HMGET', KEYS[1], 'g', 'n')
if old[1] and old[1] ~= generation then
  local oldN = tonumber(old[2] or '0') or 0
  for i = 0, oldN - 1 do
    redis.call('PEXPIRE', base .. ':c:' .. old[1] .. ':' .. i, ARGV[5])
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'g', generation, 'n', ARGV[3], 'd', ARGV[6])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
