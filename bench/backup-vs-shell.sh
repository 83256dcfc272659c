#!/usr/bin/env bash
# tsredis-ops backup (RDB parse + CRC, sha256 + sha1, gzip -1, OpenPGP AES-256, stored sha256,
# upload to a local S3 with post-upload check) against the shell pipeline
#   gzip -1 | gpg -c | tee >(sha256sum) | <S3 upload of the same bytes>
# on the same RDB, side by side in one run, with wall time and peak RSS (GNU time).
# Usage: bench/backup-vs-shell.sh [RDB=/tmp/tsredis-backup-bench/dump.rdb] [SCALE=1.35]
# (run `npx tsc -p .` first; without RDB a ~1 GB mixed dataset is built with the real redis-server)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK=/tmp/tsredis-backup-bench
RDB="${1:-$WORK/dump.rdb}"
SCALE="${2:-1.35}"
mkdir -p "$WORK"
for t in redis-server redis-cli gpg gzip sha256sum /usr/bin/time; do command -v "$t" >/dev/null || { echo "missing: $t"; exit 1; }; done
freeport() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

if [ ! -s "$RDB" ]; then
  PORT=$(freeport)
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$(dirname "$RDB")" --dbfilename "$(basename "$RDB")" --save '' \
    --appendonly no --enable-debug-command yes --daemonize no --logfile "$WORK/redis.log" &
  RPID=$!
  for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "building dataset (scale $SCALE)..."
  redis-cli -p "$PORT" DEBUG POPULATE "$(node -e "console.log(Math.round(3000000*$SCALE))")" str 120 >/dev/null
  node "$ROOT/bench/rdb-gen.mjs" "$SCALE" | redis-cli -p "$PORT" --pipe >/dev/null
  redis-cli -p "$PORT" SAVE >/dev/null
  kill "$RPID"; wait "$RPID" 2>/dev/null || true
fi
SIZE=$(stat -c %s "$RDB")
echo "RDB: $RDB ($SIZE bytes); $(nproc) cores; $(gpg --version | head -1); node $(node --version)"

S3DIR="$WORK/s3"; rm -rf "$S3DIR"; mkdir -p "$S3DIR"
S3PORT=$(freeport)
node "$ROOT/bench/backup-s3-server.mjs" "$S3PORT" "$S3DIR" > "$WORK/s3.out" &
S3PID=$!
trap 'kill $S3PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready "$WORK/s3.out" 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
PASS="$WORK/passphrase"; echo "bench passphrase $(date +%s)" > "$PASS"
sync; cat "$RDB" > /dev/null   # page cache warm for both

TF='%e s wall, %U s user, %S s sys, %M KiB peak RSS, %P CPU'
# CPU seconds the s3rver process used so far (it shares the 2 cores with whichever side runs).
s3cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$S3PID/stat"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo
echo "== tsredis-ops backup --compress gzip (level 1) --passphrase-file → s3://bench/ours (local s3rver); load $(loadavg)"
C0=$(s3cpu)
/usr/bin/time -f "$TF" node "$ROOT/bin/tsredis-ops.js" backup --from "$RDB" --to s3://bench/ours --s3-endpoint "http://127.0.0.1:$S3PORT" \
  --s3-path-style --passphrase-file "$PASS" --name bench --quiet --json > "$WORK/ours.json"
echo "  s3rver CPU $(echo "$(s3cpu) - $C0" | bc) s"
node -e "const o=require('$WORK/ours.json'); console.log('  stored', o.manifest.stored.size, 'bytes;', o.targets[0].verifiedBy, '; keys', o.manifest.keys.total)"

echo "== shell: gzip -1 | gpg -c (AES256, no gpg compression) | tee >(sha256sum) | S3 upload (lib-storage) → s3://bench/shell; load $(loadavg)"
C0=$(s3cpu)
/usr/bin/time -f "$TF" bash -c "set -o pipefail; gzip -1 < '$RDB' | gpg --batch --pinentry-mode loopback --passphrase-file '$PASS' \
  --cipher-algo AES256 --compress-algo none -c | tee >(sha256sum > '$WORK/shell.sha256') | node '$ROOT/bench/backup-s3-put.mjs' \
  http://127.0.0.1:$S3PORT bench shell/dump.rdb.gz.gpg"
echo "  s3rver CPU $(echo "$(s3cpu) - $C0" | bc) s"
echo "  stored sha256 $(cut -c1-16 "$WORK/shell.sha256")… (the shell pipeline neither parses the RDB nor checks the upload)"
