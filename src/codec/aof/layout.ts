import { open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ManifestError, parseManifest, type AofManifest } from './manifest.js';
import { FormatError, IoError, UsageError } from '../../util/errors.js';

/** What PATH names: one AOF file (maybe with an RDB preamble) or a Redis 7 multi-part AOF. */
export type AofLayout =
  | { kind: 'single'; path: string }
  | { kind: 'multi'; dir: string; manifestPath: string; manifest: AofManifest };

/** Magic bytes of an RDB at the start of a file (Redis, and Valkey 9's own magic). */
export async function startsWithRdb(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    // redis-check-aof's rule: at least 8 bytes (room for a header) starting with REDIS.
    if (size < 8) return false;
    const b = Buffer.alloc(6);
    await fh.read(b, 0, 6, 0);
    return b.subarray(0, 5).toString('latin1') === 'REDIS' || b.toString('latin1') === 'VALKEY';
  } finally {
    await fh.close();
  }
}

/**
 * redis-check-aof's test for a manifest: some line (read fgets-style, 1024 bytes at most) that is
 * not a comment starts with `file`. Looked for in the first 64 KiB only: a manifest is tiny, and an
 * AOF is not read twice for it.
 */
async function looksLikeManifest(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    let p = 0;
    while (p < bytesRead) {
      const lf = b.indexOf(10, p);
      const end = lf >= 0 && lf < bytesRead && lf - p < 1024 ? lf + 1 : Math.min(p + 1024, bytesRead);
      if (b[p] !== 0x23 && b.toString('latin1', p, Math.min(p + 4, end)) === 'file') return true;
      p = end;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** Reads and parses a manifest; Redis's wording on failure. */
export async function loadManifest(manifestPath: string): Promise<AofManifest> {
  let text: Buffer;
  try {
    text = await readFile(manifestPath);
  } catch (e) {
    throw new IoError(`Fatal error: can't open the AOF manifest file ${manifestPath} for reading: ${strerror(e)}`);
  }
  try {
    return parseManifest(text, manifestPath);
  } catch (e) {
    if (e instanceof ManifestError) throw new FormatError(manifestPath, 0, `invalid AOF manifest: ${e.reason}${e.line ? ` at line ${e.line}: '${e.text}'` : ''}`);
    throw e;
  }
}

/**
 * Resolves PATH: an `appendonlydir` (its `*.manifest`), a Redis data directory holding one, a
 * manifest file, or a single AOF.
 */
export async function resolveAofLayout(path: string): Promise<AofLayout> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new UsageError(`Cannot open ${path}: ${strerror(e)}`);
  }
  if (st.isDirectory()) {
    const all = await readdir(path);
    const names = all.filter((n) => n.endsWith('.manifest') && !n.startsWith('temp-'));
    if (names.length === 0) {
      // A Redis data directory: its appendonlydir (7.0+), or its single appendonly.aof (up to 6.2).
      if (all.includes('appendonlydir')) return resolveAofLayout(join(path, 'appendonlydir'));
      if (all.includes('appendonly.aof')) return { kind: 'single', path: join(path, 'appendonly.aof') };
      throw new UsageError(`${path}: no AOF manifest (*.manifest), appendonlydir or appendonly.aof in this directory`);
    }
    const pick = names.length === 1 ? names[0]! : names.find((n) => n === 'appendonly.aof.manifest');
    if (!pick) throw new UsageError(`${path}: several manifests (${names.join(', ')}); name the one to check`);
    const manifestPath = join(path, pick);
    return { kind: 'multi', dir: path, manifestPath, manifest: await loadManifest(manifestPath) };
  }
  if (!st.isFile()) throw new UsageError(`${path}: not a regular file or directory`);
  if (st.size > 0 && (await looksLikeManifest(path))) {
    return { kind: 'multi', dir: dirname(path), manifestPath: path, manifest: await loadManifest(path) };
  }
  return { kind: 'single', path };
}

/** Path of a manifest entry's file (names are relative to the manifest's directory). */
export function entryPath(layout: Extract<AofLayout, { kind: 'multi' }>, file: string): string {
  return join(layout.dir, file);
}

/** The C library's wording for common errno codes (redis-check-aof prints strerror). */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    EIO: 'Input/output error',
  };
  return (code && words[code]) ?? (e as Error).message;
}
