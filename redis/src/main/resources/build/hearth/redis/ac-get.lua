-- Reads an action-cache entry and, when it is there, refreshes its TTL: one command on the hot
-- path of GetActionResult instead of a read and a PEXPIRE.
-- KEYS: 1 the entry (a hash: g, d). ARGV: 1 TTL in milliseconds (more than 0).
-- Returns the entry's bytes, or nil if it is absent.
local entry = redis.call('HGET', KEYS[1], 'd')
if entry then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return entry
