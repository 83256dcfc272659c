import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withAtomicFile } from '../../util/atomic-file.js';
import { IoError, ToolError, ExitCode } from '../../util/errors.js';
import type { BackupStore, ObjectInfo, PutOptions, PutResult, SweepOptions } from './store.js';

/** A directory of backups. Objects appear by rename only after they were fsynced and read back. */
export class LocalStore implements BackupStore {
  constructor(readonly dir: string) {}

  describe(): string {
    return this.dir;
  }

  private path(name: string): string {
    if (name.includes('/') || name.startsWith('.')) throw new IoError(`bad object name ${name}`);
    return join(this.dir, name);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      // A missing directory is a wrong path, not an empty target: monitors must tell the two apart.
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (code ?? (e as Error).message);
      throw new IoError(`cannot list ${this.dir}: ${why}`);
    }
    for (const name of names.sort()) {
      if (name.startsWith('.') || !name.startsWith(prefix)) continue; // temp files are dot-files
      const st = await stat(join(this.dir, name)).catch(() => null);
      if (st?.isFile()) yield { name, size: st.size, mtime: st.mtime };
    }
  }

  async put(name: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
    const final = this.path(name);
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (e) {
      throw new IoError(`cannot create ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return withAtomicFile(final, async (fh, tmp) => {
      const sent = opts.bodySha256 ? null : createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          sent?.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      // Writes through the temp file's own handle (withAtomicFile fsyncs and closes it).
      const sink = new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, cb) {
          fh.write(chunk).then(() => cb(), cb);
        },
      });
      await pipeline(body, counter, sink);
      // No store checksum on a plain filesystem: read the temp file back before it is renamed
      // (withAtomicFile then fsyncs it and the directory).
      const back = createHash('sha256');
      await pipeline(createReadStream(tmp, { highWaterMark: 1 << 20 }), back);
      const want = sent ? sent.digest('hex') : opts.bodySha256!();
      const got = back.digest('hex');
      const st = await fh.stat();
      if (got !== want || st.size !== size) {
        throw new ToolError(`${final}: read-back check failed (sha256 ${got}, expected ${want}); the object was not kept`, ExitCode.DATA);
      }
      return { size, sha256: want, verifiedBy: 'read-back sha256' };
    });
  }

  async get(name: string, range?: { start: number; end: number }): Promise<Readable> {
    const p = this.path(name);
    // Open first so a missing object fails here with a clear error, not later in a pipeline.
    const fh = await open(p, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new IoError(`cannot read ${p}: ${e.code ?? e.message}`);
    });
    return fh.createReadStream({ highWaterMark: 1 << 20, ...(range ?? {}) });
  }

  async head(name: string): Promise<{ size: number } | null> {
    const st = await stat(this.path(name)).catch(() => null);
    return st?.isFile() ? { size: st.size } : null;
  }

  async delete(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  /**
   * Temp files (withAtomicFile's `.<object>.tmp-<pid>-<hex>`) of a killed run: stale when older
   * than `before`, or when their pid is not a live process here and nothing wrote them for
   * DEAD_WRITER_MS (the directory may be shared over NFS with a host where that pid lives).
   */
  async sweep(owns: (object: string) => boolean, opts: SweepOptions): Promise<string[]> {
    const removed: string[] = [];
    for (const file of await readdir(this.dir)) {
      const m = TEMP_RE.exec(file);
      if (!m || !owns(m[1]!)) continue;
      const st = await stat(join(this.dir, file)).catch(() => null);
      if (!st?.isFile()) continue;
      const stale = st.mtime < opts.before || (!pidAlive(Number(m[2])) && st.mtimeMs < Date.now() - DEAD_WRITER_MS);
      if (!stale) continue;
      if (!opts.dryRun) await rm(join(this.dir, file), { force: true });
      removed.push(`${file} (temp file of pid ${m[2]}, ${st.size} bytes)`);
    }
    return removed;
  }
}

/** withAtomicFile's temp names (tempPathFor), which the SFTP store uses too. */
export const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;
const DEAD_WRITER_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
