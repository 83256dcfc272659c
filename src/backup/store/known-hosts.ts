import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * OpenSSH known_hosts, checked the way `ssh` does with StrictHostKeyChecking: plain and hashed
 * (`|1|salt|hmac`) host names, `[host]:port` for ports other than 22, `*`/`?` wildcard patterns and
 * `!` negations (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), `@revoked` markers. `@cert-authority`
 * lines are skipped: ssh2 does not hand its caller the host certificate to check against them.
 * ssh2 leaves host key checking to its caller; no maintained npm package parses this file, and it
 * is a few lines of a stable format.
 */
export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'changed'; knownTypes: string[] }
  | { status: 'revoked' };

/** The name known_hosts uses for host:port. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside an SSH wire-format public key blob (its first string). */
function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** An OpenSSH pattern: `*` any run, `?` one character, host names compared without case. */
function patternMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/** A line's host field: any positive pattern (or hashed name) matches and no `!` pattern does. */
function nameMatches(field: string, name: string): boolean {
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (p.startsWith('|1|')) {
      const [, , salt, mac] = p.split('|');
      if (salt && mac && createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === mac) matched = true;
    } else if (patternMatches(p, name)) matched = true;
  }
  return matched;
}

interface Entry {
  revoked: boolean;
  type: string;
  key: string;
}

/** The file's lines for host:port (a missing file knows no host). */
function entriesFor(file: string, host: string, port: number): Entry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const name = knownHostsName(host, port);
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    const marker = f[0]!.startsWith('@') ? f.shift()! : null;
    if (marker === '@cert-authority' || f.length < 3 || !nameMatches(f[0]!, name)) continue;
    out.push({ revoked: marker === '@revoked', type: f[1]!, key: f[2]! });
  }
  return out;
}

export function checkHostKey(file: string, host: string, port: number, blob: Buffer): HostKeyVerdict {
  const b64 = blob.toString('base64');
  const type = keyType(blob);
  const entries = entriesFor(file, host, port);
  if (entries.some((e) => e.revoked && e.key === b64)) return { status: 'revoked' };
  const known = entries.filter((e) => !e.revoked);
  if (known.some((e) => e.type === type && e.key === b64)) return { status: 'known' };
  // A known host that shows another key: OpenSSH refuses it whatever the type, and so do we.
  return known.length ? { status: 'changed', knownTypes: [...new Set(known.map((e) => e.type))] } : { status: 'unknown' };
}

/**
 * Host key algorithms to offer first, so that a server with several host keys shows the one the
 * file knows (as ssh orders them); ssh-rsa keys sign with rsa-sha2-512/256 today.
 */
export function preferredHostKeyAlgorithms(file: string, host: string, port: number): string[] {
  const types = entriesFor(file, host, port).filter((e) => !e.revoked).map((e) => e.type);
  return [...new Set(types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t])))];
}

/** Appends the host's key (the explicit --ssh-accept-new-host-key opt-in). */
export function addHostKey(file: string, host: string, port: number, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${knownHostsName(host, port)} ${keyType(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}
