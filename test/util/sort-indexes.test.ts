import { describe, expect, it } from 'vitest';
import { sortIndexes } from '../../src/util/sort-indexes.js';

describe('sortIndexes', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  it('orders as Array.prototype.sort does, stable, for every length around the run and merge sizes', () => {
    for (const n of [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 1000, 4097, 50_000]) {
      for (const range of [3, n + 1]) {
        const keys = Array.from({ length: n }, () => rnd(range));
        const cmp = (x: number, y: number): number => keys[x]! - keys[y]!;
        const idx = new Uint32Array(n).map((_, i) => i);
        const want = Array.from({ length: n }, (_, i) => i).sort(cmp);
        expect(Array.from(sortIndexes(idx, cmp)), `n=${n} range=${range}`).toEqual(want);
      }
    }
  });

  it('takes sorted and reversed input', () => {
    const n = 10_000;
    const asc = (x: number, y: number): number => x - y;
    expect(Array.from(sortIndexes(new Uint32Array(n).map((_, i) => i), asc))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(Array.from(sortIndexes(new Uint32Array(n).map((_, i) => n - 1 - i), asc))).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
