#!/usr/bin/env bash
# Builds a ~1 GB mixed RDB with the real redis-server (DEBUG POPULATE strings + lists, hashes,
# zsets, sets, streams with groups from bench/rdb-gen.mjs via redis-cli --pipe, then SAVE) and
# times, side by side: redis-check-rdb vs `tsredis-ops rdb-check` (wall time, peak RSS) and
# `tsredis-ops rdb-dump --format jsonl` throughput.
# Usage: bench/rdb-bench.sh [WORKDIR=/tmp/tsredis-rdb-bench] [SCALE=1]   (run `npx tsc -p .` first)
#        VALUES=text bench/rdb-bench.sh DIR SCALE: the 3M*SCALE string keys get 120 bytes of random
#        text instead of DEBUG POPULATE's NUL-padded values.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-rdb-bench}"
SCALE="${2:-1}"
RDB="$WORK/dump.rdb"
mkdir -p "$WORK"
command -v redis-server >/dev/null || { echo "redis-server missing (apt-get install redis-server)"; exit 1; }
command -v redis-check-rdb >/dev/null || { echo "redis-check-rdb missing (apt-get install redis-server)"; exit 1; }

if [ ! -s "$RDB" ]; then
  PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save '' --appendonly no \
    --enable-debug-command yes --daemonize no --logfile "$WORK/redis.log" &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "building dataset on port $PORT (scale $SCALE)..."
  if [ "${VALUES:-populate}" = text ]; then
    # Plain-text string values, as caches hold (DEBUG POPULATE pads its values with NUL bytes,
    # which JSON escapes as 6 bytes each).
    node "$ROOT/bench/rdb-gen.mjs" "$SCALE" text | redis-cli -p "$PORT" --pipe >/dev/null
  else
    redis-cli -p "$PORT" DEBUG POPULATE "$(node -e "console.log(Math.round(3000000*$SCALE))")" str 120 >/dev/null
    node "$ROOT/bench/rdb-gen.mjs" "$SCALE" | redis-cli -p "$PORT" --pipe >/dev/null
  fi
  redis-cli -p "$PORT" SELECT 1 >/dev/null
  redis-cli -p "$PORT" -n 1 DEBUG POPULATE 200000 db1 60 >/dev/null
  redis-cli -p "$PORT" FUNCTION LOAD "#!lua name=benchlib
redis.register_function('bench_get', function(keys) return redis.call('GET', keys[1]) end)" >/dev/null
  redis-cli -p "$PORT" SAVE >/dev/null
  kill "$PID"; wait "$PID" 2>/dev/null || true
  trap - EXIT
fi
SIZE=$(stat -c %s "$RDB")
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "file: $RDB ($SIZE bytes, $(redis-cli --version))"
sync; cat "$RDB" > /dev/null   # warm the page cache so both tools read from memory

measure() { # label, command...
  local label="$1"; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$WORK/rss.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { echo "$label failed:"; cat "$WORK/err.txt"; exit 1; }
  t1=$(date +%s.%N)
  local wall rss cpu
  wall=$(echo "$t1 - $t0" | bc)
  read -r rss usr sys < <(tail -1 "$WORK/rss.txt")
  cpu=$(echo "$usr + $sys" | bc)
  printf '%-40s wall %7.2f s  cpu %7.2f s  peak RSS %5d MB  %7.1f MB/s by wall, %7.1f MB/s by cpu\n' "$label" "$wall" "$cpu" "$((rss / 1024))" \
    "$(echo "$SIZE / 1048576 / $wall" | bc -l)" "$(echo "$SIZE / 1048576 / $cpu" | bc -l)"
  echo "$wall" > "$WORK/last-wall.txt"
}

measure "redis-check-rdb" redis-check-rdb "$RDB"
C_WALL=$(cat "$WORK/last-wall.txt")
measure "tsredis-ops rdb-check" node "$ROOT/bin/tsredis-ops.js" rdb-check "$RDB"
T_WALL=$(cat "$WORK/last-wall.txt")
grep -E '^(total|checksum)' "$WORK/out.txt" || true
measure "tsredis-ops rdb-dump --format jsonl" sh -c "node '$ROOT/bin/tsredis-ops.js' rdb-dump '$RDB' --format jsonl > '$WORK/dump.jsonl'"
echo "jsonl output: $(stat -c %s "$WORK/dump.jsonl") bytes, $(wc -l < "$WORK/dump.jsonl") lines"
measure "tsredis-ops rdb-dump --encoding base64" sh -c "node '$ROOT/bin/tsredis-ops.js' rdb-dump '$RDB' --encoding base64 > /dev/null"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf 'rdb-check / redis-check-rdb wall-time ratio: %.2f\n' "$(echo "$T_WALL / $C_WALL" | bc -l)"
