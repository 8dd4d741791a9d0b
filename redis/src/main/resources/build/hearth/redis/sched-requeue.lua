-- Takes a claim back from the worker that lost it and queues the execution again, first among its
-- priority, unless it was lost too often (then nothing changes: the caller completes it with the
-- error, and the claim stays for the next server should this one die first).
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 id, 3 worker, 4 most retries, 5 count the attempt ('1' or '0'), 6 now ms
-- Returns {'N'} when that worker holds no claim on it; {'G', fields...} when it gave up (the
-- fields as they are); {'R', fields...} when queued again (the fields as they are now)
local p = ARGV[1]
local id = ARGV[2]
local worker = ARGV[3]
local x = p .. 'x:' .. id
if redis.call('HGET', x, 'stage') ~= 'E' or redis.call('HGET', x, 'w') ~= worker then
  return {'N'}
end
local lost = redis.call('HGET', x, 'lost')
local attempt = tonumber(redis.call('HGET', x, 'att'))
if ARGV[5] == '1' then
  local times = 0
  if lost ~= '' then
    local _, newlines = string.gsub(lost, '\n', '')
    times = newlines + 1
  end
  if times >= tonumber(ARGV[4]) then
    local fields = redis.call('HGETALL', x)
    table.insert(fields, 1, 'G')
    return fields
  end
  if lost == '' then lost = worker else lost = lost .. '\n' .. worker end
  attempt = attempt + 1
end
redis.call('ZREM', p .. 'deadlines', id)
redis.call('SREM', p .. 'claimed', id)
redis.call('SREM', p .. 'wc:' .. worker, id)
local key = redis.call('HGET', x, 'key')
local seq = redis.call('INCR', KEYS[1])
local member = '0' .. string.format('%016d', seq) .. id
redis.call('HSET', x, 'stage', 'Q', 'att', attempt, 'lost', lost, 'enq', ARGV[6], 'rq', 1,
  'm', member, 'w', '', 's', '', 'cat', '', 'dl', '')
redis.call('ZADD', p .. 'q:' .. key, redis.call('HGET', x, 'prio'), member)
redis.call('HINCRBY', p .. 'queues', key, 1)
redis.call('ZADD', p .. 'byq', ARGV[6], id)
redis.call('PUBLISH', p .. 'events', 'q' .. key)
local fields = redis.call('HGETALL', x)
table.insert(fields, 1, 'R')
return fields
