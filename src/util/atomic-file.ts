import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A temp name beside the final one, so the rename stays on one filesystem. */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsyncs a directory so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the rename itself has still happened.
    if ((e as NodeJS.ErrnoException).code !== 'EISDIR' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    await fh?.close();
  }
}

/**
 * Writes a file under a temp name, fsyncs it, renames it into place and fsyncs the directory:
 * readers see the old file or the whole new one, never a part.
 */
export async function writeFileAtomic(finalPath: string, data: Uint8Array | string): Promise<void> {
  await withAtomicFile(finalPath, async (fh) => {
    await fh.writeFile(data);
  });
}

/** Streams into a file atomically (temp, fsync, rename, fsync dir). */
export async function streamToFileAtomic(finalPath: string, source: Readable | AsyncIterable<Uint8Array>): Promise<void> {
  const tmp = tempPathFor(finalPath);
  try {
    await pipeline(source, createWriteStream(tmp, { flags: 'wx' }));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, finalPath);
    await fsyncDir(dirname(finalPath));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Gives `fill` an open temp file; on success it is fsynced and renamed to `finalPath`. */
export async function withAtomicFile<T>(finalPath: string, fill: (fh: FileHandle, tempPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(finalPath);
  const fh = await open(tmp, 'wx');
  try {
    const result = await fill(fh, tmp);
    await fh.sync();
    await fh.close();
    await rename(tmp, finalPath);
    await fsyncDir(dirname(finalPath));
    return result;
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}
