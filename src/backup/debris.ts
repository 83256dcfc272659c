import { oneLine } from '../util/errors.js';
import { MANIFEST_SUFFIX, manifestNameFor, markerNameFor, parseBackupFileName } from './naming.js';
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
  // Claimed by name (an object and its manifest share the stem), without reading every manifest:
  // a run must not cost one GET per backup the target holds.
  const files: ObjectInfo[] = [];
  for await (const o of store.list(req.name ? `${req.name}-` : '')) files.push(o);
  const manifests = new Set(files.map((o) => o.name).filter((f) => f.endsWith(MANIFEST_SUFFIX)));
  for (const o of files) {
    const parsed = parseBackupFileName(o.name);
    if (!parsed || o.name.endsWith(MANIFEST_SUFFIX) || !/\.rdb/.test(o.name) || !owns(o.name)) continue;
    if (manifests.has(manifestNameFor(parsed.stem)) || o.mtime >= before) continue;
    if (!req.dryRun) await store.delete(o.name);
    removed.push(`${o.name} (object without a manifest, ${o.size} bytes, from ${o.mtime.toISOString()})`);
  }
  return removed;
}
