#!/usr/bin/env bash
# Times `tsredis-ops rdb-convert` on the mixed RDB that bench/rdb-bench.sh builds with the real
# redis-server (built first when missing), next to what the C server needs to write the same
# dataset (SAVE on a redis-server that loaded it):
#   --rdb-version 10  the copy path (the 7.0 file's values are copied as stored, re-framed, CRC'd)
#   --rdb-version 9   the re-encode path (every listpack value rebuilt as ziplists, streams as v1)
# Usage: bench/rdb-convert.sh [WORKDIR=/tmp/tsredis-rdb-bench] [SCALE=1]   (run `npx tsc -p .` first)
# Outputs go to WORKDIR-convert/ (about 3x the dataset size).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-rdb-bench}"
SCALE="${2:-1}"
RDB="$WORK/dump.rdb"
[ -s "$RDB" ] || "$ROOT/bench/rdb-bench.sh" "$WORK" "$SCALE"
WORK="$WORK-convert"   # our outputs, apart from rdb-bench.sh's files
mkdir -p "$WORK"
SIZE=$(stat -c %s "$RDB")
echo "file: $RDB ($SIZE bytes, $(redis-server --version | cut -d' ' -f1-3))"
sync; cat "$RDB" > /dev/null

measure() { # label, command...
  local label="$1"; shift
  local t0 t1 wall rss
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$WORK/rss.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { echo "$label failed:"; cat "$WORK/err.txt"; exit 1; }
  t1=$(date +%s.%N)
  wall=$(echo "$t1 - $t0" | bc)
  read -r rss usr sys < <(tail -1 "$WORK/rss.txt")
  # CPU time too: on a shared, loaded machine it is the steadier figure.
  printf '%-48s wall %7.2f s   cpu %7.2f s   peak RSS %5d MB   %6.1f MB/s (input, wall)\n' "$label" "$wall" "$(echo "$usr + $sys" | bc)" "$((rss / 1024))" "$(echo "$SIZE / 1048576 / $wall" | bc -l)"
}

# The C reference: a redis-server that has loaded the file writes it again with SAVE.
SDIR="$WORK/save-ref"; rm -rf "$SDIR"; mkdir -p "$SDIR"; cp "$RDB" "$SDIR/dump.rdb"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$SDIR" --save '' --appendonly no --daemonize no --logfile "$SDIR/redis.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$SDIR"' EXIT
until [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = "PONG" ]; do sleep 0.2; done
# (cpu is redis-cli's here; the server's own CPU is not counted, so compare wall times for this row)
measure "redis-server SAVE (C, dataset in memory)" redis-cli -p "$PORT" SAVE
kill "$PID"; wait "$PID" 2>/dev/null || true

measure "tsredis-ops rdb-convert --rdb-version 10" node "$ROOT/bin/tsredis-ops.js" rdb-convert "$RDB" -o "$WORK/conv-v10.rdb" --rdb-version 10 --force
measure "tsredis-ops rdb-convert --rdb-version 9 --lossy" node "$ROOT/bin/tsredis-ops.js" rdb-convert "$RDB" -o "$WORK/conv-v9.rdb" --rdb-version 9 --lossy --force
echo "outputs: v10 $(stat -c %s "$WORK/conv-v10.rdb") bytes, v9 $(stat -c %s "$WORK/conv-v9.rdb") bytes"
cmp -s "$RDB" "$WORK/conv-v10.rdb" && echo "v10 output is byte-identical to the input (every value copied as stored)"
redis-check-rdb "$WORK/conv-v9.rdb" | grep -E "RDB looks OK|error" || true
