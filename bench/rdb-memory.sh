#!/usr/bin/env bash
# rdb-memory (issue 16) side by side with its peers, wall time and peak RSS:
#  1. the ~1 GB mixed RDB of bench/rdb-bench.sh: redis-check-rdb, `tsredis-ops rdb-check`, then
#     `rdb-memory` as text, --csv and --json --html;
#  2. a live redis-server loaded with that RDB: `redis-cli --memkeys` vs `rdb-memory redis://...`
#     (a snapshot over the replication protocol), wall time and the server's CPU (its own and its
#     reaped fork children's, from /proc/PID/stat) while each runs;
#  3. a file of PREFIX_KEYS keys `user:<i>:profile` (80-byte values, rdbcompression no; ~2 GB at
#     20 M keys) whose prefixes at depth 2 are all distinct: rdb-memory --depth 2 vs rdb-check.
# Usage: bench/rdb-memory.sh [WORKDIR=/tmp/tsredis-memory-bench] [SCALE=1.35] [PREFIX_KEYS=20000000 (0: skip)]
#        (run `npx tsc -p .` first; files are deleted at the end unless KEEP=1)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-memory-bench}"
SCALE="${2:-1.35}"
PREFIX_KEYS="${3:-20000000}"
CLI="$ROOT/bin/tsredis-ops.js"
mkdir -p "$WORK"
command -v redis-check-rdb >/dev/null || { echo "redis-check-rdb missing (apt-get install redis-server)"; exit 1; }
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
freeport() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

measure() { # label, size, command...
  local label="$1" size="$2"; shift 2
  local t0 t1 wall rss usr sys
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$WORK/rss.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { echo "$label failed:"; cat "$WORK/err.txt"; exit 1; }
  t1=$(date +%s.%N)
  wall=$(echo "$t1 - $t0" | bc)
  read -r rss usr sys < <(tail -1 "$WORK/rss.txt")
  printf '%-44s wall %7.2f s  cpu %7.2f s  peak RSS %5d MB  %6.1f MB/s\n' "$label" "$wall" "$(echo "$usr + $sys" | bc)" "$((rss / 1024))" "$(echo "$size / 1048576 / $wall" | bc -l)"
  echo "$wall" > "$WORK/last-wall.txt"
}
ratio() { printf '%s: %.2f\n' "$1" "$(echo "$2 / $3" | bc -l)"; }

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
# 1. The mixed bench file.
MIX="$WORK/mixed/dump.rdb"
[ -s "$MIX" ] || "$ROOT/bench/rdb-bench.sh" "$WORK/mixed" "$SCALE" > "$WORK/rdb-bench.log"
SIZE=$(stat -c %s "$MIX")
echo "mixed file: $MIX ($SIZE bytes)"
cat "$MIX" > /dev/null
measure "redis-check-rdb" "$SIZE" redis-check-rdb "$MIX"; C=$(cat "$WORK/last-wall.txt")
measure "tsredis-ops rdb-check" "$SIZE" node "$CLI" rdb-check "$MIX"; K=$(cat "$WORK/last-wall.txt")
measure "tsredis-ops rdb-memory (text)" "$SIZE" node "$CLI" rdb-memory "$MIX"; M=$(cat "$WORK/last-wall.txt")
head -3 "$WORK/out.txt"
measure "tsredis-ops rdb-memory --csv" "$SIZE" sh -c "node '$CLI' rdb-memory '$MIX' --csv > '$WORK/mem.csv'"
echo "csv: $(wc -l < "$WORK/mem.csv") lines"; rm -f "$WORK/mem.csv"
measure "tsredis-ops rdb-memory --json --html" "$SIZE" node "$CLI" rdb-memory "$MIX" --json --html "$WORK/report.html"
ratio "rdb-memory / rdb-check wall" "$M" "$K"
ratio "rdb-memory / redis-check-rdb wall" "$M" "$C"

# 2. A live server holding the same data.
PORT=$(freeport)
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK/mixed" --dbfilename dump.rdb --save '' --appendonly no --daemonize no --logfile "$WORK/live.log" &
LIVE=$!; PIDS+=("$LIVE")
until [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ]; do sleep 0.2; done
echo "live server: $(redis-cli -p "$PORT" dbsize) keys in db 0, used_memory $(redis-cli -p "$PORT" info memory | grep '^used_memory:' | tr -d '\r')"
cpu_of() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; } # utime stime cutime cstime (ticks)
TCK=$(getconf CLK_TCK)
server_side() { # label, command...
  local label="$1"; shift
  local before after
  before=$(cpu_of "$LIVE")
  measure "$label" "$SIZE" "$@"
  after=$(cpu_of "$LIVE")
  printf '%-44s server CPU %.2f s (its own + its fork children)\n' "" "$(echo "($after - $before) / $TCK" | bc -l)"
}
server_side "redis-cli --memkeys (db 0 only)" redis-cli -p "$PORT" --memkeys
tail -4 "$WORK/out.txt"
server_side "tsredis-ops rdb-memory redis:// (all dbs)" node "$CLI" rdb-memory "redis://127.0.0.1:$PORT"
head -2 "$WORK/out.txt"
kill "$LIVE"; wait "$LIVE" 2>/dev/null || true
rm -rf "$WORK/mixed"

# 3. Many distinct prefixes (PREFIX_KEYS=0 skips it).
[ "$PREFIX_KEYS" -gt 0 ] || exit 0
PORT=$(freeport)
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --dbfilename prefixes.rdb --save '' --appendonly no --rdbcompression no --daemonize no --logfile "$WORK/prefix.log" &
PS=$!; PIDS+=("$PS")
until [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ]; do sleep 0.2; done
STEP=1000000
for ((from = 0; from < PREFIX_KEYS; from += STEP)); do
  to=$((from + STEP < PREFIX_KEYS ? from + STEP : PREFIX_KEYS))
  redis-cli -p "$PORT" EVAL "local v = string.rep('v', 80) for i = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do redis.call('SET', 'user:' .. i .. ':profile', v) end" 0 "$from" "$to" >/dev/null
done
redis-cli -p "$PORT" SAVE >/dev/null
kill "$PS"; wait "$PS" 2>/dev/null || true
PF="$WORK/prefixes.rdb"; PSIZE=$(stat -c %s "$PF")
echo "prefix file: $PF ($PSIZE bytes, $PREFIX_KEYS keys, each its own prefix at depth 2)"
cat "$PF" > /dev/null
measure "tsredis-ops rdb-check" "$PSIZE" node "$CLI" rdb-check "$PF"; K=$(cat "$WORK/last-wall.txt")
measure "tsredis-ops rdb-memory --depth 2" "$PSIZE" node "$CLI" rdb-memory "$PF" --depth 2; M=$(cat "$WORK/last-wall.txt")
grep -E '^total|folded' "$WORK/out.txt" || true
ratio "rdb-memory / rdb-check wall" "$M" "$K"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
