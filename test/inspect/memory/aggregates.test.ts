import { describe, expect, it } from 'vitest';
import { DictSim } from '../../../src/inspect/memory/dict-sim.js';
import { jemallocSize } from '../../../src/inspect/memory/jemalloc.js';
import { PrefixTree } from '../../../src/inspect/memory/prefix-tree.js';
import { RaxNodes } from '../../../src/inspect/memory/rax-nodes.js';
import { TopHeap } from '../../../src/inspect/memory/top-heap.js';
import { rng } from '../../engine/workload.js';

describe('memory report building blocks', () => {
  it('jemalloc size classes: 8, steps of 16 to 128, then four per doubling, large classes too', () => {
    const got = [1, 8, 9, 17, 33, 49, 128, 129, 161, 257, 513, 4097, 14337, 16385, 20481, 1 << 20, (1 << 20) + 1].map(jemallocSize);
    expect(got).toEqual([8, 8, 16, 32, 48, 64, 128, 160, 192, 320, 640, 5120, 16384, 20480, 24576, 1 << 20, 1310720]);
  });

  it('TopHeap keeps exactly the n largest of a shuffled stream', () => {
    const r = rng(7);
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    const heap = new TopHeap<number>(25, (x) => x);
    for (const v of values) heap.offer(v);
    expect(heap.sorted()).toEqual(Array.from({ length: 25 }, (_, i) => 9999 - i));
  });

  it('PrefixTree: subtree totals, separator runs, and folding that keeps the totals in the parents', () => {
    const t = new PrefixTree(':|', 3, 1000);
    t.add(Buffer.from('user:1:name'), 10);
    t.add(Buffer.from('user:1:mail'), 20);
    t.add(Buffer.from('user::2'), 5);
    t.add(Buffer.from('plain'), 7);
    // "user::2": a run of separators ends one prefix ("user::"), not an empty level.
    expect(t.rows(50)).toEqual([
      { prefix: 'user:', depth: 1, keys: 2, bytes: 30 },
      { prefix: 'user:1:', depth: 2, keys: 2, bytes: 30 },
      { prefix: 'user::', depth: 1, keys: 1, bytes: 5 },
    ]);
    expect(t.root.keys).toBe(4);
    const capped = new PrefixTree(':', 2, 100);
    for (let i = 0; i < 5000; i++) capped.add(Buffer.from(`s:${i}:x`), i === 4321 ? 1_000_000 : 1);
    expect(capped.size).toBeLessThanOrEqual(101);
    const s = capped.rows(5)[0]!;
    expect(s).toMatchObject({ prefix: 's:', keys: 5000, bytes: 4999 + 1_000_000 });
    expect(s.folded!.branches).toBeGreaterThan(4000);
    expect(capped.folded.keys).toBe(s.folded!.keys);
    // The one big branch arrived late but outweighs the rest: it is kept, first under its parent.
    expect(capped.rows(5)[1]).toMatchObject({ prefix: 's:4321:', bytes: 1_000_000 });
  });

  it('RaxNodes: node counts of sorted 16-byte keys as rax.c builds them', () => {
    const key = (ms: number, seq: number) => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64BE(BigInt(ms), 0);
      b.writeBigUInt64BE(BigInt(seq), 8);
      return b;
    };
    const one = new RaxNodes();
    one.insert(key(1000, 0));
    expect(one.nodes).toBe(2); // a compressed root of 16 bytes and the key's leaf
    const two = new RaxNodes();
    two.insert(key(1000, 0));
    two.insert(key(1000, 1));
    // Split at the last byte: trimmed root (15 bytes), split node, no postfix, one new leaf.
    expect(two.nodes).toBe(4);
    two.insert(key(1000, 2));
    expect(two.nodes).toBe(5); // a third child of the split node
  });

  it('DictSim: presized tables, growth by doubling, both tables while a rehash lasts', () => {
    const a = new DictSim();
    a.expand(1000);
    a.addMany(1000);
    expect(a.slots).toBe(1024);
    const b = new DictSim();
    b.addMany(4);
    expect(b.slots).toBe(4);
    b.add();
    expect(b.slots).toBe(4 + 8);
    b.addMany(10);
    expect(b.slots).toBe(16);
  });
});
