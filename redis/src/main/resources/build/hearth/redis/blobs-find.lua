-- Which of many blobs are whole: one call for a batch of FindMissingBlobs, instead of one command
-- per blob. A blob is whole when its manifest exists and, for a chunked one, every chunk it names.
-- Refreshes the TTL of what it finds when the store has one (PEXPIRE answers 0 for a missing key,
-- so checking and refreshing are one command).
-- The blobs' keys are in many slots. On one Redis that does not matter; on a Cluster the store
-- sends one call per node, holding only blobs of that node, with the flag allow-cross-slot-keys
-- (Redis 7) put in front of this text; a blob that moved to another node since makes the call fail
-- ("non local key"), and the store then asks blob by blob.
-- KEYS: 1 the manifest of the first blob (it routes the call to the blobs' node).
-- ARGV: 1 TTL in milliseconds (0: none), 2 how many of the blobs are inline (at most one chunk:
--       the manifest holds the bytes), then the blobs' manifest keys, the inline ones first.
-- Returns a string of one byte per blob, in order: '1' whole, '0' absent.
local ttl, inline = tonumber(ARGV[1]), tonumber(ARGV[2])
local found = {}
for i = 3, #ARGV do
  local manifest = ARGV[i]
  local whole
  if i - 2 <= inline then
    if ttl > 0 then
      whole = redis.call('PEXPIRE', manifest, ttl) == 1
    else
      whole = redis.call('EXISTS', manifest) == 1
    end
  else
    local current = redis.call('HMGET', manifest, 'g', 'n')
    whole = current[1] ~= false
    if whole then
      local base = string.sub(manifest, 1, -3)
      local n = tonumber(current[2] or '0') or 0
      for c = 0, n - 1 do
        local chunk = base .. ':c:' .. current[1] .. ':' .. c
        if ttl > 0 then
          whole = redis.call('PEXPIRE', chunk, ttl) == 1
        else
          whole = redis.call('EXISTS', chunk) == 1
        end
        if not whole then
          break
        end
      end
      if whole and ttl > 0 then
        redis.call('PEXPIRE', manifest, ttl)
      end
    end
  end
  found[#found + 1] = whole and '1' or '0'
end
return table.concat(found)
