#!/usr/bin/env bash
# Online `restore --verify` of the issue-19 big-key RDB (bench/bigkeys-populate.sh: 4M-element list,
# 1M-field hash, 1M-member zset, 1M-member set, 1M-entry stream; rdbcompression no), side by side
# with `rdb-dump --format resp | redis-cli --pipe` into a fresh server: wall and peak RSS of
# restore --verify, of --verify-only on the restored target, and of the pipe.
# Usage: bench/restore-verify-bigkeys.sh   (build first: npx tsc -p .; BIN=path/to/tsredis-ops.js
# measures another build, e.g. an older commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/tsredis-ops.js}
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

SRC=$(free_port); start "$WORK/src" "$SRC"
bash bench/bigkeys-populate.sh "$SRC"
redis-cli -p "$SRC" --rdb "$WORK/big.rdb" >/dev/null 2>&1
echo "dataset: $(du -h "$WORK/big.rdb" | cut -f1) RDB; redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), node $(node --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

DST=$(free_port); start "$WORK/dst" "$DST"
/usr/bin/time -f "restore --verify: wall %e s, peak RSS %M KiB" node "$BIN" restore "$WORK/big.rdb" --to "redis://127.0.0.1:$DST" --verify --json >"$WORK/r.json"
node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(`  verify ok=${r.verify.ok} method=${r.verify.method} checked=${r.verify.checked}`)' "$WORK/r.json"
/usr/bin/time -f "restore --verify-only: wall %e s, peak RSS %M KiB" node "$BIN" restore "$WORK/big.rdb" --to "redis://127.0.0.1:$DST" --verify-only --json >"$WORK/v.json"
node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(`  verify ok=${r.verify.ok} method=${r.verify.method} checked=${r.verify.checked}`)' "$WORK/v.json"

PIPE=$(free_port); start "$WORK/pipe" "$PIPE"
s=$(date +%s%N)
node bin/tsredis-ops.js rdb-dump "$WORK/big.rdb" --format resp | redis-cli -p "$PIPE" --pipe >/dev/null
e=$(date +%s%N)
echo "rdb-dump --format resp | redis-cli --pipe: wall $(node -e "console.log((($e - $s) / 1e9).toFixed(2))") s"
echo "DEBUG DIGEST: source $(redis-cli -p "$SRC" DEBUG DIGEST), restored $(redis-cli -p "$DST" DEBUG DIGEST), piped $(redis-cli -p "$PIPE" DEBUG DIGEST)"
