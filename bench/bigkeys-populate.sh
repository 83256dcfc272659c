#!/usr/bin/env bash
# Fills the redis-server on port $1 with the big-key dataset of issue 19: one 4M-element list,
# one 1M-field hash, one 1M-member zset, one 1M-member set and a 1M-entry stream (Lua: seconds).
# Usage: bench/bigkeys-populate.sh PORT [SCALE=1]   (SCALE multiplies the millions)
set -euo pipefail
P="$1"; S="${2:-1}"
cli() { redis-cli -p "$P" "$@" >/dev/null; }
cli EVAL "for i=0,4000*$S-1 do local t={} for j=1,1000 do t[j]=tostring(i*1000+j) end redis.call('RPUSH','biglist',unpack(t)) end" 0
cli EVAL "for i=0,1000*$S-1 do local t={} for j=1,1000 do local n=i*1000+j t[#t+1]='field:'..n t[#t+1]='value:'..n end redis.call('HSET','bighash',unpack(t)) end" 0
cli EVAL "for i=0,1000*$S-1 do local t={} for j=1,1000 do local n=i*1000+j t[#t+1]=n/7 t[#t+1]='member:'..n end redis.call('ZADD','bigzset',unpack(t)) end" 0
cli EVAL "for i=0,1000*$S-1 do local t={} for j=1,1000 do t[j]='m:'..(i*1000+j) end redis.call('SADD','bigset',unpack(t)) end" 0
cli EVAL "for n=1,1000000*$S do redis.call('XADD','bigstream',n..'-1','f',n,'g','x') end" 0
