#!/usr/bin/env bash
# Issue 19: full sync of a master holding only big keys (one 4M-element list, one 1M-field hash,
# one 1M-member zset, one 1M-member set, a 1M-entry stream; bench/bigkeys-populate.sh), disk and
# diskless, side by side with a real `redis-server --replicaof` replica: wall time until the link
# is up (real: master_link_status:up; ours: the "link up" log line, RDB verified and installed),
# our peak RSS (VmHWM), and the DEBUG DIGEST of what we stored loaded into a real server. Then
# rdb-check against redis-check-rdb on the same RDB.
# Usage: bench/replica-bigkeys.sh [WORKDIR=/tmp/tsredis-bigkeys-bench] [SCALE=1]
# Run `npx tsc -p .` first. Needs redis-server, redis-cli, redis-check-rdb.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-bigkeys-bench}"
SCALE="${2:-1}"
for b in redis-server redis-cli redis-check-rdb; do command -v $b >/dev/null || { echo "$b missing (apt-get install redis-server redis-tools)"; exit 1; }; done
rm -rf "$WORK"; mkdir -p "$WORK/master"
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
now() { date +%s.%N; }
hwm() { echo $(( $(grep VmHWM "/proc/$1/status" | awk '{print $2}') / 1024 )); }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_ping() { for _ in $(seq 600); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return; sleep 0.1; done; echo "redis on :$1 did not start"; exit 1; }

M=$(port)
redis-server --port "$M" --bind 127.0.0.1 --dir "$WORK/master" --save '' --appendonly no --enable-debug-command yes \
  --rdbcompression no --repl-diskless-sync-delay 0 --client-output-buffer-limit "replica 0 0 0" \
  --logfile "$WORK/master.log" --daemonize no &
PIDS+=($!)
wait_ping "$M"
echo "populating the big keys (scale $SCALE) on master :$M ..."
"$ROOT/bench/bigkeys-populate.sh" "$M" "$SCALE"
redis-cli -p "$M" SAVE >/dev/null
RDB="$WORK/master/dump.rdb"
WANT=$(redis-cli -p "$M" DEBUG DIGEST)
echo "dataset: $(redis-cli -p "$M" DBSIZE) keys, RDB $(stat -c %s "$RDB") bytes (rdbcompression no), used_memory $(redis-cli -p "$M" INFO memory | grep '^used_memory_human' | cut -d: -f2 | tr -d '\r'), $(redis-server --version | cut -d' ' -f3)"

for MODE in disk diskless; do
  redis-cli -p "$M" CONFIG SET repl-diskless-sync "$([ $MODE = diskless ] && echo yes || echo no)" >/dev/null
  # --- real replica
  rm -rf "$WORK/real"; mkdir -p "$WORK/real"
  R=$(port)
  redis-server --port "$R" --bind 127.0.0.1 --dir "$WORK/real" --save '' --appendonly no --logfile "$WORK/real.log" --daemonize no &
  RPID=$!; PIDS+=($RPID)
  wait_ping "$R"
  t0=$(now)
  redis-cli -p "$R" REPLICAOF 127.0.0.1 "$M" >/dev/null
  until redis-cli -p "$R" INFO replication | grep -q 'master_link_status:up'; do sleep 0.05; done
  REAL=$(echo "$(now) - $t0" | bc)
  printf '%-8s full sync, real redis-server replica: %6.2f s (its peak RSS %d MB)\n' "$MODE" "$REAL" "$(hwm $RPID)"
  redis-cli -p "$R" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; wait "$RPID" 2>/dev/null || true
  # --- tsredis-ops replicate
  rm -rf "$WORK/ours" "$WORK/ours.log" # a log left by the last mode would say "link up" at once
  t0=$(now)
  node "$ROOT/bin/tsredis-ops.js" replicate --master "redis://127.0.0.1:$M" --dir "$WORK/ours" 2> "$WORK/ours.log" &
  OPID=$!; PIDS+=($OPID)
  until grep -q 'link up' "$WORK/ours.log" 2>/dev/null; do kill -0 "$OPID" || { cat "$WORK/ours.log"; exit 1; }; sleep 0.05; done
  OURS=$(echo "$(now) - $t0" | bc)
  printf '%-8s full sync, tsredis-ops replicate:     %6.2f s (ratio %.2f; peak RSS %d MB)\n' "$MODE" "$OURS" "$(echo "$OURS / $REAL" | bc -l)" "$(hwm $OPID)"
  kill -TERM "$OPID"; wait "$OPID" || true
  # --- what we stored, loaded by a real server
  L=$(port)
  redis-server --port "$L" --bind 127.0.0.1 --dir "$WORK/ours" --appendonly yes --appenddirname appendonlydir --save '' \
    --enable-debug-command yes --logfile "$WORK/load.log" --daemonize no &
  LPID=$!; PIDS+=($LPID)
  wait_ping "$L"
  GOT=$(redis-cli -p "$L" DEBUG DIGEST)
  redis-cli -p "$L" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; wait "$LPID" 2>/dev/null || true
  [ "$GOT" = "$WANT" ] || { echo "$MODE DIGEST MISMATCH: master $WANT, ours $GOT"; exit 1; }
  printf '%-8s our files loaded in redis-server: DEBUG DIGEST equal to the master (%s)\n' "$MODE" "$GOT"
done

# --- rdb-check vs redis-check-rdb on the same file
t0=$(now); redis-check-rdb "$RDB" >/dev/null; C=$(echo "$(now) - $t0" | bc)
t0=$(now); /usr/bin/time -f '%M' -o "$WORK/rss" node "$ROOT/bin/tsredis-ops.js" rdb-check "$RDB" >/dev/null; T=$(echo "$(now) - $t0" | bc)
printf 'rdb-check %6.2f s (peak RSS %d MB) vs redis-check-rdb %6.2f s: ratio %.2f\n' "$T" "$(( $(cat "$WORK/rss") / 1024 ))" "$C" "$(echo "$T / $C" | bc -l)"
