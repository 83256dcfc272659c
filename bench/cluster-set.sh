#!/usr/bin/env bash
# A ~1 GB 3-shard Redis Cluster backed up as one set (`backup --from cluster:…`) against the three
# shards backed up one after another (`backup --from redis://master --shard-only` x 3), wall time
# and peak RSS (GNU time). Both gzip + passphrase encryption to a local directory, diskless syncs
# without delay (repl-diskless-sync-delay 0 on the nodes, as --pause-writes wants anyway).
# Usage: bench/cluster-set.sh [MB=1024]   (run `npx tsc -p .` first). Not part of the test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MB="${1:-1024}"
WORK=/tmp/tsredis-cluster-set-bench
rm -rf "$WORK"; mkdir -p "$WORK"
freeport() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
PORTS=()
for i in 1 2 3; do
  P=$(freeport); PORTS+=("$P"); mkdir -p "$WORK/n$P"
  redis-server --port "$P" --bind 127.0.0.1 --dir "$WORK/n$P" --cluster-enabled yes --cluster-config-file nodes.conf \
    --save '' --appendonly no --repl-diskless-sync-delay 0 --logfile "$WORK/n$P/redis.log" --daemonize no &
  PIDS+=($!)
done
for P in "${PORTS[@]}"; do for _ in $(seq 100); do redis-cli -p "$P" PING >/dev/null 2>&1 && break; sleep 0.1; done; done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 100); do redis-cli -p "${PORTS[0]}" CLUSTER INFO | grep -q cluster_state:ok && break; sleep 0.2; done
sleep 1
echo "== populating ~$MB MB"
node "$ROOT/bench/cluster-populate.mjs" "${PORTS[0]}" "$MB" 1000
for P in "${PORTS[@]}"; do echo "  127.0.0.1:$P: $(redis-cli -p "$P" DBSIZE) keys, $(redis-cli -p "$P" INFO memory | grep -m1 used_memory_human)"; done
PASS="$WORK/passphrase"; echo "bench passphrase" > "$PASS"
TF='%e s wall, %M KiB peak RSS'
echo "== set: backup --from cluster:redis://127.0.0.1:${PORTS[0]}"
/usr/bin/time -f "$TF" node "$ROOT/bin/tsredis-ops.js" backup --from "cluster:redis://127.0.0.1:${PORTS[0]}" --to "$WORK/set" \
  --passphrase-file "$PASS" --name set --quiet --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log('  ok='+r.ok, r.set.keys.total+' keys', r.set.plain.size+' plain bytes', r.set.stored.size+' stored bytes, snapshots within '+r.set.snapshotSpreadMs+' ms')})"
echo "== the three shards one after another: backup --from redis://master --shard-only"
START=$(date +%s.%N)
for P in "${PORTS[@]}"; do
  /usr/bin/time -f "  127.0.0.1:$P: $TF" node "$ROOT/bin/tsredis-ops.js" backup --from "redis://127.0.0.1:$P" --shard-only --to "$WORK/shards" \
    --passphrase-file "$PASS" --name "shard-$P" --quiet
done
END=$(date +%s.%N)
echo "  total: $(echo "$END - $START" | bc) s wall"
