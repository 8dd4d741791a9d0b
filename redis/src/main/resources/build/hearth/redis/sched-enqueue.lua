-- Queues an execution, joins the one in flight for the same action, or refuses when the queues are
-- full; one step, so two servers submitting the same action at once queue it once.
-- Every key of one scheduler shares the hash tag in ARGV[1], so the script runs in one slot; KEYS[1]
-- is the sequence counter, named so the script is routed there.
-- KEYS: 1 sequence
-- ARGV: 1 prefix, 2 id, 3 queue key, 4 action key, 5 priority, 6 timeout ms, 7 task,
--       8 enqueued at ms, 9 most queued
-- Returns {outcome ('Q', 'J' or 'F'), execution id to follow, executions queued}
local p = ARGV[1]
local id = ARGV[2]
local x = p .. 'x:' .. id
if redis.call('EXISTS', x) == 1 then
  return {'Q', id, redis.call('ZCARD', p .. 'byq')}
end
local akey = ARGV[4]
if akey ~= '' then
  local running = redis.call('GET', p .. 'm:' .. akey)
  if running then
    local stage = redis.call('HGET', p .. 'x:' .. running, 'stage')
    if stage == 'Q' or stage == 'E' then
      return {'J', running, redis.call('ZCARD', p .. 'byq')}
    end
  end
end
local queued = redis.call('ZCARD', p .. 'byq')
if queued >= tonumber(ARGV[9]) then
  return {'F', id, queued}
end
-- Within a priority (the score), members sort by their text: '1' for a first attempt, then the
-- sequence, zero-padded, so the queue is FIFO; requeued entries start with '0' and go first.
local seq = redis.call('INCR', KEYS[1])
local member = '1' .. string.format('%016d', seq) .. id
redis.call('HSET', x, 'key', ARGV[3], 'akey', akey, 'prio', ARGV[5], 'tmo', ARGV[6],
  'task', ARGV[7], 'att', 1, 'lost', '', 'enq', ARGV[8], 'rq', 0, 'stage', 'Q', 'm', member)
redis.call('ZADD', p .. 'q:' .. ARGV[3], ARGV[5], member)
redis.call('HINCRBY', p .. 'queues', ARGV[3], 1)
redis.call('ZADD', p .. 'byq', ARGV[8], id)
if akey ~= '' then
  redis.call('SET', p .. 'm:' .. akey, id)
end
redis.call('PUBLISH', p .. 'events', 'q' .. ARGV[3])
return {'Q', id, queued + 1}
