#!/usr/bin/env bash
# Offline AOF rewrite (tsredis-ops aof-rewrite) beside what Redis itself needs for the same job:
# loading that AOF at startup, then BGREWRITEAOF; the rewrite must load with the origin's digest.
# Usage (from the project root after `npx tsc -p .`; data goes to /tmp, never into the repo):
#   bench/engine-aof-rewrite.sh [keys]          ~1M small keys written as commands (default)
#   bench/engine-aof-rewrite.sh benchmark [n]   redis-benchmark -t set,lpush,hset,zadd,sadd,incr
#       -n n -r 1000000, twice (n=2000000: a ~1 GB AOF; a few keys of millions of elements)
set -euo pipefail
MODE=keys
if [ "${1:-}" = benchmark ]; then MODE=benchmark; shift; fi
KEYS=${1:-1000000}
BENCH_N=${1:-2000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/tsredis-bench-engine.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_redis() { # dir
  redis-server --port "$PORT" --bind 127.0.0.1 --enable-debug-command yes --dir "$1" --save '' --appendonly yes --appendfsync no \
    --aof-use-rdb-preamble yes --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$1/redis.log" &
  PID=$!
  until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
  while [ "$(redis-cli -p "$PORT" info persistence | tr -d '\r' | awk -F: '/^loading:/{print $2}')" != 0 ]; do sleep 0.05; done
}
stop_redis() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; wait "$PID" 2>/dev/null || true; PID=; }
rss_kib() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
# CPU seconds (user+sys) of a process and its reaped children (the BGREWRITEAOF fork).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15+$16+$17)/hz}' "/proc/$1/stat"; }

mkdir -p "$WORK/origin"
start_redis "$WORK/origin"
if [ "$MODE" = benchmark ]; then
  echo "== generating: redis-benchmark -t set,lpush,hset,zadd,sadd,incr -n $BENCH_N -r 1000000 -P 32 -c 8, twice"
  for _ in 1 2; do redis-benchmark -p "$PORT" -q -t set,lpush,hset,zadd,sadd,incr -n "$BENCH_N" -r 1000000 -P 32 -c 8 >/dev/null 2>&1; done
else
echo "== generating $KEYS keys as commands (70% strings, 10% each hashes/lists/sorted sets)"
python3 - "$KEYS" <<'PY' | redis-cli -p "$PORT" --pipe >/dev/null
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
def cmd(*a):
    out.write(b'*%d\r\n' % len(a) + b''.join(b'$%d\r\n%s\r\n' % (len(x), x) for x in (s.encode() for s in a)))
for i in range(n):
    r = i % 10
    if r < 7: cmd('SET', f'str:{i}', f'value-{i}-' + 'x' * (i % 40))
    elif r == 7: cmd('HSET', f'hash:{i}', 'a', str(i), 'b', 'bee', 'c', str(i * 3))
    elif r == 8: cmd('RPUSH', f'list:{i}', 'one', 'two', str(i))
    else: cmd('ZADD', f'zset:{i}', '1', 'a', str(i), 'b', '2.5', 'c')
    if i % 100 == 0: cmd('PEXPIREAT', f'str:{i - i % 10}', '4102444800000')
    if i % 50 == 0: cmd('INCR', 'counter')
PY
fi
DIGEST=$(redis-cli -p "$PORT" debug digest 2>/dev/null || echo n/a)
echo "origin: $(redis-cli -p "$PORT" dbsize) keys, used_memory $(redis-cli -p "$PORT" info memory | tr -d '\r' | awk -F: '/^used_memory:/{print $2}') bytes"
stop_redis
AOFDIR="$WORK/origin/appendonlydir"
echo "input: $(du -sh "$AOFDIR" | cut -f1) in $AOFDIR ($(ls "$AOFDIR" | tr '\n' ' '))"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both sides)"

echo "== tsredis-ops aof-rewrite (load + replay + write RDB base), peak RSS via /usr/bin/time"
/usr/bin/time -f 'tsredis-ops aof-rewrite: %e s wall, %U s user + %S s sys CPU, %M KiB max RSS' \
  node "$ROOT/bin/tsredis-ops.js" aof-rewrite "$AOFDIR" -o "$WORK/ours/appendonlydir"
echo "output: $(du -sh "$WORK/ours/appendonlydir" | cut -f1)"

echo "== redis-server $(redis-server --version | awk '{print $3}'): load the same AOF, then BGREWRITEAOF"
mkdir -p "$WORK/redis" && cp -r "$AOFDIR" "$WORK/redis/"
T0=$(date +%s.%N)
start_redis "$WORK/redis"
T1=$(date +%s.%N)
echo "redis-server load of the AOF: $(echo "$T1 - $T0" | bc) s wall, $(cpu_s "$PID") s CPU, $(rss_kib "$PID") KiB max RSS, used_memory $(redis-cli -p "$PORT" info memory | tr -d '\r' | awk -F: '/^used_memory:/{print $2}')"
redis-cli -p "$PORT" bgrewriteaof >/dev/null
sleep 0.2
while [ "$(redis-cli -p "$PORT" info persistence | tr -d '\r' | awk -F: '/^aof_rewrite_in_progress:/{print $2}')" != 0 ]; do sleep 0.05; done
T2=$(date +%s.%N)
echo "redis-server load + BGREWRITEAOF: $(echo "$T2 - $T0" | bc) s wall"
redis-cli -p "$PORT" info persistence | tr -d '\r' | grep -E '^aof_last_rewrite_time_sec|^aof_last_cow_size'
echo "redis-server after BGREWRITEAOF: $(cpu_s "$PID") s CPU in total (load + rewrite child), $(rss_kib "$PID") KiB max RSS (parent; the fork child shares pages copy-on-write)"
echo "== verify: our rewrite loads with the origin's DEBUG DIGEST"
stop_redis
start_redis "$WORK/ours"
OURS=$(redis-cli -p "$PORT" debug digest 2>/dev/null || echo n/a)
stop_redis
echo "origin digest $DIGEST, our rewrite $OURS"
[ "$DIGEST" = n/a ] || [ "$DIGEST" = "$OURS" ] || { echo "DIGEST MISMATCH"; exit 1; }
