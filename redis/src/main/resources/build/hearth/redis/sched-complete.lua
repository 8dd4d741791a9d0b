-- Completes an execution whatever its stage: out of its queue or claim, out of the merge index, its
-- task dropped and its response kept for the retention. The first completion wins.
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 id, 3 response, 4 retention ms
-- Returns 1 if completed now, 0 if unknown or completed before
local p = ARGV[1]
local id = ARGV[2]
local x = p .. 'x:' .. id
local stage = redis.call('HGET', x, 'stage')
if not stage or stage == 'C' then
  return 0
end
if stage == 'Q' then
  local key = redis.call('HGET', x, 'key')
  redis.call('ZREM', p .. 'q:' .. key, redis.call('HGET', x, 'm'))
  if redis.call('HINCRBY', p .. 'queues', key, -1) <= 0 then
    redis.call('HDEL', p .. 'queues', key)
  end
  redis.call('ZREM', p .. 'byq', id)
else
  local worker = redis.call('HGET', x, 'w')
  redis.call('ZREM', p .. 'deadlines', id)
  redis.call('SREM', p .. 'claimed', id)
  redis.call('SREM', p .. 'wc:' .. worker, id)
end
local akey = redis.call('HGET', x, 'akey')
if akey ~= '' and redis.call('GET', p .. 'm:' .. akey) == id then
  redis.call('DEL', p .. 'm:' .. akey)
end
redis.call('HDEL', x, 'task', 'm', 'key', 'prio', 'tmo', 'lost', 'enq', 'rq', 'w', 's', 'cat', 'dl')
redis.call('HSET', x, 'stage', 'C', 'resp', ARGV[3])
redis.call('PEXPIRE', x, ARGV[4])
redis.call('PUBLISH', p .. 'events', 'c' .. id)
return 1
