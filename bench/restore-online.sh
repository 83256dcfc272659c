#!/usr/bin/env bash
# Online restore throughput: `tsredis-ops restore FILE --to URL` against
# `tsredis-ops rdb-dump FILE --format resp | redis-cli --pipe`, each into a fresh redis-server of the
# same configuration, side by side in one run, on the same 1M-key RDB (700k strings from
# DEBUG POPULATE + 100k each of small hashes, lists and zsets).
# Usage: bench/restore-online.sh [keys=1000000]   (build first: npx tsc -p .)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/tsredis-bench-restore.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

N=${1:-1000000}
STR=$((N * 7 / 10)); COLL=$((N / 10))

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() { # dir port
  mkdir -p "$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --save '' --appendonly no --daemonize no --logfile "$1/log" --enable-debug-command yes &
  PIDS+=($!)
  until redis-cli -p "$2" ping >/dev/null 2>&1; do sleep 0.05; done
}

SRC=$(free_port); start "$WORK/src" "$SRC"
redis-cli -p "$SRC" DEBUG POPULATE "$STR" str 64 >/dev/null
awk -v n="$COLL" 'BEGIN { for (i = 0; i < n; i++) {
  printf "*6\r\n$4\r\nHSET\r\n$%d\r\nh:%d\r\n$2\r\nf1\r\n$8\r\nvalue-01\r\n$2\r\nf2\r\n$8\r\nvalue-02\r\n", length("h:" i), i
  printf "*5\r\n$5\r\nRPUSH\r\n$%d\r\nl:%d\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", length("l:" i), i
  printf "*6\r\n$4\r\nZADD\r\n$%d\r\nz:%d\r\n$3\r\n1.5\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n", length("z:" i), i
} }' | redis-cli -p "$SRC" --pipe >/dev/null
redis-cli -p "$SRC" SAVE >/dev/null
RDB="$WORK/src/dump.rdb"
KEYS=$(redis-cli -p "$SRC" DBSIZE)
echo "dataset: $KEYS keys, $(du -h "$RDB" | cut -f1) RDB; redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), node $(node --version), $(nproc) cores"

rate() { node -e "console.log(Math.round($1 / (($3 - $2) / 1e9)))"; }
# CPU seconds a redis-server spent (user + sys) since it started.
server_cpu() { redis-cli -p "$1" INFO cpu | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.2f", s }'; }

A=$(free_port); start "$WORK/a" "$A"
B=$(free_port); start "$WORK/b" "$B"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s%N)
/usr/bin/time -f '%U %S' -o "$WORK/cpu-a" node bin/tsredis-ops.js restore "$RDB" --to "redis://127.0.0.1:$A" --quiet
t1=$(date +%s%N)
[ "$(redis-cli -p "$A" DBSIZE)" = "$KEYS" ] || { echo "restore: key count mismatch"; exit 1; }

t2=$(date +%s%N)
/usr/bin/time -f '%U %S' -o "$WORK/cpu-b" sh -c "node bin/tsredis-ops.js rdb-dump '$RDB' --format resp | redis-cli -p '$B' --pipe >/dev/null"
t3=$(date +%s%N)
[ "$(redis-cli -p "$B" DBSIZE)" = "$KEYS" ] || { echo "rdb-dump | redis-cli --pipe: key count mismatch"; exit 1; }

[ "$(redis-cli -p "$A" DEBUG DIGEST)" = "$(redis-cli -p "$SRC" DEBUG DIGEST)" ] && same=yes || same=no
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
echo "load average before the runs: $LOAD"
printf '%-46s %9s %11s %14s %14s\n' "" "wall" "keys/s" "client CPU s" "server CPU s"
printf '%-46s %8.2fs %11s %14s %14s\n' "tsredis-ops restore --to (RESTORE pipelines)" "$(echo "($t1-$t0)/1000000000" | bc -l)" "$(rate "$KEYS" "$t0" "$t1")" "$(cpu "$WORK/cpu-a")" "$(server_cpu "$A")"
printf '%-46s %8.2fs %11s %14s %14s\n' "rdb-dump --format resp | redis-cli --pipe" "$(echo "($t3-$t2)/1000000000" | bc -l)" "$(rate "$KEYS" "$t2" "$t3")" "$(cpu "$WORK/cpu-b")" "$(server_cpu "$B")"
echo "restored digest equal to source: $same"
