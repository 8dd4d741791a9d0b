-- Claims the best head among the named queues for a worker: lowest priority, then requeued, then
-- oldest. Reading the queues themselves (no index beside them) means an entry queued again is
-- visible to the very next claim.
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 worker, 3 server, 4 now ms, 5 grace ms, 6.. queue keys
-- Returns {id, the execution's fields (HGETALL)...}, or an empty array when the queues are empty
local p = ARGV[1]
local bestKey, bestScore, bestMember
for i = 6, #ARGV do
  local head = redis.call('ZRANGE', p .. 'q:' .. ARGV[i], 0, 0, 'WITHSCORES')
  if head[1] then
    local score = tonumber(head[2])
    if bestKey == nil or score < bestScore or (score == bestScore and head[1] < bestMember) then
      bestKey, bestScore, bestMember = ARGV[i], score, head[1]
    end
  end
end
if bestKey == nil then
  return {}
end
local id = string.sub(bestMember, 18)
local x = p .. 'x:' .. id
redis.call('ZREM', p .. 'q:' .. bestKey, bestMember)
if redis.call('HINCRBY', p .. 'queues', bestKey, -1) <= 0 then
  redis.call('HDEL', p .. 'queues', bestKey)
end
redis.call('ZREM', p .. 'byq', id)
local timeout = tonumber(redis.call('HGET', x, 'tmo'))
local deadline = ''
if timeout > 0 then
  deadline = string.format('%d', tonumber(ARGV[4]) + timeout + tonumber(ARGV[5]))
  redis.call('ZADD', p .. 'deadlines', deadline, id)
end
redis.call('HSET', x, 'stage', 'E', 'w', ARGV[2], 's', ARGV[3], 'cat', ARGV[4], 'dl', deadline)
redis.call('HDEL', x, 'm')
redis.call('SADD', p .. 'claimed', id)
redis.call('SADD', p .. 'wc:' .. ARGV[2], id)
-- A worker that claims before registering has no lease: its claims count as lapsed at once.
redis.call('ZADD', p .. 'leases', 'NX', 0, ARGV[2])
local fields = redis.call('HGETALL', x)
table.insert(fields, 1, id)
return fields
