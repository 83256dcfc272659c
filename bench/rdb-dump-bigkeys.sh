#!/usr/bin/env bash
# Big keys through rdb-dump and online restore, side by side in one run, on an RDB written by
# redis-server (rdbcompression no) holding one 4M-element list, a 1M-field hash, a 1M-member zset,
# a 1M-member set and a 1M-entry stream (issue 19's file):
#   - rdb-dump --format jsonl / resp: wall and peak RSS;
#   - rdb-dump --format resp | redis-cli --pipe into an empty server: wall, digest equal;
#   - restore --to (default --big-key-size: one RESTORE per key) and restore --to --big-key-size 1000000
#     (every big key rebuilt with commands), each into an empty server: wall, peak RSS, digest equal;
#     then the same with --verify.
# Usage: bench/rdb-dump-bigkeys.sh [scale=1]   (scale 0.25: a quarter of every size; build first: npx tsc -p .)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/tsredis-bench-bigkeys.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

SCALE=${1:-1}
n() { awk -v s="$SCALE" -v n="$1" 'BEGIN { printf "%d", n * s / 1000 }'; } # thousands
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() { # dir port
  mkdir -p "$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --save '' --appendonly no --daemonize no --logfile "$1/log" --enable-debug-command yes --rdbcompression no &
  PIDS+=($!)
  until redis-cli -p "$2" ping >/dev/null 2>&1; do sleep 0.05; done
}
stop_last() { local p=${PIDS[-1]}; kill "$p"; wait "$p" 2>/dev/null || true; unset 'PIDS[-1]'; }

SRC=$(free_port); start "$WORK/src" "$SRC"
bash bench/bigkeys-populate.sh "$SRC" "$SCALE"
DIGEST=$(redis-cli -p "$SRC" DEBUG DIGEST)
RDB="$WORK/big.rdb"
redis-cli -p "$SRC" --rdb "$RDB" >/dev/null 2>&1
stop_last
echo "dataset: $(du -h "$RDB" | cut -f1) RDB (list $(n 4000000)k, hash/zset/set/stream $(n 1000000)k each); redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), node $(node --version), $(nproc) cores"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

row() { printf '%-62s %8s %9s  %s\n' "$@"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
row "" wall "peak RSS" ""
for fmt in jsonl resp; do
  /usr/bin/time -f '%e %M' -o "$WORK/t" node bin/tsredis-ops.js rdb-dump "$RDB" --format "$fmt" >/dev/null
  read -r wall rss <"$WORK/t"
  row "rdb-dump --format $fmt > /dev/null" "${wall}s" "$((rss / 1024)) MB" ""
done

P=$(free_port); start "$WORK/pipe" "$P"
t0=$(date +%s%N)
node bin/tsredis-ops.js rdb-dump "$RDB" --format resp | redis-cli -p "$P" --pipe >"$WORK/pipe.out"
t1=$(date +%s%N)
[ "$(redis-cli -p "$P" DEBUG DIGEST)" = "$DIGEST" ] && same=yes || same=no
row "rdb-dump --format resp | redis-cli --pipe" "$(secs "$t0" "$t1")s" "" "digest equal: $same ($(tail -1 "$WORK/pipe.out"))"
stop_last

for args in "" "--big-key-size 1000000" "--verify" "--big-key-size 1000000 --verify"; do
  P=$(free_port); start "$WORK/r$P" "$P"
  t0=$(date +%s%N)
  # shellcheck disable=SC2086 # args are words
  /usr/bin/time -f '%M' -o "$WORK/t" node bin/tsredis-ops.js restore "$RDB" --to "redis://127.0.0.1:$P" --quiet $args --json >"$WORK/rep.json"
  t1=$(date +%s%N)
  [ "$(redis-cli -p "$P" DEBUG DIGEST)" = "$DIGEST" ] && same=yes || same=no
  notes=$(node -e 'const r=require(process.argv[1]); console.log(`as commands: ${r.result.asCommands}` + (r.verify ? `, verify ok: ${r.verify.ok}` : ""))' "$WORK/rep.json")
  row "restore --to ${args}" "$(secs "$t0" "$t1")s" "$(($(cat "$WORK/t") / 1024)) MB" "digest equal: $same; $notes"
  stop_last
done
