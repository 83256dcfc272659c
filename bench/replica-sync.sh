#!/usr/bin/env bash
# Side by side against a real redis-server replica of the same master, in one run:
#  1. full sync time of a ~1 GB dataset (real replica: REPLICAOF until master_link_status:up;
#     tsredis-ops replicate: from launch until its "link up" log line, RDB verified and installed);
#  2. streaming while redis-benchmark writes with pipelining: lag probed by a client doing
#     SET + WAIT 1 on one connection every 0.5 s (WAIT returns once the replica has applied the
#     write: it answers REPLCONF GETACK), plus peak RSS (VmHWM) of our process.
# Usage: bench/replica-sync.sh [WORKDIR=/tmp/tsredis-replica-bench] [KEYS=7000000] [MODE=disk|diskless]
# Run `npx tsc -p .` first. Needs redis-server, redis-cli, redis-benchmark.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-replica-bench}"
KEYS="${2:-7000000}"
MODE="${3:-disk}"
for b in redis-server redis-cli redis-benchmark; do command -v $b >/dev/null || { echo "$b missing (apt-get install redis-server redis-tools)"; exit 1; }; done
rm -rf "$WORK"; mkdir -p "$WORK/master" "$WORK/real"
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
now() { date +%s.%N; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

M=$(port)
DISKLESS=$([ "$MODE" = diskless ] && echo yes || echo no)
redis-server --port "$M" --bind 127.0.0.1 --dir "$WORK/master" --save '' --appendonly no --enable-debug-command yes \
  --rdbcompression no --repl-diskless-sync "$DISKLESS" --repl-diskless-sync-delay 0 --repl-backlog-size 512mb \
  --client-output-buffer-limit "replica 0 0 0" --logfile "$WORK/master.log" --daemonize no &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$M" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "populating $KEYS keys (120-byte values, rdbcompression no) on master :$M ..."
redis-cli -p "$M" DEBUG POPULATE "$KEYS" key 120 >/dev/null
redis-cli -p "$M" -n 1 DEBUG POPULATE 300000 h 40 >/dev/null
redis-cli -p "$M" BGSAVE >/dev/null; sleep 1
while [ "$(redis-cli -p "$M" INFO persistence | grep -c 'rdb_bgsave_in_progress:1')" = 1 ]; do sleep 0.5; done
RDB_SIZE=$(stat -c %s "$WORK/master/dump.rdb"); rm -f "$WORK/master/dump.rdb"
echo "dataset: $(redis-cli -p "$M" DBSIZE) keys in db0, RDB $RDB_SIZE bytes, $MODE transfer, $(redis-server --version | cut -d' ' -f3)"

# --- 1. real replica full sync
R=$(port)
redis-server --port "$R" --bind 127.0.0.1 --dir "$WORK/real" --save '' --appendonly no --logfile "$WORK/real.log" --daemonize no &
RPID=$!; PIDS+=($RPID)
for _ in $(seq 100); do redis-cli -p "$R" ping >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(now)
redis-cli -p "$R" REPLICAOF 127.0.0.1 "$M" >/dev/null
until redis-cli -p "$R" INFO replication | grep -q 'master_link_status:up'; do sleep 0.05; done
t1=$(now); REAL=$(echo "$t1 - $t0" | bc)
printf 'full sync, real redis-server replica:   %6.2f s\n' "$REAL"
redis-cli -p "$R" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; wait "$RPID" 2>/dev/null || true

# --- 2. tsredis-ops replicate full sync
t0=$(now)
node "$ROOT/bin/tsredis-ops.js" replicate --master "redis://127.0.0.1:$M" --dir "$WORK/ours" 2> "$WORK/ours.log" &
OPID=$!; PIDS+=($OPID)
until grep -q 'link up' "$WORK/ours.log" 2>/dev/null; do kill -0 "$OPID" || { cat "$WORK/ours.log"; exit 1; }; sleep 0.05; done
t1=$(now); OURS=$(echo "$t1 - $t0" | bc)
printf 'full sync, tsredis-ops replicate:       %6.2f s   (ratio %.2f; peak RSS %d MB)\n' "$OURS" "$(echo "$OURS / $REAL" | bc -l)" \
  "$(( $(grep VmHWM /proc/$OPID/status | awk '{print $2}') / 1024 ))"

# --- 3. streaming under redis-benchmark (pipelined) with only our replica attached
probe() { # while $1 runs: SET+WAIT 1 probes (replica lag + probe overhead) alternating with
           # SET+WAIT 0 probes (probe overhead alone: redis-cli start, connect, a busy master)
  local pid=$1 n=0 sum=0 max=0 bsum=0 bmax=0
  while kill -0 "$pid" 2>/dev/null; do
    local a b c ms bms
    a=$(date +%s%N)
    printf 'SET __lagprobe x\nWAIT 1 20000\n' | redis-cli -p "$M" > "$WORK/probe.out"
    b=$(date +%s%N)
    [ "$(tail -1 "$WORK/probe.out")" = 1 ] || echo "WAIT timed out" >&2
    printf 'SET __lagprobe x\nWAIT 0 0\n' | redis-cli -p "$M" > /dev/null
    c=$(date +%s%N)
    ms=$(( (b - a) / 1000000 )); bms=$(( (c - b) / 1000000 ))
    n=$((n + 1)); sum=$((sum + ms)); bsum=$((bsum + bms))
    [ $ms -gt $max ] && max=$ms; [ $bms -gt $bmax ] && bmax=$bms
    sleep 0.5
  done
  n=$((n > 0 ? n : 1))
  echo "$max $((sum / n)) $n $bmax $((bsum / n))"
}
BENCH_ARGS=(-p "$M" -P 32 -c 20 -n 2000000 -r 1000000 -d 64 -t set,incr,lpush,hset,zadd -q)
stream_phase() { # label, offset-of-replica command: benchmark + probes, then time to catch up
  local label="$1" offcmd="$2"
  echo "streaming into $label: redis-benchmark ${BENCH_ARGS[*]}"
  redis-benchmark "${BENCH_ARGS[@]}" > "$WORK/bench.out" 2>&1 &
  local bpid=$!
  read -r MAX MEAN N BMAX BMEAN < <(probe $bpid)
  wait $bpid || true
  tr '\r' '\n' < "$WORK/bench.out" | grep -E 'requests per second' | sed 's/^/  /'
  local t0 moff
  t0=$(now)
  moff=$(redis-cli -p "$M" INFO replication | grep master_repl_offset | cut -d: -f2 | tr -d '\r')
  until [ "$(eval "$offcmd")" -ge "$moff" ] 2>/dev/null; do sleep 0.05; done
  printf '  %s lag (SET+WAIT 1 probe, %d probes): max %d ms, mean %d ms; probe overhead alone (WAIT 0): max %d ms, mean %d ms; caught up %.2f s after the benchmark ended\n' \
    "$label" "$N" "$MAX" "$MEAN" "$BMAX" "$BMEAN" "$(echo "$(now) - $t0" | bc)"
}

# --- 3. streaming with only our replica attached
stream_phase "tsredis-ops replicate" "grep -o '\"offset\": [0-9]*' '$WORK/ours/replica-status.json' | awk '{print \$2}'"
printf '  tsredis-ops replicate peak RSS: %d MB; incr AOF %d bytes\n' "$(( $(grep VmHWM /proc/$OPID/status | awk '{print $2}') / 1024 ))" \
  "$(stat -c %s "$WORK"/ours/appendonlydir/*.incr.aof)"
kill -TERM "$OPID"; wait "$OPID" || true
tail -1 "$WORK/ours.log"

# --- 4. the same load with only a real replica attached (baseline for the probe figures)
rm -rf "$WORK/real"; mkdir -p "$WORK/real"
redis-server --port "$R" --bind 127.0.0.1 --dir "$WORK/real" --save '' --appendonly no --logfile "$WORK/real.log" --daemonize no &
RPID=$!; PIDS+=($RPID)
for _ in $(seq 100); do redis-cli -p "$R" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$R" REPLICAOF 127.0.0.1 "$M" >/dev/null
until redis-cli -p "$R" INFO replication | grep -q 'master_link_status:up'; do sleep 0.2; done
stream_phase "real redis-server replica" "redis-cli -p $R INFO replication | grep slave_repl_offset | cut -d: -f2 | tr -d '\r'"
redis-cli -p "$R" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
