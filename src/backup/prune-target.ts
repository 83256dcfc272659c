import { readCatalog } from './manifest.js';
import { applyRetention, policyIsEmpty, type RetentionPolicy } from './retention.js';
import type { BackupStore } from './store/store.js';
import { RefusedError } from '../util/errors.js';

export interface PruneDecision {
  name: string;
  object: string;
  takenAt: string;
  keep: boolean;
  reasons: string[];
}

export interface PruneReport {
  target: string;
  dryRun: boolean;
  decisions: PruneDecision[];
  removed: string[];
}

/**
 * Applies a retention policy to the complete backups on a target, separately for each backup
 * name (like restic's grouping by host and paths). The newest backup of each name is never
 * removed. Removal deletes the manifest first, so an interrupted prune leaves at worst an object
 * without a manifest, which nothing takes for a good backup. A cluster set is one backup: its set
 * manifest goes first, then every shard's manifest and object.
 */
export async function pruneTarget(
  store: BackupStore,
  policy: RetentionPolicy,
  opts: { name?: string; dryRun?: boolean; now?: Date; log?: (line: string) => void } = {},
): Promise<PruneReport> {
  if (policyIsEmpty(policy)) throw new RefusedError('no retention rule given (--keep-last, --keep-hourly, ... or --keep-within*); nothing would be removed');
  const { backups } = await readCatalog(store, opts.name);
  const groups = new Map<string, typeof backups>();
  for (const b of backups) {
    const g = groups.get(b.manifest.name) ?? [];
    g.push(b);
    groups.set(b.manifest.name, g);
  }
  const report: PruneReport = { target: store.describe(), dryRun: opts.dryRun ?? false, decisions: [], removed: [] };
  for (const [name, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const snapshots = list.map((b) => ({ name: b.manifest.object, time: b.takenAt, entry: b }));
    const decisions = applyRetention(snapshots, policy, opts.now);
    // Belt and braces: restic's rules keep the newest anyway, but a backup tool must never drop it.
    const newest = decisions[0];
    if (newest && !newest.keep) {
      newest.keep = true;
      newest.reasons.push('newest verified backup');
    }
    for (const d of decisions) {
      report.decisions.push({ name, object: d.snapshot.name, takenAt: d.snapshot.time.toISOString(), keep: d.keep, reasons: d.reasons });
      if (d.keep || report.dryRun) continue;
      await store.delete(d.snapshot.entry.manifestFile);
      for (const part of d.snapshot.entry.set?.shards ?? [d.snapshot.entry]) {
        if (part !== d.snapshot.entry) await store.delete(part.manifestFile);
        await store.delete(part.manifest.object);
      }
      report.removed.push(d.snapshot.name);
      opts.log?.(`${store.describe()}: removed ${d.snapshot.name}`);
    }
  }
  return report;
}
