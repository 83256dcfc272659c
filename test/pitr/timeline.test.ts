import { describe, expect, it } from 'vitest';
import type { ChainRecord, PitrManifest } from '../../src/pitr/manifest.js';
import { manifestName, objectName, parsePitrName, stemOf } from '../../src/pitr/names.js';
import { buildTimeline, iso, planPitrPrune, planPitrRestore } from '../../src/pitr/timeline.js';

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0) / 1000;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
let seq = 0;

function m(kind: 'base' | 'segment', chain: string, start: number, end: number, opened: number, closed: number, extra: Partial<PitrManifest> = {}): PitrManifest {
  const stem = stemOf('n', chain, kind === 'base' ? 'b' : 's', start);
  return {
    format: 'tsredis-ops-pitr/1',
    kind,
    name: 'n',
    chain,
    object: objectName(stem, kind === 'base' ? 'b' : 's', true, false),
    seq: seq++,
    replid: A,
    linkedFrom: null,
    startOffset: start,
    endOffset: end,
    openedAt: iso(opened),
    closedAt: iso(closed),
    firstTs: opened,
    lastTs: closed,
    commands: 1,
    flushes: [],
    plain: { size: 1, sha256: 'x' },
    stored: { size: 1, sha256: 'x' },
    compression: 'gzip',
    encryption: { mode: 'none' },
    tool: { name: 'tsredis-ops', version: '0' },
    ...extra,
  };
}

const C1 = '20261205T100000Z-0001';
const C2 = '20261205T110000Z-0002';

/** base at 0 (t0), segments every 10 s of 100 offsets. */
function chain(chainId: string, t0: number, n: number, replid = A): PitrManifest[] {
  const out = [m('base', chainId, 0, 0, t0, t0, { replid })];
  for (let i = 0; i < n; i++) out.push(m('segment', chainId, i * 100, (i + 1) * 100, t0 + i * 10, t0 + (i + 1) * 10, { replid }));
  return out;
}

describe('pitr names', () => {
  it('round-trips object, manifest and chain names, and refuses backup-like names', () => {
    const stem = stemOf('cache-01', C1, 's', 1234);
    expect(parsePitrName(objectName(stem, 's', true, true))).toMatchObject({ what: 'object', name: 'cache-01', chain: C1, kind: 's', offset: 1234 });
    expect(parsePitrName(manifestName(stem))).toMatchObject({ what: 'manifest', stem });
    expect(parsePitrName('cache-01-20261205T100000Z.rdb.gz')).toBeNull();
  });
});

describe('buildTimeline', () => {
  it('one chain: the window runs from the base to the second before the last cut', () => {
    const t = buildTimeline(chain(C1, T0, 3));
    expect(t.problems).toEqual([]);
    expect(t.runs).toHaveLength(1);
    expect(t.runs[0]!.from).toBe(T0);
    expect(t.runs[0]!.to).toBe(T0 + 29);
  });

  it('a missing segment is a hole: reported, and the window stops before it', () => {
    const all = chain(C1, T0, 4).filter((x) => x.startOffset !== 200 || x.kind === 'base');
    const t = buildTimeline(all);
    expect(t.problems.join('\n')).toMatch(/hole in the stream: offsets 200\.\.300 are missing/);
    expect(t.runs[0]!.to).toBe(T0 + 19);
  });

  it('a segment archived out of order is reported as reordered', () => {
    const all = chain(C1, T0, 3);
    [all[2]!.seq, all[3]!.seq] = [all[3]!.seq, all[2]!.seq];
    expect(buildTimeline(all).problems.join('\n')).toMatch(/reordered/);
  });

  it('a replid change joins the chain only where a segment is linked from the previous replid', () => {
    const all = chain(C1, T0, 3);
    all[3] = { ...all[3]!, replid: B, linkedFrom: A };
    expect(buildTimeline(all).problems).toEqual([]);
    all[3] = { ...all[3]!, linkedFrom: null };
    expect(buildTimeline(all).problems.join('\n')).toMatch(/no partial resync links them/);
  });

  it('a new chain after a full sync leaves a recorded gap; a time in it is refused naming the windows', () => {
    const rec: ChainRecord = { format: 'tsredis-ops-pitr/1', kind: 'chain', name: 'n', chain: C2, startedAt: iso(T0 + 100), replid: B, offset: 0, reason: 'full sync: the master no longer had offset 300 in its backlog', previous: null };
    const t = buildTimeline([...chain(C1, T0, 3), ...chain(C2, T0 + 100, 2, B)], [rec]);
    expect(t.problems).toEqual([]);
    expect(t.gaps).toEqual([{ from: T0 + 30, to: T0 + 99, afterChain: C1, beforeChain: C2, reason: rec.reason }]);
    expect(() => planPitrRestore(t, { kind: 'time', s: T0 + 50 })).toThrow(new RegExp(`outside the restorable windows: ${iso(T0)} → ${iso(T0 + 29)}, ${iso(T0 + 100)} → ${iso(T0 + 119)}`));
  });
});

describe('planPitrRestore', () => {
  it('takes the newest base at or before the time and the segments opened up to it', () => {
    const all = chain(C1, T0, 4);
    all.push(m('base', C1, 200, 200, T0 + 20, T0 + 20));
    const t = buildTimeline(all);
    const p = planPitrRestore(t, { kind: 'time', s: T0 + 25 });
    expect(p.base.startOffset).toBe(200);
    expect(p.segments.map((s) => s.startOffset)).toEqual([200]);
    expect(p.cut).toEqual({ kind: 'time', s: T0 + 25 });
    const early = planPitrRestore(t, { kind: 'time', s: T0 + 10 });
    expect(early.base.startOffset).toBe(0);
    expect(early.segments.map((s) => s.startOffset)).toEqual([0, 100]);
    expect(planPitrRestore(t, { kind: 'latest' }).segments.map((s) => s.startOffset)).toEqual([200, 300]);
  });

  it('--before-flush cuts before the last flush of the newest run', () => {
    const all = chain(C1, T0, 3);
    all[2] = { ...all[2]!, flushes: [{ index: 7, ts: T0 + 15, command: 'FLUSHALL' }] };
    const p = planPitrRestore(buildTimeline(all), { kind: 'before-flush' });
    expect(p.cut).toMatchObject({ kind: 'position', object: all[2]!.object, index: 7 });
    expect(p.segments.map((s) => s.startOffset)).toEqual([0, 100]);
    expect(() => planPitrRestore(buildTimeline(chain(C1, T0, 2)), { kind: 'before-flush' })).toThrow(/no FLUSHALL or FLUSHDB/);
  });
});

describe('planPitrPrune', () => {
  it('never deletes what a kept second needs: every second in the kept span plans the same before and after', () => {
    const all = [...chain(C1, T0, 6), m('base', C1, 300, 300, T0 + 30, T0 + 30), m('base', C1, 500, 500, T0 + 50, T0 + 50), ...chain(C2, T0 + 100, 3, B)];
    const before = buildTimeline(all);
    for (const within of [0, 5, 20, 45, 90, 1000]) {
      const p = planPitrPrune(before, within);
      const after = buildTimeline(p.keep);
      expect(after.problems).toEqual([]);
      for (const r of before.runs) {
        for (let s = Math.max(r.from, p.keepFrom!); s <= r.to; s++) {
          const a = planPitrRestore(before, { kind: 'time', s });
          const b = planPitrRestore(after, { kind: 'time', s });
          expect(b.segments.at(-1)?.object).toBe(a.segments.at(-1)?.object);
          // the kept plan replays a tail of the same segments from a base no later than the second
          expect(a.segments.slice(a.segments.length - b.segments.length).map((x) => x.object)).toEqual(b.segments.map((x) => x.object));
        }
      }
      expect(p.delete.length + p.keep.length).toBe(all.length);
    }
    // within 20 s of the newest second (T0+129): the first chain ends at T0+59 and goes whole.
    const p = planPitrPrune(before, 20);
    expect(p.delete.every((x) => x.chain === C1)).toBe(true);
    expect(p.delete).toHaveLength(9);
    // within 85 s: the cutoff T0+44 is in chain 1; the base at 300 (T0+30) and what follows stay.
    const q = planPitrPrune(before, 85);
    expect(q.delete.map((x) => `${x.kind}@${x.startOffset}`).sort()).toEqual(['base@0', 'segment@0', 'segment@100', 'segment@200'].sort());
  });
});
