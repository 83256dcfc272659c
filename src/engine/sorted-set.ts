import { bkey, kbuf } from './values.js';

/** A member and its score as commands read them. */
export interface ZNode {
  readonly member: Buffer;
  readonly score: number;
}

/**
 * A member as the set holds it: its bytes as a latin1 string (no Buffer per member; comparing
 * such strings orders them as memcmp orders the bytes) and its score.
 */
class Node implements ZNode {
  constructor(
    readonly m: string,
    public score: number,
  ) {}

  get member(): Buffer {
    return kbuf(this.m);
  }
}

/** (score, member) order, members compared as bytes: Redis's skiplist order. */
function zcmp(a: Node, b: Node): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return a.m < b.m ? -1 : a.m > b.m ? 1 : 0;
}

/** Nodes per chunk before it is split: inserts move at most this many pointers. */
const CHUNK = 512;

/**
 * A sorted set: a member index plus the nodes in skiplist order, kept as a list of sorted chunks
 * (insert and remove cost a binary search and a splice within one chunk, so a sorted set of
 * millions of members builds in O(n log n), as Redis's skiplist does). Rank operations walk the
 * chunk sizes.
 */
export class SortedSet {
  private readonly index = new Map<string, Node>();
  private chunks: Node[][] = [];
  /** The flattened order, rebuilt lazily after a change. */
  private flat: Node[] | null = [];

  get size(): number {
    return this.index.size;
  }

  /** The member count under the name writers expect of a collection (ScoredItems). */
  get length(): number {
    return this.index.size;
  }

  /** [member, score] in ascending order, chunk by chunk (no flattened copy). */
  *[Symbol.iterator](): Generator<[Buffer, number]> {
    for (const c of this.chunks) for (const n of c) yield [kbuf(n.m), n.score];
  }

  /** [member, score] from the highest down (RDB ZSET_2 order). */
  *descending(): Generator<[Buffer, number]> {
    for (let ci = this.chunks.length - 1; ci >= 0; ci--) {
      const c = this.chunks[ci]!;
      for (let i = c.length - 1; i >= 0; i--) yield [kbuf(c[i]!.m), c[i]!.score];
    }
  }

  score(member: Buffer): number | undefined {
    return this.index.get(bkey(member))?.score;
  }

  /** Inserts or moves a member to a new score. */
  set(member: Buffer, score: number): void {
    const k = bkey(member);
    const old = this.index.get(k);
    if (old) {
      if (old.score === score) return;
      this.remove(old);
      old.score = score;
      this.insert(old);
      return;
    }
    const node = new Node(k, score);
    this.index.set(k, node);
    this.insert(node);
  }

  delete(member: Buffer): boolean {
    const k = bkey(member);
    const node = this.index.get(k);
    if (!node) return false;
    this.index.delete(k);
    this.remove(node);
    return true;
  }

  /** Nodes in order (do not mutate the set while holding this array). */
  nodes(): readonly ZNode[] {
    if (!this.flat) this.flat = this.chunks.flat();
    return this.flat;
  }

  /**
   * The rank of the first member whose score satisfies `after`, which must be false then true
   * along the order (a score bound): a binary search in one chunk after a walk of chunk ends.
   */
  rankWhere(after: (score: number) => boolean): number {
    let rank = 0;
    for (const c of this.chunks) {
      if (!after(c[c.length - 1]!.score)) {
        rank += c.length;
        continue;
      }
      let lo = 0;
      let hi = c.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (after(c[mid]!.score)) hi = mid;
        else lo = mid + 1;
      }
      return rank + lo;
    }
    return rank;
  }

  /** Removes the nodes at ranks [start, end] (inclusive, already clamped). */
  deleteRange(start: number, end: number): ZNode[] {
    const gone: Node[] = [];
    let skip = start;
    let count = end - start + 1;
    for (let ci = 0; ci < this.chunks.length && count > 0; ) {
      const c = this.chunks[ci]!;
      if (skip >= c.length) {
        skip -= c.length;
        ci++;
        continue;
      }
      const removed = c.splice(skip, Math.min(count, c.length - skip));
      for (const n of removed) gone.push(n);
      count -= removed.length;
      skip = 0;
      if (c.length === 0) this.chunks.splice(ci, 1);
      else ci++;
    }
    for (const n of gone) this.index.delete(n.m);
    this.flat = null;
    return gone;
  }

  /** Chunk and offset of the first node >= probe. */
  private locate(probe: Node): [number, number] {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (zcmp(c[c.length - 1]!, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === cs.length) return [cs.length - 1, cs.length ? cs[cs.length - 1]!.length : 0];
    const c = cs[lo]!;
    let a = 0;
    let b = c.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (zcmp(c[mid]!, probe) < 0) a = mid + 1;
      else b = mid;
    }
    return [lo, a];
  }

  private insert(node: Node): void {
    this.flat = null;
    if (this.chunks.length === 0) {
      this.chunks.push([node]);
      return;
    }
    const [ci, at] = this.locate(node);
    const c = this.chunks[ci]!;
    c.splice(at, 0, node);
    if (c.length > 2 * CHUNK) this.chunks.splice(ci, 1, c.slice(0, CHUNK), c.slice(CHUNK));
  }

  private remove(node: Node): void {
    this.flat = null;
    const [ci, at] = this.locate(node);
    const c = this.chunks[ci]!;
    c.splice(at, 1);
    if (c.length === 0) this.chunks.splice(ci, 1);
  }

  static from(nodes: Iterable<ZNode>): SortedSet {
    const z = new SortedSet();
    for (const n of nodes) z.set(n.member, n.score);
    return z;
  }
}
