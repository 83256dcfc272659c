import { oneLine } from '../util/errors.js';
import { MANIFEST_SUFFIX, SET_SUFFIX, manifestNameFor, markerNameFor, parseBackupFileName, setManifestNameFor } from './naming.js';
import { parseDuration, subtract } from './retention.js';
import type { BackupStore, ObjectInfo } from './store/store.js';

/** How long an interrupted run's leftovers are left alone (a run of the same name may still be at work). */
export const DEFAULT_STALE_AFTER = '6h';

export interface SweepRequest {
  /** Only leftovers of this backup name; every backup name of ours without it. */
  name?: string;
  /** A duration (36h, 2d): leftovers younger than this are kept. */
  staleAfter?: string;
  dryRun?: boolean;
  now?: Date;
  /** Told what could not be cleaned (the sweep goes on). */
  warn?: (line: string) => void;
}

/**
 * Cleans what killed or failed runs left on a target: temp files and unfinished multipart uploads
 * (the store's own sweep), and backup objects that no manifest claims, once older than
 * `staleAfter`. Such an object was never a good backup (the manifest is written last, after the
 * object verified), so nothing usable is ever removed. The files of a cluster set's shard
 * (object and manifest) are leftovers too while the set has no set manifest (written last).
 * Returns what was removed.
 */
export async function sweepDebris(store: BackupStore, req: SweepRequest = {}): Promise<string[]> {
  const before = new Date(subtract(req.now ?? new Date(), parseDuration(req.staleAfter ?? DEFAULT_STALE_AFTER)));
  const owns = (object: string): boolean => {
    const parsed = parseBackupFileName(object);
    if (parsed) return !req.name || parsed.name === req.name;
    return req.name ? object === markerNameFor(req.name) : object.endsWith(markerNameFor(''));
  };
  // A store that cannot list its unfinished uploads (some S3-compatible servers) still gets its
  // orphan objects cleaned; the operator is told, since only a bucket lifecycle rule helps then.
  const removed = await store.sweep(owns, { before, dryRun: req.dryRun }).catch((e: unknown) => {
    req.warn?.(`${store.describe()}: cannot clean interrupted uploads (${oneLine(e)}); an AbortIncompleteMultipartUpload lifecycle rule on the bucket does it instead`);
    return [] as string[];
  });
  // Claimed by name (an object and its manifest share the stem), without reading every manifest:
  // a run must not cost one GET per backup the target holds.
  const files: ObjectInfo[] = [];
  for await (const o of store.list(req.name ? `${req.name}-` : '')) files.push(o);
  const names = new Set(files.map((o) => o.name).filter((f) => f.endsWith(MANIFEST_SUFFIX) || f.endsWith(SET_SUFFIX)));
  for (const o of files) {
    const parsed = parseBackupFileName(o.name);
    if (!parsed || o.name.endsWith(SET_SUFFIX) || !owns(o.name) || o.mtime >= before) continue;
    const orphanShard = parsed.setStem !== undefined && !names.has(setManifestNameFor(parsed.setStem));
    let why: string;
    if (o.name.endsWith(MANIFEST_SUFFIX)) {
      if (!orphanShard) continue;
      why = 'shard manifest of a set without a set manifest';
    } else {
      if (!/\.rdb/.test(o.name) || (names.has(manifestNameFor(parsed.stem)) && !orphanShard)) continue;
      why = orphanShard ? 'shard of a set without a set manifest' : 'object without a manifest';
    }
    if (!req.dryRun) await store.delete(o.name);
    removed.push(`${o.name} (${why}, ${o.size} bytes, from ${o.mtime.toISOString()})`);
  }
  return removed;
}
