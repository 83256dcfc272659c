#!/usr/bin/env bash
# The README's quick start (`npm ci && npm run demo`; CI runs it on a fresh clone, see .ci/run):
# an encrypted backup of the bundled fixture into ./backups with the bundled demo passphrase file,
# a deep verify of it, a restore of it into a temp data directory and an rdb-check of the result.
# Every step must succeed; the first failure stops the demo with that step's exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

tool() { node bin/tsredis-ops.js "$@"; }
step() { printf '\n== %s\n' "$*" >&2; }
pass=fixtures/demo.passphrase
out=$(mktemp -d "${TMPDIR:-/tmp}/tsredis-demo-XXXXXX")
trap 'rm -rf "$out"' EXIT

step "backup fixtures/demo.rdb, gzip + OpenPGP (passphrase from $pass), into ./backups"
tool backup --from fixtures/demo.rdb --to ./backups --name demo --passphrase-file "$pass"
step "verify --deep: decrypt, decompress and parse what was stored, check sha256 and key count"
tool verify --target ./backups --name demo --latest --deep --passphrase-file "$pass"
step "restore the newest demo backup into a new data directory"
tool restore --from ./backups --backup demo --to-dir "$out/data" --passphrase-file "$pass"
step "rdb-check the restored dump.rdb, and compare it with the fixture byte for byte"
tool rdb-check "$out/data/dump.rdb"
cmp fixtures/demo.rdb "$out/data/dump.rdb"
step "demo done: the backup is in ./backups (see: node bin/tsredis-ops.js list --target ./backups)"
