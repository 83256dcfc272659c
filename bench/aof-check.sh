#!/usr/bin/env bash
# aof-check vs redis-check-aof on a ~1 GB AOF written by a real redis-server (redis-benchmark SETs
# with appendonly yes), side by side in one run: wall time and peak RSS (GNU time), two rounds each
# on a warm page cache. Usage: bench/aof-check.sh [target-MB] (default 1024). Needs a build
# (npx tsc -p .). Data goes under ${BENCH_DIR:-/tmp/tsredis-bench-aof}; kept for reruns.
#   bench/aof-check.sh bigkeys   a multi-part directory whose base is an RDB preamble holding big
#       keys (a 4M-element list, a 1M-field hash, 1M-member zset and set), then a ~150 MB incr of
#       redis-benchmark writes (data under ${BENCH_DIR:-/tmp/tsredis-bench-aof-bigkeys})
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=sets
if [ "${1:-}" = bigkeys ]; then MODE=bigkeys; shift; fi
TARGET_MB=${1:-1024}
DIR=${BENCH_DIR:-/tmp/tsredis-bench-aof$([ $MODE = bigkeys ] && echo -bigkeys)}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time (apt-get install -y time)" >&2; exit 2; }
[ -f dist/cli/main.js ] || { echo "build first: npx tsc -p ." >&2; exit 2; }

mkdir -p "$DIR"
AOFDIR="$DIR/appendonlydir"
size_mb() { du -sm "$AOFDIR" 2>/dev/null | cut -f1 || echo 0; }
if [ "$MODE" = bigkeys ] && [ ! -d "$AOFDIR" ]; then
  PORT=$((20000 + RANDOM % 20000))
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly yes --aof-use-rdb-preamble yes \
    --appendfsync no --auto-aof-rewrite-percentage 0 --logfile "$DIR/redis.log" --daemonize no &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  # Big keys through EVAL: one RPUSH/HSET/ZADD/SADD of 1000 items per call.
  SHA=$(redis-cli -p "$PORT" script load "$(cat test/engine/fill-big-keys.lua)")
  fill() { for ((o = 0; o < $3; o += 1000)); do echo "EVALSHA $SHA 1 $2 $1 1000 $o"; done | redis-cli -p "$PORT" >/dev/null; }
  echo "writing the big keys, then BGREWRITEAOF (RDB preamble base), then redis-benchmark writes..."
  fill list biglist 4000000; fill hash bighash 1000000; fill zset bigzset 1000000; fill set bigset 1000000
  redis-cli -p "$PORT" bgrewriteaof >/dev/null
  sleep 1
  while [ "$(redis-cli -p "$PORT" info persistence | tr -d '\r' | awk -F: '/^aof_rewrite_in_progress:/{print $2}')" != 0 ]; do sleep 0.2; done
  redis-benchmark -p "$PORT" -q -t set,lpush,hset,zadd,sadd,incr -n 300000 -r 100000 -P 32 -c 4 >/dev/null 2>&1
  redis-cli -p "$PORT" shutdown nosave >/dev/null || true
  wait "$PID" || true
  trap - EXIT
elif [ "$MODE" = sets ] && { [ ! -d "$AOFDIR" ] || [ "$(size_mb)" -lt $((TARGET_MB * 95 / 100)) ]; }; then
  rm -rf "$AOFDIR"
  PORT=$((20000 + RANDOM % 20000))
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly yes \
    --appendfsync no --auto-aof-rewrite-percentage 0 --aof-timestamp-enabled yes \
    --logfile "$DIR/redis.log" --daemonize no &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  # ~150 bytes of AOF per SET of a 100-byte value; random keys so the dataset is realistic.
  N=$((TARGET_MB * 1024 * 1024 / 150))
  echo "writing $N SETs through redis-benchmark (port $PORT)..."
  redis-benchmark -p "$PORT" -q -t set -n "$N" -d 100 -r 5000000 -P 32 -c 8 >/dev/null
  redis-cli -p "$PORT" shutdown nosave >/dev/null || true
  wait "$PID" || true
  trap - EXIT
fi
MANIFEST="$AOFDIR/appendonly.aof.manifest"
echo "AOF: $(du -sb "$AOFDIR" | cut -f1) bytes in $AOFDIR:"
ls -l "$AOFDIR"
cat "$MANIFEST"

run() { # label, command...
  local label=$1; shift
  local out
  # GNU time prints "TIME wall_s maxrss_kb" as the last line of stderr.
  out=$( { "$TIME" -f 'TIME %e %U %S %M' "$@" >/dev/null; } 2>&1 | grep '^TIME' | tail -1)
  set -- $out
  printf '%-16s wall %6ss  cpu %6ss (user %s + sys %s)  peak RSS %7.1f MB\n' "$label" "$2" \
    "$(echo "$3 + $4" | bc -l)" "$3" "$4" "$(echo "$5 / 1024" | bc -l)"
}

cat "$AOFDIR"/* >/dev/null # warm the page cache for both tools alike
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: redis-check-aof $MANIFEST"
echo "command: node bin/tsredis-ops.js aof-check $AOFDIR"
for round in 1 2; do
  echo "round $round"
  run redis-check-aof redis-check-aof "$MANIFEST"
  run aof-check node bin/tsredis-ops.js aof-check "$AOFDIR"
done
