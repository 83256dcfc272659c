#!/usr/bin/env bash
# rdb-memory against rdb-check (and redis-check-rdb) on one file, in interleaved rounds, so each
# round's ratio compares runs made under the same machine load: wall, CPU (user+sys), peak RSS.
# Usage: bench/rdb-memory-rounds.sh FILE [ROUNDS=3] [OTHER_ROOT: a second checkout (built) whose
#        rdb-memory runs too, e.g. the code before a change]   (run `npx tsc -p .` first)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FILE="$1"
ROUNDS="${2:-3}"
OTHER="${3:-}"
T=$(mktemp)
trap 'rm -f "$T"' EXIT
one() { # label, command...
  local label="$1" t0 t1 rss usr sys
  shift
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$T" "$@" > /dev/null
  t1=$(date +%s.%N)
  read -r rss usr sys < <(tail -1 "$T")
  printf '%-28s wall %6.2f s  cpu %6.2f s  peak RSS %4d MB  load %s\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(echo "$usr + $sys" | bc)" $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
}
cat "$FILE" > /dev/null
for ((i = 1; i <= ROUNDS; i++)); do
  echo "round $i"
  command -v redis-check-rdb >/dev/null && one redis-check-rdb redis-check-rdb "$FILE"
  one "tsredis-ops rdb-check" node "$ROOT/bin/tsredis-ops.js" rdb-check "$FILE"
  [ -z "$OTHER" ] || one "rdb-memory ($(basename "$OTHER"))" node "$OTHER/bin/tsredis-ops.js" rdb-memory "$FILE"
  one "tsredis-ops rdb-memory" node "$ROOT/bin/tsredis-ops.js" rdb-memory "$FILE"
done
