#!/usr/bin/env bash
# Online `restore --verify` of the issue-19 big-key RDB (bench/bigkeys-populate.sh: 4M-element list,
# 1M-field hash, 1M-member zset, 1M-member set, 1M-entry stream; rdbcompression no), side by side
# in one run with `rdb-dump --format resp | redis-cli --pipe` into a fresh server, each into an
# empty server: wall and peak RSS of restore (RESTORE per key), restore --verify, restore
# --big-key-size 1000000 (big keys rebuilt with commands) with and without --verify; and the
# server's own cost of verifying: DEBUG DIGEST-VALUE of each big key, timed with redis-cli on the
# loaded source server (a floor for --verify, which asks the same of the target).
# Usage: bench/restore-verify-bigkeys.sh [rounds=1]   (build first: npx tsc -p .; BIN=path/to/tsredis-ops.js measures
# another build instead of bin/tsredis-ops.js; BASE=path/to/tsredis-ops.js
# also measures another build, e.g. an older commit's, in the same rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/tsredis-ops.js}
ROUNDS=${1:-1}
WORK=$(mktemp -d /tmp/tsredis-bench-verify.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() { # dir port
  mkdir -p "$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --save '' --appendonly no --rdbcompression no --daemonize no --logfile "$1/log" --enable-debug-command yes &
  PIDS+=($!)
  until redis-cli -p "$2" ping >/dev/null 2>&1; do sleep 0.05; done
}
stop_last() { local p=${PIDS[-1]}; kill "$p"; wait "$p" 2>/dev/null || true; unset 'PIDS[-1]'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
row() { printf '%-58s %8s %9s  %s\n' "$@"; }

SRC=$(free_port); start "$WORK/src" "$SRC"
bash bench/bigkeys-populate.sh "$SRC"
DIGEST=$(redis-cli -p "$SRC" DEBUG DIGEST)
redis-cli -p "$SRC" --rdb "$WORK/big.rdb" >/dev/null 2>&1
echo "dataset: $(du -h "$WORK/big.rdb" | cut -f1) RDB; redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), node $(node --version), $(nproc) cores"

for round in $(seq "$ROUNDS"); do
  echo "round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  row "" wall "peak RSS" ""
  all=0
  for k in biglist bighash bigzset bigset bigstream; do
    t0=$(date +%s%N); redis-cli -p "$SRC" DEBUG DIGEST-VALUE "$k" >/dev/null; t1=$(date +%s%N)
    row "  server: DEBUG DIGEST-VALUE $k" "$(secs "$t0" "$t1")s" "" ""
    all=$((all + t1 - t0))
  done
  row "server: DEBUG DIGEST-VALUE of the five keys" "$(secs 0 "$all")s" "" "(the floor --verify adds to the server's work)"

  P=$(free_port); start "$WORK/pipe$round" "$P"
  t0=$(date +%s%N)
  node "$BIN" rdb-dump "$WORK/big.rdb" --format resp | redis-cli -p "$P" --pipe >/dev/null
  t1=$(date +%s%N)
  [ "$(redis-cli -p "$P" DEBUG DIGEST)" = "$DIGEST" ] && same=yes || same=no
  row "rdb-dump --format resp | redis-cli --pipe" "$(secs "$t0" "$t1")s" "" "digest equal: $same"
  stop_last

  for args in "" "--verify" "--big-key-size 1000000" "--big-key-size 1000000 --verify"; do
    for bin in "$BIN" ${BASE:+"$BASE"}; do
      P=$(free_port); start "$WORK/r$P" "$P"
      t0=$(date +%s%N)
      # shellcheck disable=SC2086 # args are words
      /usr/bin/time -f '%M' -o "$WORK/t" node "$bin" restore "$WORK/big.rdb" --to "redis://127.0.0.1:$P" --quiet $args --json >"$WORK/rep.json" || true
      t1=$(date +%s%N)
      [ "$(redis-cli -p "$P" DEBUG DIGEST)" = "$DIGEST" ] && same=yes || same=no
      notes=$(node -e 'const r=require(process.argv[1]); console.log(`as commands: ${r.result.asCommands}` + (r.verify ? `, verify ok: ${r.verify.ok}, checked ${r.verify.checked}` : ""))' "$WORK/rep.json")
      who=$([ "$bin" = "$BIN" ] && echo "" || echo "(BASE) ")
      row "${who}restore --to $args" "$(secs "$t0" "$t1")s" "$(($(tail -1 "$WORK/t") / 1024)) MB" "digest equal: $same; $notes"
      stop_last
    done
  done
done
