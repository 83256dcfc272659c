import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecryptionKeys } from '../backup/crypto.js';
import { openStore, type StoreOptions } from '../backup/store/store.js';
import { readAofBatches, type AofItem } from '../codec/aof/reader.js';
import { Keyspace } from '../engine/keyspace.js';
import { replay, type ReplayItem } from '../engine/replay.js';
import type { StagedRdb } from '../restore/local-source.js';
import { RefusedError } from '../util/errors.js';
import { rdbVersionAfterReplay, writeKeyspaceRdb } from '../engine/rdb-file.js';
import { fetchObject } from './fetch.js';
import { readPitrCatalog, type PitrManifest } from './manifest.js';
import { buildTimeline, planPitrRestore, type RestorePlanPitr, type RestorePoint, type Timeline } from './timeline.js';

export interface PitrStaged extends StagedRdb {
  plan: RestorePlanPitr;
  replayed: { baseKeys: number; commands: number; errors: number; lastTimestampS: number | null };
  where: string;
}

/**
 * The items of a base and its segments, stopped at the cut. A time cut stops at the first command
 * stamped after the second, decided outside transactions only: a MULTI belongs to its own second
 * and is taken with everything up to its EXEC, or not at all. A position cut stops before the
 * `index`-th command (SELECT not counted) of the named segment.
 */
export async function* cutItems(files: Array<{ path: string; m: PitrManifest | null }>, cut: RestorePlanPitr['cut']): AsyncGenerator<readonly ReplayItem[]> {
  for (const f of files) {
    const atPosition = cut.kind === 'position' && f.m?.object === cut.object;
    let index = 0;
    let inMulti = false;
    for await (const batch of readAofBatches(f.path)) {
      const out: AofItem[] = [];
      for (const it of batch) {
        if (it.kind === 'command' && f.m) {
          const name = it.argv[0]!.toString('latin1').toLowerCase();
          if (name !== 'select') {
            if (!inMulti) {
              if (cut.kind === 'time' && it.timestampS !== null && it.timestampS > cut.s) {
                if (out.length) yield out;
                return;
              }
              if (atPosition && index === cut.index) {
                if (out.length) yield out;
                return;
              }
            }
            if (name === 'multi') inMulti = true;
            else if (name === 'exec' || name === 'discard') inMulti = false;
            index++;
          }
        }
        out.push(it);
      }
      if (out.length) yield out;
    }
    if (atPosition) return;
  }
}

/** Refuses a plan when the chain it reads has defects (a hole, a replid break) at or before its end. */
function checkSound(t: Timeline, plan: RestorePlanPitr): void {
  const bad = t.problems.filter((p) => p.startsWith(`chain ${plan.chain}:`) || plan.segments.some((s) => p.includes(s.object)));
  if (bad.length && plan.cut.kind === 'none') throw new RefusedError(`the archive has a defect: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more; run verify --pitr)` : ''}`);
}

/**
 * A point in time from an archive: plan (base + segments + cut), every object fetched and proven
 * against its manifest into a private temp dir, replayed with the keyspace engine, written as one
 * RDB. Only that RDB is handed on to the restore paths; on any failure the temp dir goes and
 * nothing was written anywhere.
 */
export async function stagePitr(location: string, name: string, point: RestorePoint, storeOpts: StoreOptions, keys: DecryptionKeys, tmpRoot?: string): Promise<PitrStaged> {
  const store = await openStore(location, storeOpts);
  const cat = await readPitrCatalog(store, name);
  if (cat.manifests.length === 0) throw new RefusedError(`${cat.where}: no point-in-time archive named "${name}" (run tsredis-ops list --pitr --from ${location})`);
  const t = buildTimeline(cat.manifests, cat.chains);
  let plan: RestorePlanPitr;
  try {
    plan = planPitrRestore(t, point);
  } catch (e) {
    if (e instanceof RefusedError && t.problems.length) throw new RefusedError(`${e.message}; the archive has defects: ${t.problems[0]}`);
    throw e;
  }
  checkSound(t, plan);
  const dir = await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-pitr-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const files: Array<{ path: string; m: PitrManifest | null }> = [];
    const objs = [plan.base, ...plan.segments];
    for (let i = 0; i < objs.length; i++) {
      const plainPath = join(dir, `${String(i).padStart(6, '0')}.${i === 0 ? 'rdb' : 'aof'}`);
      await fetchObject(store, cat, objs[i]!, keys, join(dir, 'stored.tmp'), plainPath);
      files.push({ path: plainPath, m: i === 0 ? null : objs[i]! });
    }
    const ks = new Keyspace();
    const stats = await replay(ks, cutItems(files, plan.cut));
    const path = join(dir, 'restored.rdb');
    await writeKeyspaceRdb(ks, rdbVersionAfterReplay(stats.rdbVersion), path);
    for (const f of files) await rm(f.path, { force: true });
    return {
      path,
      layers: ['pitr replay'],
      cleanup,
      plan,
      where: cat.where,
      replayed: { baseKeys: stats.rdbKeys, commands: stats.commands, errors: stats.errors, lastTimestampS: stats.lastTimestampS },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
