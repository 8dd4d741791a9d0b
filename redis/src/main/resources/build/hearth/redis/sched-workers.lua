-- Registers, renews and unregisters workers, and hands back the claims of workers whose lease
-- lapsed. A worker's lease entry stays while it holds claims, so its claims are found until some
-- server requeues them, also after it unregistered.
-- KEYS: 1 sequence (for routing)
-- ARGV: 1 prefix, 2 operation, then by operation:
--   register:   3 worker, 4 server, 5 record, 6 lease until ms          -> 1
--   renew:      3 worker, 4 server, 5 lease until ms                    -> 1 or 0
--   unregister: 3 worker, 4 server                                      -> 1 or 0
--   lapsed:     3 now ms, 4 most claims -> flat {id, worker, server, attempt, claimed at, deadline}
local p = ARGV[1]
local op = ARGV[2]
if op == 'register' then
  redis.call('HSET', p .. 'workers', ARGV[3], ARGV[5])
  redis.call('HSET', p .. 'servers', ARGV[3], ARGV[4])
  redis.call('ZADD', p .. 'leases', ARGV[6], ARGV[3])
  return 1
elseif op == 'renew' then
  if redis.call('HGET', p .. 'servers', ARGV[3]) ~= ARGV[4] then
    return 0
  end
  redis.call('ZADD', p .. 'leases', ARGV[5], ARGV[3])
  return 1
elseif op == 'unregister' then
  if redis.call('HGET', p .. 'servers', ARGV[3]) ~= ARGV[4] then
    return 0
  end
  redis.call('HDEL', p .. 'workers', ARGV[3])
  redis.call('HDEL', p .. 'servers', ARGV[3])
  if redis.call('SCARD', p .. 'wc:' .. ARGV[3]) == 0 then
    redis.call('ZREM', p .. 'leases', ARGV[3])
  end
  return 1
elseif op == 'lapsed' then
  local max = tonumber(ARGV[4])
  local claims = {}
  local count = 0
  for _, worker in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', ARGV[3])) do
    redis.call('HDEL', p .. 'workers', worker)
    redis.call('HDEL', p .. 'servers', worker)
    local held = redis.call('SMEMBERS', p .. 'wc:' .. worker)
    if #held == 0 then
      redis.call('ZREM', p .. 'leases', worker)
    end
    for _, id in ipairs(held) do
      if count < max then
        local c = redis.call('HMGET', p .. 'x:' .. id, 'w', 's', 'att', 'cat', 'dl')
        table.insert(claims, id)
        for _, v in ipairs(c) do table.insert(claims, v) end
        count = count + 1
      end
    end
  end
  return claims
end
return redis.error_reply('unknown operation ' .. op)
