#!/usr/bin/env bash
# Point-in-time archive (issue 14), in one run:
#  1. archive lag under a pipelined redis-benchmark write load at full speed: `replicate --archive`
#     (gzip + OpenPGP passphrase, --segment-seconds 10) to a local directory; replica-status.json's
#     archive.lagSeconds sampled every 0.2 s (p50/p99/max), the replicate process's CPU (utime+stime
#     over wall time) and peak RSS (VmHWM); the master's write rate from INFO.
#  2. restore --at latest of the base + the segments the load wrote (download from the directory
#     target, sha256 against the manifests, gpg, gunzip), each timed with its peak RSS:
#       --to-dir --layout aof  the base RDB + the cut stream as the incr AOF (streamed, no engine)
#       --to redis://          the base by pipelined RESTORE, then the stream's commands (no engine)
#       --to-dir (layout rdb)  engine replay into one dump.rdb (ENGINE=0 skips it)
#     side by side with redis-server loading the replica's own appendonlydir (base RDB + incr AOF)
#     until loading:0; the restored appendonlydir and dump.rdb are loaded the same way (timed), and
#     every DEBUG DIGEST must equal the master's.
# Usage: bench/pitr.sh [WORKDIR=/tmp/tsredis-pitr-bench] [KEYS=1000000] [SECONDS=60] [VALUE=100] [PIPELINE=8] [BASE_VALUE]
# SECONDS may be NNNm: run the load until the stream holds NNN MiB. The base is KEYS keys of
# DEBUG POPULATE (VALUE bytes, zero-padded: compressible), or with BASE_VALUE, KEYS keys of
# BASE_VALUE random bytes (incompressible, sent with redis-cli --pipe).
# The load is redis-benchmark SET (-c 4 -P PIPELINE, random keys, VALUE bytes) in rounds of 200,000.
# --max-incr-size 16g: a 1 GB stream must not make the replica start a new base (a full sync) mid-run.
# Run `npx tsc -p .` first. Needs redis-server, redis-cli, redis-benchmark.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/tsredis-pitr-bench}"
KEYS="${2:-1000000}"
SECS="${3:-60}"
VAL="${4:-100}"
PIPE="${5:-8}"
BASEVAL="${6:-}"
for b in redis-server redis-cli redis-benchmark; do command -v $b >/dev/null || { echo "$b missing (apt-get install redis-server redis-tools)"; exit 1; }; done
rm -rf "$WORK"; mkdir -p "$WORK/master" "$WORK/rep" "$WORK/archive" "$WORK/restored" "$WORK/load"
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
now() { date +%s.%N; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
echo 'bench passphrase' > "$WORK/pass"; chmod 600 "$WORK/pass"

M=$(port)
redis-server --port "$M" --bind 127.0.0.1 --dir "$WORK/master" --save '' --appendonly no --enable-debug-command yes \
  --repl-diskless-sync yes --repl-diskless-sync-delay 0 --repl-backlog-size 256mb \
  --client-output-buffer-limit "replica 0 0 0" --logfile "$WORK/master.log" --daemonize no &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$M" ping >/dev/null 2>&1 && break; sleep 0.1; done
if [ -n "$BASEVAL" ]; then
  node -e "
    const n = +process.argv[1], size = +process.argv[2], crypto = require('crypto');
    const head = (k) => '*3\\r\\n\$3\\r\\nSET\\r\\n\$' + k.length + '\\r\\n' + k + '\\r\\n\$' + size + '\\r\\n';
    let i = 0;
    (function more() {
      while (i < n) {
        const parts = [];
        for (let j = 0; j < 1000 && i < n; j++, i++) parts.push(Buffer.from(head('base:' + i)), crypto.randomBytes(size), Buffer.from('\\r\\n'));
        if (!process.stdout.write(Buffer.concat(parts))) return process.stdout.once('drain', more);
      }
    })();" "$KEYS" "$BASEVAL" | redis-cli -p "$M" --pipe >/dev/null
  BASEDESC="$BASEVAL-byte random values"
else
  redis-cli -p "$M" DEBUG POPULATE "$KEYS" key "$VAL" >/dev/null
  BASEDESC="$VAL-byte values"
fi
echo "master :$M: $(redis-cli -p "$M" DBSIZE) keys ($BASEDESC), $(redis-server --version | cut -d' ' -f3), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

node "$ROOT/bin/tsredis-ops.js" replicate --master "redis://127.0.0.1:$M" --dir "$WORK/rep" --archive "$WORK/archive" --name bench \
  --passphrase-file "$WORK/pass" --segment-seconds 10 --max-incr-size 16g 2>"$WORK/replicate.log" &
RP=$!; PIDS+=($RP)
until grep -q 'link up' "$WORK/replicate.log" 2>/dev/null; do sleep 0.2; done
sleep 2
# --- 1. lag under load
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$RP/stat); t0=$(now)
off0=$(redis-cli -p "$M" INFO replication | tr -d '\r' | awk -F: '/^master_repl_offset/{print $2}')
( while kill -0 $RP 2>/dev/null; do
    node -e "try{const s=JSON.parse(require('fs').readFileSync('$WORK/rep/replica-status.json','utf8'));if(s.archive)console.log(Date.now()/1000, s.archive.lagSeconds)}catch{}"; sleep 0.2
  done ) > "$WORK/lag.txt" &
SAMPLER=$!; PIDS+=($SAMPLER)
OPS=0
more() {
  if [[ "$SECS" == *m ]]; then
    local off; off=$(redis-cli -p "$M" INFO replication | tr -d '\r' | awk -F: '/^master_repl_offset/{print $2}')
    [ $(( (off - off0) / 1048576 )) -lt "${SECS%m}" ]
  else [ "$(echo "$(now) - $t0 < $SECS" | bc)" = 1 ]; fi
}
while more; do
  redis-benchmark -p "$M" -t set -n 200000 -r 5000000 -d "$VAL" -P "$PIPE" -c 4 -q >/dev/null 2>&1
  OPS=$((OPS + 200000))
done
t1=$(now)
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$RP/stat)
off1=$(redis-cli -p "$M" INFO replication | tr -d '\r' | awk -F: '/^master_repl_offset/{print $2}')
sleep 14   # let the last segment be cut and uploaded, still sampling
kill $SAMPLER 2>/dev/null || true
TCK=$(getconf CLK_TCK)
echo "load: $OPS SETs in $(echo "$t1 - $t0" | bc) s = $(echo "$OPS / ($t1 - $t0)" | bc) ops/s; stream $(( (off1 - off0) / 1048576 )) MiB = $(echo "scale=1; ($off1 - $off0) / 1048576 / ($t1 - $t0)" | bc) MiB/s"
echo "replicate --archive CPU during the load: $(echo "scale=2; (($u1 - $u0) + ($s1 - $s0)) / $TCK / ($t1 - $t0) * 100" | bc)% of one core; peak RSS $(awk '/VmHWM/{print $2, $3}' /proc/$RP/status)"
# During the load, and in the 14 s after it (where the last, partial segment waits for --segment-seconds).
lagstats() { sort -n | awk -v what="$1" '{a[NR]=$1} END {printf "archive lag (s) %s, %d samples: p50 %.2f  p99 %.2f  max %.2f\n", what, NR, a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR]}'; }
awk -v t1="$t1" '$1 <= t1 {print $2}' "$WORK/lag.txt" | lagstats "during the load"
awk -v t1="$t1" '$1 > t1 {print $2}' "$WORK/lag.txt" | lagstats "after it"
kill -TERM $RP; wait $RP || true
du -sh "$WORK/archive" | awk '{print "archive on disk: " $1}'

# --- 2. restore --at latest vs redis-server loading the same base + incr AOF
MASTER_DIGEST=$(redis-cli -p "$M" DEBUG DIGEST)
redis-cli -p "$M" SHUTDOWN NOSAVE >/dev/null 2>&1 || true   # its memory back for the loads below
echo "archive: base $(ls -la "$WORK"/archive/*.b.*.rdb.gz.gpg | awk '{s+=$5} END {print s}') B stored, segments $(ls -la "$WORK"/archive/*.s.*.aof.gz.gpg | awk '{s+=$5; n++} END {print n " objects, " s}') B stored"
# Starts redis-server on DIR (extra flags after it), waits for loading:0: seconds in $LOADED, port in $LP.
load_dir() {
  local dir="$1"; shift
  LP=$(port); local t0; t0=$(now)
  redis-server --port "$LP" --bind 127.0.0.1 --dir "$dir" --save '' --enable-debug-command yes --logfile "$dir.log" --daemonize no "$@" >/dev/null &
  LPID=$!; PIDS+=($LPID)
  until [ "$(redis-cli -p "$LP" INFO persistence 2>/dev/null | tr -d '\r' | awk -F: '/^loading:/{print $2}')" = 0 ]; do sleep 0.05; done
  LOADED=$(echo "$(now) - $t0" | bc)
}
stop_loaded() { redis-cli -p "$LP" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; wait "$LPID" 2>/dev/null || true; }
# Runs restore with the given target flags; prints "<seconds> s, peak RSS <MB> MB".
restore_at() {
  local t0 t1; t0=$(now)
  /usr/bin/time -f '%M' -o "$WORK/restore.rss" node "$ROOT/bin/tsredis-ops.js" restore --from "$WORK/archive" --name bench --at latest \
    --passphrase-file "$WORK/pass" --quiet --tmp-dir "$WORK" "$@" 2>>"$WORK/restore.log"
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) s, peak RSS $(( $(cat "$WORK/restore.rss") / 1024 )) MB"
}

cp -r "$WORK/rep/appendonlydir" "$WORK/load/"
AOFDESC="base $(stat -c %s "$WORK"/load/appendonlydir/*.base.rdb) B + incr $(stat -c %s "$WORK"/load/appendonlydir/*.incr.aof) B"
load_dir "$WORK/load" --appendonly yes --appenddirname appendonlydir
echo "redis-server loading the replica's appendonlydir ($AOFDESC): $LOADED s, used_memory $(redis-cli -p "$LP" INFO memory | tr -d '\r' | awk -F: '/^used_memory_human/{print $2}')"
echo "  digest $(redis-cli -p "$LP" DEBUG DIGEST)"
stop_loaded; rm -rf "$WORK/load"

echo "restore --at latest --to-dir --layout aof: $(restore_at --to-dir "$WORK/restored-aof" --layout aof)"
echo "  wrote base $(stat -c %s "$WORK"/restored-aof/appendonlydir/*.base.rdb) B + incr $(stat -c %s "$WORK"/restored-aof/appendonlydir/*.incr.aof) B"
load_dir "$WORK/restored-aof" --appendonly yes --appenddirname appendonlydir
echo "  redis-server loading it: $LOADED s, digest $(redis-cli -p "$LP" DEBUG DIGEST)"
stop_loaded; rm -rf "$WORK/restored-aof"

T=$(port)
redis-server --port "$T" --bind 127.0.0.1 --dir "$WORK" --save '' --appendonly no --enable-debug-command yes --logfile "$WORK/target.log" --daemonize no >/dev/null &
TPID=$!; PIDS+=($TPID)
for _ in $(seq 100); do redis-cli -p "$T" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "restore --at latest --to redis:// (empty node): $(restore_at --to "redis://127.0.0.1:$T")"
echo "  digest $(redis-cli -p "$T" DEBUG DIGEST), used_memory $(redis-cli -p "$T" INFO memory | tr -d '\r' | awk -F: '/^used_memory_human/{print $2}')"
redis-cli -p "$T" SHUTDOWN NOSAVE >/dev/null 2>&1 || true; wait "$TPID" 2>/dev/null || true

if [ "${ENGINE:-1}" = 1 ]; then
  echo "restore --at latest --to-dir (layout rdb, engine replay): $(restore_at --to-dir "$WORK/restored")"
  load_dir "$WORK/restored"
  echo "  redis-server loading its dump.rdb ($(stat -c %s "$WORK"/restored/dump.rdb) B): $LOADED s, digest $(redis-cli -p "$LP" DEBUG DIGEST)"
  stop_loaded
fi
echo "master digest $MASTER_DIGEST"
