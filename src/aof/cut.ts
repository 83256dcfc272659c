import { createReadStream } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { streamToFileAtomic } from '../util/atomic-file.js';
import { RefusedError } from '../util/errors.js';
import type { CutPlan } from './check.js';

/**
 * Applies a cut safely: the file must be exactly as it was when analysed (a running Redis that
 * appended since would make the cut wrong), the whole original is copied aside first (fsynced),
 * then the file is truncated in place (so Redis keeps the same inode and manifest name) and
 * fsynced, as redis-check-aof's ftruncate but durable.
 */

/** `20261121T193512Z`: sortable UTC time for backup names. */
export function utcStamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Where the original is kept: `<file>.<UTC time>.bak` beside it, or in `backupDir`. */
export function backupPathFor(path: string, backupDir?: string, now = new Date()): string {
  const name = `${basename(path)}.${utcStamp(now)}.bak`;
  return join(backupDir ?? dirname(path), name);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Copies `path` to `dest` atomically (temp name, fsync, rename, directory fsync); never overwrites. */
export async function keepOriginal(path: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  if (await exists(dest)) throw new RefusedError(`backup ${dest} already exists; not overwriting it`);
  await streamToFileAtomic(dest, createReadStream(path));
}

export interface CutResult {
  backup: string;
  sizeBefore: number;
  sizeAfter: number;
}

/** Backs the file up, then truncates it to `plan.toSize` and fsyncs it. */
export async function applyCut(plan: CutPlan, opts: { backupDir?: string; now?: Date } = {}): Promise<CutResult> {
  const before = await stat(plan.path);
  if (before.size !== plan.fromSize) {
    throw new RefusedError(
      `${plan.path} changed since it was checked (${plan.fromSize} -> ${before.size} bytes); is Redis still writing to it? Stop it and run again`,
    );
  }
  const backup = backupPathFor(plan.path, opts.backupDir, opts.now);
  await keepOriginal(plan.path, backup);
  const copied = await stat(backup);
  if (copied.size !== before.size) throw new RefusedError(`backup ${backup} is ${copied.size} bytes, expected ${before.size}; nothing was cut`);
  const fh = await open(plan.path, 'r+');
  try {
    await fh.truncate(plan.toSize);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const after = await stat(plan.path);
  return { backup, sizeBefore: before.size, sizeAfter: after.size };
}
