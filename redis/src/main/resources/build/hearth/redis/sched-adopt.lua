-- A worker re-attached through another server: the claims it still runs move to that server; the
-- others are returned for requeueing. Only the worker's own claims (its wc: set) are looked at, so
-- ids of other workers' claims are ignored.
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 worker, 3 server, 4.. ids the worker still runs
-- Returns {adopted, not running}: adopted is a list of {id, field, value, ...} (the execution's
-- whole hash, with its queue entry and its claim); not running is flat claims, a claim being
-- {id, worker, server, attempt, claimed at, deadline}
local p = ARGV[1]
local running = {}
for i = 4, #ARGV do
  running[ARGV[i]] = true
end
local adopted, others = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'wc:' .. ARGV[2])) do
  local x = p .. 'x:' .. id
  if running[id] then
    redis.call('HSET', x, 's', ARGV[3])
    local fields = redis.call('HGETALL', x)
    table.insert(fields, 1, id)
    table.insert(adopted, fields)
  else
    table.insert(others, id)
    for _, v in ipairs(redis.call('HMGET', x, 'w', 's', 'att', 'cat', 'dl')) do
      table.insert(others, v)
    end
  end
end
return {adopted, others}
