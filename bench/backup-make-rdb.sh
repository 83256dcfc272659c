#!/usr/bin/env bash
# Builds a mixed RDB with the real redis-server for the backup benchmarks: DEBUG POPULATE strings
# plus lists, hashes, zsets, sets and streams from bench/rdb-gen.mjs, then SAVE.
# Usage: bench/backup-make-rdb.sh RDB SCALE [mixed|strings]   (mixed: SCALE 1 ≈ 0.75 GB; strings:
# only DEBUG POPULATE 150-byte values saved without LZF, SCALE 1 ≈ 0.5 GB, quick to build on a busy box)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RDB="$1"; SCALE="$2"; MODE="${3:-mixed}"
mkdir -p "$(dirname "$RDB")"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$(dirname "$RDB")" --dbfilename "$(basename "$RDB")" --save '' \
  --appendonly no --enable-debug-command yes --daemonize no --logfile "$(dirname "$RDB")/redis.log" &
RPID=$!
trap 'kill $RPID 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
if [ "$MODE" = strings ]; then
  redis-cli -p "$PORT" CONFIG SET rdbcompression no >/dev/null
  redis-cli -p "$PORT" DEBUG POPULATE "$(node -e "console.log(Math.round(3000000*$SCALE))")" str 150 >/dev/null
else
  redis-cli -p "$PORT" DEBUG POPULATE "$(node -e "console.log(Math.round(3000000*$SCALE))")" str 120 >/dev/null
  node "$ROOT/bench/rdb-gen.mjs" "$SCALE" | redis-cli -p "$PORT" --pipe >/dev/null
fi
redis-cli -p "$PORT" SAVE >/dev/null
