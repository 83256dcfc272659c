import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { aofLoadFiles, readAofBatches } from '../codec/aof/reader.js';
import { resolveAofLayout, entryPath } from '../codec/aof/layout.js';
import { formatManifest, type AofManifest, type AofManifestEntry } from '../codec/aof/manifest.js';
import { AofWriter } from '../codec/aof/writer.js';
import { WRITABLE_RDB_VERSIONS } from '../codec/rdb/value-writer.js';
import { fsyncDir, tempPathFor, withAtomicFile, writeFileAtomic } from '../util/atomic-file.js';
import { RefusedError, UsageError } from '../util/errors.js';
import { dumpToCommands, dumpToRdb, type DumpStats } from './dump.js';
import { Keyspace } from './keyspace.js';
import { replay, type ReplayStats } from './replay.js';

export type RewriteFormat = 'multipart' | 'preamble' | 'resp';

export interface RewriteOptions {
  format: RewriteFormat;
  /** Base of a multi-part output: an RDB (aof-use-rdb-preamble yes) or commands. */
  base: 'rdb' | 'aof';
  /** Keys and hash fields whose TTL is at or before this time are left out; also the replay clock. */
  nowMs: number;
  /** RDB version of RDB output (default: what the input's producer loads, see chooseRdbVersion). */
  rdbVersion?: number;
  /** Drop what the RDB version cannot represent (listed) instead of failing. */
  lossy?: boolean;
  skipUnsupported?: boolean;
  /** The producer's hll-sparse-max-bytes (PFADD's sparse→dense promotion point). */
  hllSparseMaxBytes?: number;
  databases?: number;
  onProgress?: (text: string) => void;
}

export interface RewriteSummary {
  input: { files: string[]; bytes: number; commands: number; rdbKeys: number };
  replay: ReplayStats;
  output: { path: string; files: string[]; bytes: number; format: RewriteFormat; rdbVersion: number | null };
  keys: number;
  expiredLeftOut: number;
  functions: number;
}

/**
 * The RDB version to write when none is asked for: the input's own RDB part's version (the
 * producer loads it), else 10 for a Redis 7+ AOF (multi-part or #TS annotations; 12 when hash
 * fields carry TTLs), else 9 (a single-file AOF from Redis ≤ 6.2).
 */
export function chooseRdbVersion(ks: Keyspace, stats: ReplayStats, multipart: boolean): number {
  if (stats.rdbVersion !== null) return Math.min(12, Math.max(9, stats.rdbVersion));
  for (const db of ks.dbs) for (const e of db.values()) if (typeof e !== 'string' && e.value.type === 'hash' && e.value.v.hasTtls) return 12;
  return multipart || stats.lastTimestampS !== null || ks.functions.size > 0 ? 10 : 9;
}

/** Reads and replays an AOF (file, manifest or directory) into a new keyspace. */
export async function loadAof(path: string, opts: RewriteOptions): Promise<{ ks: Keyspace; stats: ReplayStats; files: string[]; bytes: number; multipart: boolean }> {
  const files = await aofLoadFiles(path);
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  const layout = await resolveAofLayout(path);
  const ks = new Keyspace({ clock: () => opts.nowMs, hllSparseMaxBytes: opts.hllSparseMaxBytes, databases: opts.databases });
  const stats = await replay(ks, readAofBatches(path, { rdbSink: ks.rdbLoader() }), {
    skipUnsupported: opts.skipUnsupported,
    onProgress: (s) => opts.onProgress?.(`replaying: ${s.commands} commands, ${s.rdbKeys} keys from RDB, ${ks.size} keys`),
  });
  return { ks, stats, files, bytes, multipart: layout.kind === 'multi' };
}

function rdbAux(kind: 'aof-base' | 'aof-preamble', nowMs: number): Array<[string, string]> {
  return [
    ['redis-bits', '64'],
    ['ctime', String(Math.floor(nowMs / 1000))],
    [kind, '1'],
  ];
}

interface RdbTarget {
  version: number;
  /** The producer predates stream counters (RDB 9 chosen for a Redis <= 6.2 AOF). */
  legacyStreams: boolean;
  lossy: boolean;
}

async function writeRdb(path: string, ks: Keyspace, t: RdbTarget, nowMs: number, kind: 'aof-base' | 'aof-preamble'): Promise<DumpStats> {
  return withAtomicFile(path, async (fh) => {
    const r = await dumpToRdb(ks, async (chunk) => void (await fh.write(chunk)), {
      version: t.version,
      nowMs,
      aux: rdbAux(kind, nowMs),
      lossy: t.lossy,
      legacyStreams: t.legacyStreams,
    });
    return r;
  });
}

function rdbTarget(ks: Keyspace, stats: ReplayStats, multipart: boolean, opts: RewriteOptions): RdbTarget {
  const chosen = chooseRdbVersion(ks, stats, multipart);
  const version = checkVersion(opts.rdbVersion ?? chosen);
  return { version, legacyStreams: version === 9 && opts.rdbVersion === undefined, lossy: opts.lossy ?? false };
}

/** A RESP AOF of the rewrite commands, written under a temp name and renamed when durable. */
async function writeResp(path: string, ks: Keyspace, nowMs: number): Promise<DumpStats> {
  const tmp = tempPathFor(path);
  const w = await AofWriter.open(tmp, { fsync: 'no' });
  try {
    const before = ks.size;
    let keys = 0;
    for (const { db, argv, firstOfKey } of dumpToCommands(ks, nowMs)) {
      await w.append(db, argv);
      if (firstOfKey) keys++;
    }
    await w.close();
    await rename(tmp, path);
    await fsyncDir(join(path, '..'));
    return { keys, expiredLeftOut: before - keys, functions: ks.functions.size, bytes: w.bytesWritten };
  } catch (e) {
    await w.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

async function emptyFileAtomic(path: string): Promise<void> {
  await writeFileAtomic(path, '');
}

function checkVersion(v: number): number {
  if (!WRITABLE_RDB_VERSIONS.includes(v)) throw new UsageError(`--rdb-version ${v} cannot be written (supported: ${WRITABLE_RDB_VERSIONS.join(', ')})`);
  return v;
}

/** Writes the new base (+ empty incr) files named for sequence numbers; returns their entries. */
async function writeMultipartFiles(
  dir: string,
  prefix: string,
  baseSeq: number,
  incrSeq: number,
  ks: Keyspace,
  opts: RewriteOptions,
  target: RdbTarget,
): Promise<{ base: AofManifestEntry; incr: AofManifestEntry; dump: DumpStats; bytes: number }> {
  const baseName = `${prefix}.${baseSeq}.base.${opts.base === 'rdb' ? 'rdb' : 'aof'}`;
  const incrName = `${prefix}.${incrSeq}.incr.aof`;
  const dump = opts.base === 'rdb' ? await writeRdb(join(dir, baseName), ks, target, opts.nowMs, 'aof-base') : await writeResp(join(dir, baseName), ks, opts.nowMs);
  await emptyFileAtomic(join(dir, incrName));
  return { base: { file: baseName, seq: baseSeq, type: 'b' }, incr: { file: incrName, seq: incrSeq, type: 'i' }, dump, bytes: dump.bytes };
}

/** Replays PATH and writes its compacted equivalent to OUT in the chosen format. */
export async function rewriteAof(input: string, output: string, opts: RewriteOptions): Promise<RewriteSummary> {
  const loaded = await loadAof(input, opts);
  const { ks, stats } = loaded;
  const target = rdbTarget(ks, stats, loaded.multipart, opts);
  opts.onProgress?.(`writing ${opts.format} output (${ks.size} keys)`);
  let dump: DumpStats;
  let files: string[];
  if (opts.format === 'multipart') {
    await prepareEmptyDir(output);
    const layout = await resolveAofLayout(input);
    const prefix = layout.kind === 'multi' ? basename(layout.manifestPath).replace(/\.manifest$/, '') : 'appendonly.aof';
    const r = await writeMultipartFiles(output, prefix, 1, 1, ks, opts, target);
    const manifestName = `${prefix}.manifest`;
    await writeFileAtomic(join(output, manifestName), formatManifest({ entries: [r.base, r.incr] }));
    dump = r.dump;
    files = [r.base.file, r.incr.file, manifestName].map((f) => join(output, f));
  } else {
    await refuseExisting(output);
    dump = opts.format === 'preamble' ? await writeRdb(output, ks, target, opts.nowMs, 'aof-preamble') : await writeResp(output, ks, opts.nowMs);
    files = [output];
  }
  return summary(loaded, stats, output, files, dump, opts.format, opts.format === 'resp' || (opts.format === 'multipart' && opts.base === 'aof') ? null : target.version);
}

function summary(
  loaded: { files: string[]; bytes: number },
  stats: ReplayStats,
  output: string,
  files: string[],
  dump: DumpStats,
  format: RewriteFormat,
  rdbVersion: number | null,
): RewriteSummary {
  return {
    input: { files: loaded.files, bytes: loaded.bytes, commands: stats.commands, rdbKeys: stats.rdbKeys },
    replay: stats,
    output: { path: output, files, bytes: dump.bytes, format, rdbVersion },
    keys: dump.keys,
    expiredLeftOut: dump.expiredLeftOut,
    functions: dump.functions,
  };
}

async function refuseExisting(path: string): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) throw new RefusedError(`${path} already exists; choose a new output path (the rewrite never overwrites a file)`);
}

async function prepareEmptyDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (entries && entries.length) throw new RefusedError(`${dir} exists and is not empty; choose a new output directory`);
  if (!entries) await mkdir(dir, { recursive: true });
}

/**
 * BGREWRITEAOF offline on a multi-part directory: a new base and a new empty incr (next sequence
 * numbers) are written and made durable, then the manifest is replaced atomically with the old
 * base and incrs marked history; only once that manifest is durable are the history files
 * removed and the manifest rewritten without them (as Redis's auto-gc does). At every instant the
 * directory holds a manifest whose listed base and incr files exist and are complete.
 */
export async function rewriteInPlace(path: string, opts: RewriteOptions & { keepHistory?: boolean }): Promise<RewriteSummary> {
  if (opts.format !== 'multipart') throw new UsageError('--in-place rewrites a multi-part AOF directory; --format must be multipart');
  const layout = await resolveAofLayout(path);
  if (layout.kind !== 'multi') throw new UsageError(`${path}: --in-place needs a Redis 7 multi-part AOF (a directory with a manifest)`);
  const loaded = await loadAof(path, opts);
  const { ks, stats } = loaded;
  const target = rdbTarget(ks, stats, true, opts);
  const old = layout.manifest.entries;
  const prefix = basename(layout.manifestPath).replace(/\.manifest$/, '');
  const maxSeq = (pick: (e: AofManifestEntry) => boolean): number => old.reduce((m, e) => (pick(e) ? Math.max(m, e.seq) : m), 0);
  const baseSeq = maxSeq((e) => e.type === 'b' || e.file.includes('.base.')) + 1;
  const incrSeq = maxSeq((e) => e.type === 'i' || e.file.includes('.incr.')) + 1;
  opts.onProgress?.(`writing new base seq ${baseSeq} (${ks.size} keys)`);
  const r = await writeMultipartFiles(layout.dir, prefix, baseSeq, incrSeq, ks, opts, target);
  // History lists the most recently retired first: the old incrs (newest first), then the old
  // base, then what was already history (formats digest §4.4, verified against Redis's manifest).
  const retired = [...old.filter((e) => e.type === 'i').reverse(), ...old.filter((e) => e.type === 'b')].map((e) => ({ ...e, type: 'h' as const }));
  const history = [...retired, ...old.filter((e) => e.type === 'h')];
  const withHistory: AofManifest = { entries: [r.base, ...history, r.incr] };
  await writeFileAtomic(layout.manifestPath, formatManifest(withHistory));
  if (!opts.keepHistory) {
    for (const h of history) await unlink(entryPath(layout, h.file)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await fsyncDir(layout.dir);
    await writeFileAtomic(layout.manifestPath, formatManifest({ entries: [r.base, r.incr] }));
  }
  const files = [r.base.file, r.incr.file, basename(layout.manifestPath)].map((f) => join(layout.dir, f));
  return summary(loaded, stats, layout.dir, files, r.dump, 'multipart', opts.base === 'rdb' ? target.version : null);
}
