#!/usr/bin/env bash
# Acceptance check: a ~2 GB RDB through `backup` (to a local directory and to a local S3 at once)
# and `verify --deep` on both, with peak RSS (GNU time). Not part of the test suite.
# Usage: bench/backup-2gb-rss.sh [RDB=/tmp/tsredis-backup-bench-2g/dump.rdb]   (run `npx tsc -p .` first)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK=/tmp/tsredis-backup-bench-2g
RDB="${1:-$WORK/dump.rdb}"
mkdir -p "$WORK"
[ -s "$RDB" ] || "$ROOT/bench/backup-make-rdb.sh" "$RDB" 4 strings
[ -s "$RDB" ] || { echo "could not build $RDB"; exit 1; }
freeport() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
echo "RDB: $RDB ($(stat -c %s "$RDB") bytes)"
S3DIR="$WORK/s3"; rm -rf "$S3DIR" "$WORK/dir"; mkdir -p "$S3DIR"
S3PORT=$(freeport)
node "$ROOT/bench/backup-s3-server.mjs" "$S3PORT" "$S3DIR" > "$WORK/s3.out" &
S3PID=$!
trap 'kill $S3PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready "$WORK/s3.out" 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$S3PORT"
PASS="$WORK/passphrase"; echo "bench passphrase" > "$PASS"
TF='%e s wall, %M KiB peak RSS'
echo "== backup → $WORK/dir + s3://bench/big"
/usr/bin/time -f "$TF" node "$ROOT/bin/tsredis-ops.js" backup --from "$RDB" --to "$WORK/dir" --to s3://bench/big --s3-path-style \
  --passphrase-file "$PASS" --name big --quiet
for T in "$WORK/dir" s3://bench/big; do
  echo "== verify --deep $T"
  /usr/bin/time -f "$TF" node "$ROOT/bin/tsredis-ops.js" verify --target "$T" --s3-path-style --latest --deep --passphrase-file "$PASS" --json \
    | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log('  ok='+r.ok, r.results[0].checked.join(', '))})"
done
