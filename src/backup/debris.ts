import { oneLine } from '../util/errors.js';
import { readCatalog } from './manifest.js';
import { markerNameFor, parseBackupFileName } from './naming.js';
import { parseDuration, subtract } from './retention.js';
import type { BackupStore } from './store/store.js';

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
 * object verified), so nothing usable is ever removed. Returns what was removed.
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
  const { strays } = await readCatalog(store, req.name);
  for (const o of strays) {
    if (o.mtime >= before) continue;
    if (!req.dryRun) await store.delete(o.name);
    removed.push(`${o.name} (object without a manifest, ${o.size} bytes, from ${o.mtime.toISOString()})`);
  }
  return removed;
}
