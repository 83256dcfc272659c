import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import { FormatError } from '../util/errors.js';

/**
 * What a restart needs to ask for a partial resync, and to prove the files on disk match it:
 * the incr AOF holds exactly `incrSize` bytes for `offset`; anything after was written past the
 * last saved state and is cut before resuming. Written atomically after the AOF is flushed.
 */
export interface ReplicaState {
  version: 1;
  /** Redacted master URL, for the operator. */
  master: string;
  replid: string;
  /** Replication offset of the last command stored in the incr AOF. */
  offset: number;
  /** DB selected by the stream at `offset`. */
  db: number;
  appendDirName: string;
  baseFile: string;
  incrFile: string;
  incrSize: number;
  /** Keys in the base RDB (the reference for the shrink guard). */
  baseKeys: number;
  baseBytes: number;
  lastFullSyncAt: string;
  /** Syncs so far, across restarts (absent in state files written before they were kept). */
  fullSyncs?: number;
  partialSyncs?: number;
  /** The point-in-time archive's own state (src/pitr/archiver.ts), kept in step with the offset. */
  archive?: unknown;
  updatedAt: string;
}

export const STATE_FILE = 'replica-state.json';

export async function readState(path: string): Promise<ReplicaState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let s: Partial<ReplicaState>;
  try {
    s = JSON.parse(text) as Partial<ReplicaState>;
  } catch {
    throw new FormatError(path, 0, 'a JSON replica state (delete it to force a full resync)');
  }
  const ok =
    s.version === 1 &&
    typeof s.replid === 'string' &&
    /^[0-9a-zA-Z]{40}$/.test(s.replid) &&
    Number.isSafeInteger(s.offset) &&
    Number.isSafeInteger(s.db) &&
    typeof s.baseFile === 'string' &&
    typeof s.incrFile === 'string' &&
    Number.isSafeInteger(s.incrSize);
  if (!ok) throw new FormatError(path, 0, 'replid, offset, db, baseFile, incrFile and incrSize in the replica state');
  return s as ReplicaState;
}

export async function writeState(path: string, s: ReplicaState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2)}\n`);
}
