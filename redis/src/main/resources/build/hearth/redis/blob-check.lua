-- Whether a blob is whole: its manifest and every chunk it names exist. Refreshes the TTL of all of
-- them when the store has one. All of a blob's keys share its hash tag, so this is one command.
-- KEYS: 1 the manifest. ARGV: 1 the blob's key base, 2 TTL in milliseconds (0: none),
--       3 '1' to return the manifest.
-- Returns 1 if whole, else 0; with ARGV[3] = '1' the array {generation, chunk count, inline data}
-- if whole, else an empty array.
local function absent()
  if ARGV[3] == '1' then
    return {}
  end
  return 0
end
local current = redis.call('HMGET', KEYS[1], 'g', 'n')
if not current[1] then
  return absent()
end
local ttl = tonumber(ARGV[2])
local n = tonumber(current[2] or '0') or 0
for i = 0, n - 1 do
  local chunk = ARGV[1] .. ':c:' .. current[1] .. ':' .. i
  if ttl > 0 then
    if redis.call('PEXPIRE', chunk, ttl) == 0 then
      return absent()
    end
  elseif redis.call('EXISTS', chunk) == 0 then
    return absent()
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if ARGV[3] == '1' then
  return {current[1], current[2], redis.call('HGET', KEYS[1], 'd') or ''}
end
return 1
