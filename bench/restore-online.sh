#!/usr/bin/env bash
# Online restore throughput: `tsredis-ops restore FILE --to URL` against
# `tsredis-ops rdb-dump FILE --format resp | redis-cli --pipe`, each into a fresh redis-server of the
# same configuration, side by side in one run, on the same 1M-key RDB (700k strings from
# DEBUG POPULATE + 100k each of small hashes, lists and zsets).
# Usage: bench/restore-online.sh [keys-in-millions=1]   (build first: npx tsc -p .)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/tsredis-bench-restore.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
M=${1:-1}
N=$((M * 1000000))
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

A=$(free_port); start "$WORK/a" "$A"
t0=$(date +%s%N)
node bin/tsredis-ops.js restore "$RDB" --to "redis://127.0.0.1:$A" --quiet
t1=$(date +%s%N)
[ "$(redis-cli -p "$A" DBSIZE)" = "$KEYS" ] || { echo "restore: key count mismatch"; exit 1; }

B=$(free_port); start "$WORK/b" "$B"
t2=$(date +%s%N)
node bin/tsredis-ops.js rdb-dump "$RDB" --format resp | redis-cli -p "$B" --pipe >/dev/null
t3=$(date +%s%N)
[ "$(redis-cli -p "$B" DBSIZE)" = "$KEYS" ] || { echo "rdb-dump | redis-cli --pipe: key count mismatch"; exit 1; }

[ "$(redis-cli -p "$A" DEBUG DIGEST)" = "$(redis-cli -p "$SRC" DEBUG DIGEST)" ] && same=yes || same=no
printf '%-48s %8.2f s  %9s keys/s\n' "tsredis-ops restore --to (RESTORE pipelines)" "$(echo "($t1-$t0)/1000000000" | bc -l)" "$(rate "$KEYS" "$t0" "$t1")"
printf '%-48s %8.2f s  %9s keys/s\n' "rdb-dump --format resp | redis-cli --pipe" "$(echo "($t3-$t2)/1000000000" | bc -l)" "$(rate "$KEYS" "$t2" "$t3")"
echo "restored digest equal to source: $same"
