import { describe, expect, it } from 'vitest';
import { UniqueBytes } from '../../../src/codec/rdb/unique-bytes.js';

// UniqueBytes must say exactly what a Set of the elements' texts says (the reader's duplicate
// checks rely on it to reject what Redis rejects).
let seed = 11;
const rnd = (n: number): number => (((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n);
const fnv1a = (s: string): number => {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
};

describe('UniqueBytes', () => {
  it('agrees with a Set of the texts, over values of every size and many resets', () => {
    const u = new UniqueBytes();
    let repeats = 0;
    for (let value = 0; value < 300; value++) {
      const n = value === 150 ? 40000 : rnd(value % 10 === 0 ? 3000 : 40);
      // The announced count sizes the table up front: exact, too small (it grows) or too large.
      u.reset(value % 3 === 0 ? 0 : value % 3 === 1 ? n : rnd(2 * n + 1));
      const ref = new Set<string>();
      for (let i = 0; i < n; i++) {
        // Small alphabets and lengths, so repeats happen; integers stand for their decimal text.
        const asInt = rnd(4) === 0;
        const v = rnd(value === 150 ? 100000 : 500) - 50;
        const text = asInt ? String(v) : rnd(8) === 0 ? '' : `${'ab'[rnd(2)]}${v}`.repeat(1 + rnd(3));
        const b = Buffer.from(`##${text}#`, 'latin1');
        const fresh = asInt ? u.addInt(rnd(2) ? v : BigInt(v)) : u.add(b, 2, 2 + text.length);
        expect(fresh, `value ${value} element ${i}: ${text}`).toBe(!ref.has(text));
        if (!fresh) repeats++;
        ref.add(text);
      }
    }
    expect(repeats).toBeGreaterThan(1000);
  });

  it('tells apart different bytes with the same hash', () => {
    const [a, b] = ['member:836889', 'member:1073210'];
    expect(fnv1a(a)).toBe(fnv1a(b)); // the premise: these two collide
    const u = new UniqueBytes().reset();
    expect(u.add(Buffer.from(a), 0, a.length)).toBe(true);
    expect(u.add(Buffer.from(b), 0, b.length)).toBe(true);
    expect(u.add(Buffer.from(b), 0, b.length)).toBe(false);
    expect(u.add(Buffer.from(a), 0, a.length)).toBe(false);
  });

  it('treats an integer and its decimal text as the same element, as Redis does', () => {
    const u = new UniqueBytes().reset();
    expect(u.addInt(-42)).toBe(true);
    expect(u.add(Buffer.from('-42'), 0, 3)).toBe(false);
    expect(u.add(Buffer.from('9007199254740993'), 0, 16)).toBe(true);
    expect(u.addInt(9007199254740993n)).toBe(false);
  });

  it('forgets everything at a reset, also after a value large enough to be given back', () => {
    const u = new UniqueBytes().reset();
    const big = Buffer.alloc(20 << 20, 0x61);
    expect(u.add(big, 0, big.length)).toBe(true);
    expect(u.add(big, 0, big.length)).toBe(false);
    u.reset();
    expect(u.add(big, 0, 10)).toBe(true);
    expect(u.add(big, 0, big.length)).toBe(true);
  });
});
