import { UsageError } from '../../util/errors.js';

/**
 * Where backups live, parsed once and strictly: a known scheme or a local directory. Anything that
 * looks like a remote spec (`host:path`, `user@host:path`, `scp:…`, an unknown `scheme://`) is
 * refused rather than taken for a directory of that odd name, which would "succeed" locally.
 * A new backend adds a variant here and a case in openStore.
 */
export type Target =
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'sftp'; user?: string; host: string; port: number; path: string }
  | { kind: 'dir'; path: string };

const KNOWN = 's3://bucket/prefix, sftp://[user@]host[:port]/path';

const LOCAL_HINT = 'a local directory whose name has a colon must be written ./NAME or as an absolute path';

export function parseTarget(text: string): Target {
  if (!text) throw new UsageError(`empty target (expected a directory, ${KNOWN})`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() === 'sftp') return parseSftp(text);
    if (scheme[1]!.toLowerCase() !== 's3') throw new UsageError(`unsupported target ${text}: unknown scheme ${scheme[1]}:// (known: ${KNOWN}; ${LOCAL_HINT})`);
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(text);
    if (!m) throw new UsageError(`bad S3 target ${text} (expected s3://bucket/prefix)`);
    return { kind: 's3', bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
  }
  // A colon in the first path element reads as host:path (scp, rsync) or scheme:rest.
  const first = text.split('/')[0]!;
  if (first.includes(':')) {
    throw new UsageError(`unsupported target ${text}: it looks like host:path or scheme:…, which is not a known target (known: a directory, ${KNOWN}; ${LOCAL_HINT})`);
  }
  return { kind: 'dir', path: text };
}

/**
 * `sftp://[user@]host[:port]/path`: the path is absolute on the server; `/~/dir` is relative to the
 * login directory (as in OpenSSH's sftp URIs). A password in the URL is refused: secrets come from files.
 */
function parseSftp(text: string): Target {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`bad SFTP target ${text.replace(/:[^:@/]*@/, ':***@')} (expected sftp://[user@]host[:port]/path)`);
  }
  if (u.password) throw new UsageError(`SFTP target ${u.protocol}//${u.username}:***@${u.host}${u.pathname}: a password never goes in the URL; use --ssh-password-file FILE or a key`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let path = decodeURIComponent(u.pathname).replace(/\/+$/, '');
  if (!host || !path || path === '/~') throw new UsageError(`bad SFTP target ${text}: expected sftp://[user@]host[:port]/path with a directory path`);
  if (path.startsWith('/~/')) path = path.slice(3);
  if (u.search || u.hash) throw new UsageError(`bad SFTP target ${text}: no ?query or #fragment allowed`);
  return { kind: 'sftp', host, port: u.port ? Number(u.port) : 22, path, ...(u.username ? { user: decodeURIComponent(u.username) } : {}) };
}
