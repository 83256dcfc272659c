-- Fills KEYS[1] with ARGV[2] elements of kind ARGV[1] (list, hash, zset or set), numbered from
-- ARGV[3] + 1: one RPUSH/HSET/ZADD/SADD of that many items. Called in a loop of 1000 per call, it
-- builds keys of millions of elements in seconds (big-keys tests, bench/aof-check.sh bigkeys).
local kind, n, off = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local args = {}
for i = 1, n do
  local j = off + i
  if kind == 'list' then args[#args+1] = 'item-' .. j
  elseif kind == 'hash' then args[#args+1] = 'field:' .. j; args[#args+1] = 'v' .. (j * 7)
  elseif kind == 'zset' then args[#args+1] = tostring((j * 7919) % 1000003 / 7); args[#args+1] = 'member:' .. j
  else args[#args+1] = 'm' .. j end
end
local cmd = ({list='RPUSH', hash='HSET', zset='ZADD', set='SADD'})[kind]
return redis.call(cmd, KEYS[1], unpack(args))
