import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatManifest } from '../codec/aof/manifest.js';
import { RdbWriter } from '../codec/rdb/writer.js';
import { fsyncDir, tempPathFor, withAtomicFile } from '../util/atomic-file.js';
import { IoError, RefusedError, UsageError } from '../util/errors.js';
import { readBackup } from './plan.js';

export interface OfflineOptions {
  rdbPath: string;
  dir: string;
  layout: 'rdb' | 'aof';
  /** Write this RDB version (converting) instead of copying the backup as it is. */
  rdbVersion?: number;
  lossy: boolean;
  force: boolean;
  dryRun: boolean;
  /**
   * With layout aof: the incr AOF's content (commands to apply after the base, e.g. a point in
   * time's stream), written as it streams; without it the incr file is empty.
   */
  incr?: () => AsyncIterable<Buffer>;
  /** Names Redis uses: dbfilename, appenddirname, appendfilename. */
  names?: { dbfilename?: string; appenddirname?: string; appendfilename?: string };
}

export interface OfflineReport {
  dir: string;
  layout: 'rdb' | 'aof';
  files: string[];
  sourceRdb: number;
  writtenRdb: number;
  converted: boolean;
  dropped: string[];
  keptAside?: string;
  /** Bytes of the incr AOF written (layout aof with `incr`). */
  incrBytes?: number;
  dryRun: boolean;
}

/** The files a Redis started on `dir` would load, present now. */
async function existingData(dir: string, names: Required<NonNullable<OfflineOptions['names']>>): Promise<string[]> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  return [names.dbfilename, names.appenddirname, names.appendfilename].filter((n) => present.has(n));
}

/** Moves the old data files into `dir/pre-restore-<time>/` (never deletes them). */
async function keepAside(dir: string, files: string[]): Promise<string> {
  const aside = join(dir, `pre-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(aside);
  for (const f of files) await rename(join(dir, f), join(aside, f));
  await fsyncDir(dir);
  return aside;
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes the RDB for a node that starts from files: a byte copy when the version already suits,
 * else a conversion through RdbWriter (keys kept raw where the target version loads them).
 */
async function writeRdb(o: OfflineOptions, dest: string, sourceRdb: number): Promise<{ written: number; dropped: string[] }> {
  if (o.rdbVersion === undefined || sourceRdb <= o.rdbVersion) {
    const tmp = tempPathFor(dest);
    try {
      await copyFile(o.rdbPath, tmp);
      await fsyncFile(tmp);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return { written: sourceRdb, dropped: [] };
  }
  const version = o.rdbVersion;
  return withAtomicFile(dest, async (fh) => {
    let pos = 0;
    const w = new RdbWriter(
      async (chunk: Buffer) => {
        await fh.write(chunk, 0, chunk.length, pos);
        pos += chunk.length;
      },
      { version, lossy: o.lossy },
    );
    for await (const recs of readBackup(o.rdbPath)) for (const rec of recs) {
      if (rec.kind === 'header') {
        await w.writeRecord(rec); // tells the writer how to decode raw values it must convert
        await w.start();
      } else if (rec.kind !== 'aux' && rec.kind !== 'eof') await w.writeRecord(rec);
    }
    await w.finish();
    return { written: version, dropped: w.dropped.map((d) => `${d.db !== null ? `db ${d.db} ` : ''}${d.key !== null ? `"${d.key}": ` : ''}${d.what}`) };
  });
}

async function headerVersion(path: string): Promise<number> {
  for await (const recs of readBackup(path)) for (const rec of recs) if (rec.kind === 'header') return rec.version;
  return 0;
}

export async function restoreToDir(o: OfflineOptions): Promise<OfflineReport> {
  if (o.incr && o.layout !== 'aof') throw new UsageError('commands after the base need --layout aof');
  const names = { dbfilename: 'dump.rdb', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof', ...o.names };
  const st = await stat(o.dir).catch(() => null);
  if (st && !st.isDirectory()) throw new IoError(`${o.dir} is not a directory`);
  const present = st ? await existingData(o.dir, names) : [];
  if (present.length && !o.force) {
    throw new RefusedError(`${o.dir} already holds Redis data (${present.join(', ')}); pass --force to restore anyway (the old files are kept aside)`);
  }
  const sourceRdb = await headerVersion(o.rdbPath);
  const files = o.layout === 'rdb' ? [names.dbfilename] : [names.appenddirname];
  const report: OfflineReport = {
    dir: o.dir,
    layout: o.layout,
    files,
    sourceRdb,
    writtenRdb: o.rdbVersion !== undefined && sourceRdb > o.rdbVersion ? o.rdbVersion : sourceRdb,
    converted: o.rdbVersion !== undefined && sourceRdb > o.rdbVersion,
    dropped: [],
    dryRun: o.dryRun,
  };
  if (o.dryRun) return report;
  await mkdir(o.dir, { recursive: true });
  if (o.layout === 'rdb') {
    // Written beside the final name first: a failed conversion leaves the old data untouched.
    const staged = join(o.dir, `.${names.dbfilename}.restore-${process.pid}`);
    try {
      const r = await writeRdb(o, staged, sourceRdb);
      report.dropped = r.dropped;
      if (present.length) report.keptAside = await keepAside(o.dir, present);
      await rename(staged, join(o.dir, names.dbfilename));
      await fsyncDir(o.dir);
    } finally {
      await rm(staged, { force: true });
    }
    return report;
  }
  // AOF layout: a complete appendonlydir (base RDB + incr AOF + manifest) built aside, then renamed in.
  const tmpDir = join(o.dir, `.${names.appenddirname}.restore-${process.pid}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir);
  try {
    const base = `${names.appendfilename}.1.base.rdb`;
    const incr = `${names.appendfilename}.1.incr.aof`;
    const r = await writeRdb(o, join(tmpDir, base), sourceRdb);
    report.dropped = r.dropped;
    report.incrBytes = await withAtomicFile(join(tmpDir, incr), async (fh) => {
      let n = 0;
      if (!o.incr) return n;
      for await (const chunk of o.incr()) {
        for (let at = 0; at < chunk.length; ) at += (await fh.write(chunk, at)).bytesWritten;
        n += chunk.length;
      }
      return n;
    });
    const manifest = formatManifest({ entries: [{ file: base, seq: 1, type: 'b' }, { file: incr, seq: 1, type: 'i' }] });
    await withAtomicFile(join(tmpDir, `${names.appendfilename}.manifest`), async (fh) => {
      await fh.writeFile(manifest);
    });
    await fsyncDir(tmpDir);
    if (present.length) report.keptAside = await keepAside(o.dir, present);
    await rename(tmpDir, join(o.dir, names.appenddirname));
    await fsyncDir(o.dir);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  return report;
}
