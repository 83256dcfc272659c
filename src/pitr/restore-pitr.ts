import { createReadStream } from 'node:fs';
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

/** A plan's objects, fetched and proven against their manifests, in a private temp dir. */
export interface PitrFetched {
  plan: RestorePlanPitr;
  where: string;
  /** The base RDB, plain. */
  base: string;
  /** The segments after it, plain AOF fragments, in stream order. */
  segments: Array<{ path: string; m: PitrManifest }>;
  /** Removes the temp dir (and everything staged in it). */
  cleanup(): Promise<void>;
}

/** Where the cut left the stream: how much of each segment is taken, and what that holds. */
export interface CutResult {
  /** The segments taken, in order: all of a file (end null) or its bytes [0, end). */
  parts: Array<{ path: string; end: number | null }>;
  /** Commands taken (SELECT not counted). */
  commands: number;
  /** `#TS` of the last command taken. */
  lastTimestampS: number | null;
}

export const newCut = (): CutResult => ({ parts: [], commands: 0, lastTimestampS: null });

/**
 * The commands of the segments, stopped at the cut; `out` records how far each file was taken, so
 * that every restore path (engine replay, AOF incr written byte for byte, commands sent to a node)
 * takes exactly the same stream. A time cut stops at the first command stamped after the second,
 * decided outside transactions only: a MULTI belongs to its own second and is taken with
 * everything up to its EXEC, or not at all. A position cut stops before the `index`-th command
 * (SELECT not counted) of the named segment. A segment never ends inside a MULTI (the archiver
 * checks each one as an AOF before it ships it), so the taken stream never does either.
 */
export async function* cutItems(segments: ReadonlyArray<{ path: string; m: PitrManifest }>, cut: RestorePlanPitr['cut'], out: CutResult = newCut()): AsyncGenerator<readonly AofItem[]> {
  for (const f of segments) {
    const atPosition = cut.kind === 'position' && f.m.object === cut.object;
    const part: CutResult['parts'][number] = { path: f.path, end: null };
    out.parts.push(part);
    let index = 0;
    let inMulti = false;
    let takenEnd = 0;
    for await (const batch of readAofBatches(f.path)) {
      const taken: AofItem[] = [];
      for (const it of batch) {
        if (it.kind === 'command') {
          const name = it.argv[0]!.toString('latin1').toLowerCase();
          if (name !== 'select') {
            if (!inMulti && ((cut.kind === 'time' && it.timestampS !== null && it.timestampS > cut.s) || (atPosition && index === cut.index))) {
              part.end = takenEnd;
              if (taken.length) yield taken;
              return;
            }
            if (name === 'multi') inMulti = true;
            else if (name === 'exec' || name === 'discard') inMulti = false;
            index++;
            out.commands++;
            out.lastTimestampS = it.timestampS;
          }
          takenEnd = it.offset + it.length;
        }
        taken.push(it);
      }
      if (taken.length) yield taken;
    }
    if (atPosition) return;
  }
}

/** The cut without replaying anything: reads the segments once to find where it falls. */
export async function findCut(f: PitrFetched): Promise<CutResult> {
  const out = newCut();
  for await (const _ of cutItems(f.segments, f.plan.cut, out));
  return out;
}

/** The taken bytes of the stream, file by file, in chunks (constant memory). */
export async function* cutBytes(cut: CutResult): AsyncGenerator<Buffer> {
  for (const p of cut.parts) {
    if (p.end === 0) continue;
    yield* createReadStream(p.path, { highWaterMark: 1 << 20, ...(p.end === null ? {} : { end: p.end - 1 }) }) as AsyncIterable<Buffer>;
  }
}

/** Refuses a plan when the chain it reads has defects (a hole, a replid break) at or before its end. */
function checkSound(t: Timeline, plan: RestorePlanPitr): void {
  const bad = t.problems.filter((p) => p.startsWith(`chain ${plan.chain}:`) || plan.segments.some((s) => p.includes(s.object)));
  if (bad.length && plan.cut.kind === 'none') throw new RefusedError(`the archive has a defect: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more; run verify --pitr)` : ''}`);
}

/**
 * A point in time from an archive: plan (base + segments + cut), every object fetched and proven
 * against its manifest (stored and plain size + sha256) into a private temp dir before any restore
 * path writes anything; on any failure the temp dir goes and nothing was written anywhere.
 */
export async function fetchPitr(location: string, name: string, point: RestorePoint, storeOpts: StoreOptions, keys: DecryptionKeys, tmpRoot?: string): Promise<PitrFetched> {
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
    const base = join(dir, 'base.rdb');
    await fetchObject(store, cat, plan.base, keys, join(dir, 'stored.tmp'), base);
    const segments: PitrFetched['segments'] = [];
    for (const [i, m] of plan.segments.entries()) {
      const path = join(dir, `${String(i).padStart(6, '0')}.aof`);
      await fetchObject(store, cat, m, keys, join(dir, 'stored.tmp'), path);
      segments.push({ path, m });
    }
    return { plan, where: cat.where, base, segments, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export interface PitrStaged extends StagedRdb {
  replayed: { baseKeys: number; commands: number; errors: number; lastTimestampS: number | null };
}

/**
 * The point in time as one RDB, for the paths that need the whole dataset as a file (--layout rdb,
 * a cluster target, --db-map, --verify): the base and the cut stream replayed with the keyspace
 * engine, which holds the whole dataset in memory. Its cleanup removes the fetched objects too.
 */
export async function replayPitr(f: PitrFetched): Promise<PitrStaged> {
  const cut = newCut();
  async function* items(): AsyncGenerator<readonly ReplayItem[]> {
    yield* readAofBatches(f.base);
    yield* cutItems(f.segments, f.plan.cut, cut);
  }
  const ks = new Keyspace();
  const stats = await replay(ks, items());
  const path = join(f.base, '..', 'restored.rdb');
  await writeKeyspaceRdb(ks, rdbVersionAfterReplay(stats.rdbVersion), path);
  await rm(f.base, { force: true });
  for (const s of f.segments) await rm(s.path, { force: true });
  return { path, layers: ['pitr replay'], cleanup: f.cleanup, replayed: { baseKeys: stats.rdbKeys, commands: cut.commands, errors: stats.errors, lastTimestampS: cut.lastTimestampS } };
}
