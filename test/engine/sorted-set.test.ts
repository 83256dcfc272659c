import { describe, expect, it } from 'vitest';
import { SortedSet, type ZNode } from '../../src/engine/sorted-set.js';
import { rng } from './workload.js';

describe('engine SortedSet (chunked skiplist order)', () => {
  it('matches a naive sorted array under a seeded mix of adds, score changes, removes and rank deletes', () => {
    const r = rng(5);
    const z = new SortedSet();
    const model = new Map<string, number>();
    const ordered = (): Array<[string, number]> =>
      [...model]
        .map(([m, s]) => ({ member: Buffer.from(m), score: s }))
        .sort((a: ZNode, b: ZNode) => (a.score !== b.score ? a.score - b.score : Buffer.compare(a.member, b.member)))
        .map((n: ZNode) => [n.member.toString(), n.score]);
    for (let i = 0; i < 30_000; i++) {
      const m = `m${Math.floor(r() * 3000)}`;
      const op = r();
      if (op < 0.6) {
        const s = Math.floor(r() * 100);
        z.set(Buffer.from(m), s);
        model.set(m, s);
      } else if (op < 0.85) {
        expect(z.delete(Buffer.from(m))).toBe(model.delete(m));
      } else if (op < 0.9 && model.size) {
        const all = ordered();
        const a = Math.floor(r() * all.length);
        const b = Math.min(all.length - 1, a + Math.floor(r() * 5));
        const gone = z.deleteRange(a, b).map((n) => [n.member.toString(), n.score]);
        expect(gone).toEqual(all.slice(a, b + 1));
        for (const [g] of gone) model.delete(g as string);
      }
      expect(z.size).toBe(model.size);
    }
    expect(z.nodes().map((n) => [n.member.toString(), n.score])).toEqual(ordered());
  });
});
