#!/usr/bin/env bash
# Backup to an sftp:// target on a loopback OpenSSH server vs scp of the same bytes (issue 17).
# Usage: npx tsc -p . && bench/sftp-vs-scp.sh [RDB]   (default: builds /tmp/tsredis-sftp-bench/dump.rdb, ~1 GB)
# Runs, one after the other, against one sshd (its own host key, client key, internal-sftp):
#   1. tsredis-ops backup (gzip + OpenPGP + upload + read-back sha256) vs scp of the stored .gpg object
#   2. the same RDB stored as is (--compress none --no-encrypt, 1 GB over the wire) vs scp of the RDB,
#      with a backup to a local directory as the reference for the work that is not SSH
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
W=/tmp/tsredis-sftp-bench
mkdir -p "$W"
RDB="${1:-$W/dump.rdb}"
[ -f "$RDB" ] || "$ROOT/bench/backup-make-rdb.sh" "$RDB" 2 strings
[ -x /usr/sbin/sshd ] || { echo "needs /usr/sbin/sshd: apt-get install openssh-server" >&2; exit 1; }
S="$W/sshd"; rm -rf "$S"; mkdir -p "$S/data" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$S/client_key"
cp "$S/client_key.pub" "$S/authorized_keys"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/host_key.pub")" > "$S/known_hosts"
cat > "$S/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CFG
/usr/sbin/sshd -D -f "$S/sshd_config" & SPID=$!
trap 'kill $SPID 2>/dev/null || true' EXIT
sleep 0.5
printf 'bench passphrase\n' > "$W/pass"
USER_=$(id -un)
SCP=(scp -q -P "$PORT" -i "$S/client_key" -o UserKnownHostsFile="$S/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes)
OPS=(node "$ROOT/bin/tsredis-ops.js")
SSHOPTS=(--ssh-key "$S/client_key" --ssh-known-hosts "$S/known_hosts" --quiet)
t() { /usr/bin/time -f "$1: %e s wall, %U user %S sys, %M KiB max RSS" "${@:2}"; }
ls -l "$RDB"; uptime

echo "== 1. encrypted backup vs scp of the stored object"
t "tsredis-ops backup --to sftp:// (gzip -1, AES-256, read-back)" "${OPS[@]}" backup --from "$RDB" --name bench --to "sftp://$USER_@127.0.0.1:$PORT$S/data/enc" "${SSHOPTS[@]}" --passphrase-file "$W/pass"
OBJ=$(ls "$S/data/enc"/*.gpg); ls -l "$OBJ"
cp "$OBJ" "$W/stored.gpg"
t "scp of the same .gpg" "${SCP[@]}" "$W/stored.gpg" "$USER_@127.0.0.1:$S/data/scp-enc.gpg"

echo "== 2. the RDB as is (--compress none --no-encrypt) vs scp of the RDB"
t "tsredis-ops backup --to sftp:// (as is, read-back)" "${OPS[@]}" backup --from "$RDB" --name plain --to "sftp://$USER_@127.0.0.1:$PORT$S/data/plain" "${SSHOPTS[@]}" --compress none --no-encrypt
t "tsredis-ops backup --to sftp:// (as is, --sftp-remote-hash)" "${OPS[@]}" backup --from "$RDB" --name remote --to "sftp://$USER_@127.0.0.1:$PORT$S/data/remote" "${SSHOPTS[@]}" --compress none --no-encrypt --sftp-remote-hash
t "tsredis-ops backup --to DIR (as is, reference: same work without SSH)" "${OPS[@]}" backup --from "$RDB" --name dir --to "$W/dir" --compress none --no-encrypt --quiet
rm -rf "$W/dir"
t "scp of the RDB" "${SCP[@]}" "$RDB" "$USER_@127.0.0.1:$S/data/scp.rdb"
t "scp of the RDB + ssh sha256sum (the recipe's check)" bash -c "$(printf '%q ' "${SCP[@]}") $(printf '%q' "$RDB") $USER_@127.0.0.1:$S/data/scp2.rdb && ssh -p $PORT -i $S/client_key -o UserKnownHostsFile=$S/known_hosts -o BatchMode=yes $USER_@127.0.0.1 sha256sum $S/data/scp2.rdb"
uptime
