import { mkdir, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { formatManifest, manifestBase, manifestIncrs, parseManifest, type AofManifest, type AofManifestEntry } from '../codec/aof/manifest.js';
import { AofWriter, type FsyncPolicy } from '../codec/aof/writer.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-file.js';
import { FormatError } from '../util/errors.js';

/** The live generation: which base and incr files the manifest names. */
export interface Generation {
  baseFile: string;
  baseSeq: number;
  incrFile: string;
  incrSeq: number;
}

/**
 * The Redis 7 multi-part AOF directory the replica keeps (formats §4.4), managed the way
 * aof.c's rewrite does: a new generation is a new BASE (the master's RDB) and a new empty INCR
 * with higher sequence numbers; the manifest switches to it atomically, the former files become
 * history and are deleted only after the new manifest is durable. `redis-server --appendonly yes
 * --appenddirname <name>` loads it as it stands at any moment.
 */
export class AofDirectory {
  readonly path: string;
  readonly manifestName: string;

  constructor(
    readonly dir: string,
    readonly dirName = 'appendonlydir',
    readonly fileName = 'appendonly.aof',
  ) {
    this.path = join(dir, dirName);
    this.manifestName = `${fileName}.manifest`;
  }

  /** Creates the directory and removes temp files a killed run left (never at a final name). */
  async ensure(): Promise<void> {
    await mkdir(this.path, { recursive: true });
    for (const dir of [this.path, this.dir]) {
      for (const name of await readdir(dir)) {
        if (name.startsWith('.') && name.includes('.tmp-')) await rm(join(dir, name), { force: true });
      }
    }
  }

  /** The manifest, or null when there is none yet. */
  async readManifest(): Promise<AofManifest | null> {
    const p = join(this.path, this.manifestName);
    let text: Buffer;
    try {
      text = await readFile(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return parseManifest(text, p);
    } catch (e) {
      throw new FormatError(p, 0, `a valid AOF manifest (${(e as Error).message})`);
    }
  }

  /** The generation the manifest names, when it has one base and exactly one incr (ours always do). */
  async current(): Promise<Generation | null> {
    const m = await this.readManifest();
    if (!m) return null;
    const base = manifestBase(m);
    const incrs = manifestIncrs(m);
    if (!base || incrs.length !== 1) return null;
    return { baseFile: base.file, baseSeq: base.seq, incrFile: incrs[0]!.file, incrSeq: incrs[0]!.seq };
  }

  /** Names for the next generation (sequence numbers one past everything the manifest lists). */
  async nextGeneration(): Promise<Generation> {
    const m = await this.readManifest();
    const maxSeq = (t: AofManifestEntry['type'][]) => Math.max(0, ...(m?.entries ?? []).filter((e) => t.includes(e.type)).map((e) => e.seq));
    // History entries keep their old seq, so bases and incrs each count past all of them.
    const baseSeq = maxSeq(['b', 'h']) + 1;
    const incrSeq = maxSeq(['i', 'h']) + 1;
    return { baseFile: `${this.fileName}.${baseSeq}.base.rdb`, baseSeq, incrFile: `${this.fileName}.${incrSeq}.incr.aof`, incrSeq };
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /**
   * Makes `next` (whose base file is already in place, fsynced) the live generation: creates its
   * empty incr, writes the manifest with the old files as history, then retires them. With
   * `keepOldIn`, the old generation is moved there (with its own manifest) instead of deleted.
   */
  async install(next: Generation, keepOldIn?: string): Promise<void> {
    const old = await this.readManifest();
    await writeFileAtomic(this.file(next.incrFile), '');
    const retired: AofManifestEntry[] = (old?.entries ?? []).map((e) => ({ ...e, type: 'h' as const }));
    const withHistory: AofManifest = {
      entries: [{ file: next.baseFile, seq: next.baseSeq, type: 'b' }, ...retired, { file: next.incrFile, seq: next.incrSeq, type: 'i' }],
    };
    await this.writeManifest(withHistory);
    if (old && keepOldIn) {
      await mkdir(keepOldIn, { recursive: true });
      for (const e of old.entries.filter((x) => x.type !== 'h')) await rename(this.file(e.file), join(keepOldIn, e.file)).catch(ignoreMissing);
      await writeFileAtomic(join(keepOldIn, this.manifestName), formatManifest({ entries: old.entries.filter((x) => x.type !== 'h') }));
      await fsyncDir(this.path);
    }
    for (const e of retired) await rm(this.file(e.file), { force: true });
    await this.writeManifest({ entries: withHistory.entries.filter((e) => e.type !== 'h') });
  }

  private async writeManifest(m: AofManifest): Promise<void> {
    await writeFileAtomic(join(this.path, this.manifestName), formatManifest(m));
  }

  /** Size of a file in the directory, or -1 when it is missing. */
  async sizeOf(name: string): Promise<number> {
    try {
      return (await stat(this.file(name))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
      throw e;
    }
  }

  /** Opens the incr for appending after cutting it to `size` (bytes past the saved state). */
  async openIncr(name: string, size: number, fsync: FsyncPolicy): Promise<AofWriter> {
    await truncate(this.file(name), size);
    return AofWriter.open(this.file(name), { fsync, timestamps: true });
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}
