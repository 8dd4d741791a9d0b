-- A worker re-attached through another server: the claims it still runs move to that server; the
-- others are returned for requeueing.
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 worker, 3 server, 4.. ids the worker still runs
-- Returns {adopted (flat claims), not running (flat claims)}, a claim being
-- {id, worker, server, attempt, claimed at, deadline}
local p = ARGV[1]
local running = {}
for i = 4, #ARGV do
  running[ARGV[i]] = true
end
local adopted, others = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'wc:' .. ARGV[2])) do
  local x = p .. 'x:' .. id
  local target = others
  if running[id] then
    redis.call('HSET', x, 's', ARGV[3])
    target = adopted
  end
  table.insert(target, id)
  for _, v in ipairs(redis.call('HMGET', x, 'w', 's', 'att', 'cat', 'dl')) do
    table.insert(target, v)
  end
end
return {adopted, others}
