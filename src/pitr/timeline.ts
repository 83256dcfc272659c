import { RefusedError, UsageError } from '../util/errors.js';
import type { ChainRecord, PitrManifest } from './manifest.js';

/**
 * The archive as restorable time (pure functions over manifests; no I/O). A run is a base followed
 * by segments whose offsets join end to start (a replid may change only where a segment says it
 * was linked from the one before: a failover continued by a partial resync). Times are whole
 * seconds of the archiver's `#TS:` clock. A run restores every second from its first base's second
 * to the second before its last segment was cut: a segment cut at 12:00:05.3 covers the writes of
 * 12:00:04 completely, not yet those of 12:00:05.
 */

export interface RunBase {
  base: PitrManifest;
  /** Index in the run's segments of the first segment after this base. */
  segIndex: number;
}

export interface Run {
  chain: string;
  bases: RunBase[];
  segments: PitrManifest[];
  /** Restorable seconds [from, to]; to < from means nothing is restorable yet. */
  from: number;
  to: number;
}

export interface Gap {
  /** Unrestorable seconds [from, to] between two runs. */
  from: number;
  to: number;
  afterChain: string;
  beforeChain: string;
  reason: string;
}

export interface Timeline {
  runs: Run[];
  gaps: Gap[];
  /** Defects: holes inside a chain, duplicates, replid breaks, objects out of place. Empty when sound. */
  problems: string[];
  /** Objects no run reaches (before the first base of their chain, or after a hole). */
  unreachable: PitrManifest[];
}

export const secondOf = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

export function iso(s: number): string {
  return new Date(s * 1000).toISOString().replace('.000Z', 'Z');
}

export function buildTimeline(manifests: readonly PitrManifest[], chains: readonly ChainRecord[] = []): Timeline {
  const problems: string[] = [];
  const unreachable: PitrManifest[] = [];
  const runs: Run[] = [];
  const byChain = new Map<string, PitrManifest[]>();
  for (const m of manifests) {
    const list = byChain.get(m.chain) ?? [];
    list.push(m);
    byChain.set(m.chain, list);
  }
  for (const chain of [...byChain.keys()].sort()) {
    const all = byChain.get(chain)!;
    const segs = all.filter((m) => m.kind === 'segment').sort((a, b) => a.startOffset - b.startOffset || a.seq - b.seq);
    const bases = all.filter((m) => m.kind === 'base').sort((a, b) => a.startOffset - b.startOffset || a.seq - b.seq);
    for (let i = 1; i < segs.length; i++) {
      if (segs[i]!.startOffset === segs[i - 1]!.startOffset) problems.push(`chain ${chain}: two segments start at offset ${segs[i]!.startOffset} (${segs[i - 1]!.object}, ${segs[i]!.object})`);
      else if (segs[i]!.seq < segs[i - 1]!.seq) problems.push(`chain ${chain}: ${segs[i]!.object} was archived before ${segs[i - 1]!.object} but follows it in the stream (reordered)`);
    }
    let run: Run | null = null;
    let prev: PitrManifest | null = null;
    let bi = 0;
    const used = new Set<PitrManifest>();
    const endOf = (r: Run): number => (r.segments.length ? r.segments.at(-1)!.endOffset : r.bases.at(-1)!.base.startOffset);
    // Bases up to `offset`: one exactly there joins the run ending there, or starts a run.
    const attach = (offset: number): void => {
      while (bi < bases.length && bases[bi]!.startOffset <= offset) {
        const b = bases[bi++]!;
        if (b.startOffset !== offset) continue;
        if (!run) {
          run = { chain, bases: [], segments: [], from: secondOf(b.openedAt), to: secondOf(b.openedAt) - 1 };
          runs.push(run);
          prev = b;
        }
        run.bases.push({ base: b, segIndex: run.segments.length });
        used.add(b);
      }
    };
    for (const s of segs) {
      const r0 = run as Run | null;
      if (r0 && s.startOffset < endOf(r0)) {
        unreachable.push(s); // a duplicate, reported above
        continue;
      }
      if (r0 && s.startOffset > endOf(r0)) {
        problems.push(`chain ${chain}: hole in the stream: offsets ${endOf(r0)}..${s.startOffset} are missing (after ${(prev as PitrManifest | null)?.object}, before ${s.object})`);
        run = null;
        prev = null;
      }
      attach(s.startOffset);
      const r = run as Run | null;
      const p = prev as PitrManifest | null;
      if (!r || !p) {
        unreachable.push(s);
        continue;
      }
      if (s.replid !== p.replid && s.linkedFrom !== p.replid) {
        problems.push(`chain ${chain}: ${s.object} is under replid ${s.replid}, the stream before it under ${p.replid}, and no partial resync links them`);
        run = null;
        prev = null;
        unreachable.push(s);
        continue;
      }
      r.segments.push(s);
      r.to = secondOf(s.closedAt) - 1;
      prev = s;
    }
    const last = run as Run | null;
    if (last) attach(endOf(last));
    for (const b of bases) if (!used.has(b)) unreachable.push(b);
  }
  for (const u of unreachable) {
    const chainBases = runs.filter((r) => r.chain === u.chain).flatMap((r) => r.bases.map((b) => b.base.startOffset));
    // Segments before the oldest base of their chain are what prune leaves behind a kept base: expected.
    const beforeFirstBase = chainBases.length > 0 && u.startOffset < Math.min(...chainBases);
    if (!beforeFirstBase && !problems.some((p) => p.includes(u.object))) problems.push(`${u.object} cannot be reached from any base of chain ${u.chain}`);
  }
  runs.sort((a, b) => a.chain.localeCompare(b.chain) || a.from - b.from);
  const gaps: Gap[] = [];
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1]!;
    const b = runs[i]!;
    const rec = chains.find((c) => c.chain === b.chain);
    const reason = a.chain === b.chain ? 'a hole in the stream' : (rec?.reason ?? 'a new chain');
    gaps.push({ from: Math.max(a.to, a.from - 1) + 1, to: b.from - 1, afterChain: a.chain, beforeChain: b.chain, reason });
  }
  return { runs, gaps, problems, unreachable };
}

/** Restorable windows, for messages: "[from → to] …". */
export function describeWindows(t: Timeline): string {
  const w = t.runs.filter((r) => r.to >= r.from).map((r) => `${iso(r.from)} → ${iso(r.to)}`);
  return w.length ? w.join(', ') : 'none yet';
}

export type RestorePoint = { kind: 'time'; s: number } | { kind: 'latest' } | { kind: 'before-flush' };

export interface RestorePlanPitr {
  chain: string;
  base: PitrManifest;
  segments: PitrManifest[];
  /** time: replay commands whose #TS second is <= s; position: stop before command `index` of `object`; none: all. */
  cut: { kind: 'time'; s: number } | { kind: 'position'; object: string; index: number; ts: number; command: string } | { kind: 'none' };
  /** What the restored data corresponds to, for the report. */
  describes: string;
}

/** Base + segments + cut for a point, or a refusal naming the restorable windows. */
export function planPitrRestore(t: Timeline, at: RestorePoint): RestorePlanPitr {
  const usable = t.runs.filter((r) => r.bases.length > 0);
  if (at.kind === 'time') {
    const run = usable.find((r) => r.from <= at.s && at.s <= r.to);
    if (!run) throw new RefusedError(`${iso(at.s)} is outside the restorable windows: ${describeWindows(t)}`);
    const b = [...run.bases].reverse().find((x) => secondOf(x.base.openedAt) <= at.s)!;
    let end = b.segIndex;
    while (end < run.segments.length && secondOf(run.segments[end]!.openedAt) <= at.s) end++;
    return { chain: run.chain, base: b.base, segments: run.segments.slice(b.segIndex, end), cut: { kind: 'time', s: at.s }, describes: `every write archived up to ${iso(at.s)} (inclusive)` };
  }
  if (at.kind === 'latest') {
    const run = usable.at(-1);
    if (!run) throw new RefusedError(`nothing to restore: the archive has no base yet (windows: ${describeWindows(t)})`);
    const b = run.bases.at(-1)!;
    const last = run.segments.at(-1);
    return { chain: run.chain, base: b.base, segments: run.segments.slice(b.segIndex), cut: { kind: 'none' }, describes: `everything archived (to offset ${last?.endOffset ?? b.base.startOffset}, cut ${last?.closedAt ?? b.base.openedAt})` };
  }
  for (let r = usable.length - 1; r >= 0; r--) {
    const run = usable[r]!;
    for (let k = run.segments.length - 1; k >= 0; k--) {
      const f = run.segments[k]!.flushes.at(-1);
      if (!f) continue;
      const b = [...run.bases].reverse().find((x) => x.segIndex <= k);
      if (!b) break;
      const seg = run.segments[k]!;
      return {
        chain: run.chain,
        base: b.base,
        segments: run.segments.slice(b.segIndex, k + 1),
        cut: { kind: 'position', object: seg.object, index: f.index, ts: f.ts, command: f.command },
        describes: `the data just before ${f.command} at ${iso(f.ts)}`,
      };
    }
  }
  throw new RefusedError(`no FLUSHALL or FLUSHDB in the restorable windows (${describeWindows(t)})`);
}

export interface PrunePlanPitr {
  /** Kept: every second from `keepFrom` on stays restorable. */
  keepFrom: number | null;
  delete: PitrManifest[];
  keep: PitrManifest[];
}

/**
 * The prune rule: every second within `withinS` of the newest restorable second stays restorable.
 * In the run holding the cutoff the newest base at or before it is kept with every segment after
 * it; older bases and segments of that run, and runs ending before the cutoff, go. Unreachable
 * objects are deleted once they end before the cutoff. Never deletes what a kept second needs.
 */
export function planPitrPrune(t: Timeline, withinS: number): PrunePlanPitr {
  if (!(withinS >= 0)) throw new UsageError('--keep-within must be a duration');
  const restorable = t.runs.filter((r) => r.bases.length && r.to >= r.from);
  const newest = restorable.length ? Math.max(...restorable.map((r) => r.to)) : null;
  const keep = new Set<PitrManifest>();
  const del = new Set<PitrManifest>();
  if (newest === null) {
    for (const r of t.runs) for (const m of [...r.bases.map((b) => b.base), ...r.segments]) keep.add(m);
    for (const u of t.unreachable) keep.add(u);
    return { keepFrom: null, delete: [], keep: [...keep] };
  }
  const cutoff = newest - withinS;
  for (const r of t.runs) {
    const objs = [...r.bases.map((b) => b.base), ...r.segments];
    if (r.to < cutoff && r.to >= r.from) {
      for (const m of objs) del.add(m);
      continue;
    }
    if (r.from >= cutoff || r.to < r.from) {
      for (const m of objs) keep.add(m);
      continue;
    }
    const b = [...r.bases].reverse().find((x) => secondOf(x.base.openedAt) <= cutoff)!;
    for (const x of r.bases) (x.segIndex < b.segIndex || (x.segIndex === b.segIndex && x.base.seq < b.base.seq) ? del : keep).add(x.base);
    r.segments.forEach((s, i) => (i < b.segIndex ? del : keep).add(s));
  }
  for (const u of t.unreachable) (secondOf(u.closedAt) < cutoff ? del : keep).add(u);
  return { keepFrom: cutoff, delete: [...del], keep: [...keep] };
}
