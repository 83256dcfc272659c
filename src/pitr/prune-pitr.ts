import type { BackupStore } from '../backup/store/store.js';
import { RefusedError } from '../util/errors.js';
import { readPitrCatalog } from './manifest.js';
import { chainRecordName, manifestName, parsePitrName } from './names.js';
import { buildTimeline, iso, planPitrPrune } from './timeline.js';

export interface PitrPruneReport {
  where: string;
  name: string;
  keepFrom: string | null;
  deleted: string[];
  kept: number;
  dryRun: boolean;
}

/**
 * Applies the prune rule (timeline.ts planPitrPrune): each object's manifest goes first, then the
 * object (an interrupted prune leaves objects without a manifest, never a manifest without its
 * object), then the chain records of chains left empty. Refused while the archive has defects:
 * the rule needs whole chains to know what a kept second needs.
 */
export async function prunePitr(store: BackupStore, name: string, withinS: number, dryRun: boolean): Promise<PitrPruneReport> {
  const cat = await readPitrCatalog(store, name);
  const t = buildTimeline(cat.manifests, cat.chains);
  if (t.problems.length) throw new RefusedError(`${cat.where}: not pruning an archive with defects (${t.problems[0]}); run verify --pitr`);
  const plan = planPitrPrune(t, withinS);
  const deleted: string[] = [];
  for (const m of plan.delete.sort((a, b) => a.seq - b.seq)) {
    const p = parsePitrName(m.object);
    if (!p || p.what !== 'object') continue;
    if (!dryRun) {
      await store.delete(manifestName(p.stem));
      await store.delete(m.object);
    }
    deleted.push(m.object);
  }
  const left = new Set(plan.keep.map((m) => m.chain));
  for (const c of cat.chains) {
    if (left.has(c.chain)) continue;
    if (!dryRun) await store.delete(chainRecordName(name, c.chain));
    deleted.push(chainRecordName(name, c.chain));
  }
  return { where: cat.where, name, keepFrom: plan.keepFrom === null ? null : iso(plan.keepFrom), deleted, kept: plan.keep.length, dryRun };
}
