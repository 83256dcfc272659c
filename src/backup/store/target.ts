import { UsageError } from '../../util/errors.js';

/**
 * Where backups live, parsed once and strictly: a known scheme or a local directory. Anything that
 * looks like a remote spec (`host:path`, `user@host:path`, `scp:…`, an unknown `scheme://`) is
 * refused rather than taken for a directory of that odd name, which would "succeed" locally.
 * A new backend (sftp://) adds a variant here and a case in openStore.
 */
export type Target = { kind: 's3'; bucket: string; prefix: string } | { kind: 'dir'; path: string };

const LOCAL_HINT = 'a local directory whose name has a colon must be written ./NAME or as an absolute path';

export function parseTarget(text: string): Target {
  if (!text) throw new UsageError('empty target (expected a directory or s3://bucket/prefix)');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 's3') throw new UsageError(`unsupported target ${text}: unknown scheme ${scheme[1]}:// (known: s3://bucket/prefix; ${LOCAL_HINT})`);
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(text);
    if (!m) throw new UsageError(`bad S3 target ${text} (expected s3://bucket/prefix)`);
    return { kind: 's3', bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
  }
  // A colon in the first path element reads as host:path (scp, rsync) or scheme:rest.
  const first = text.split('/')[0]!;
  if (first.includes(':')) {
    throw new UsageError(`unsupported target ${text}: it looks like host:path or scheme:…, which is not a known target (known: a directory or s3://bucket/prefix; ${LOCAL_HINT})`);
  }
  return { kind: 'dir', path: text };
}
