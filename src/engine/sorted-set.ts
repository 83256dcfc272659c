import { bkey } from './values.js';

export interface ZNode {
  member: Buffer;
  score: number;
}

/** (score, member) order, members compared as bytes: Redis's skiplist order. */
export function zcmp(a: ZNode, b: ZNode): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return Buffer.compare(a.member, b.member);
}

/**
 * A sorted set: a member index plus an array kept in skiplist order (binary-search insert and
 * remove). Simple and exact; ranks are array indexes.
 */
export class SortedSet {
  private readonly index = new Map<string, ZNode>();
  private readonly order: ZNode[] = [];

  get size(): number {
    return this.order.length;
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
      this.order.splice(this.position(old), 1);
      old.score = score;
      this.order.splice(this.position(old), 0, old);
      return;
    }
    const node = { member, score };
    this.index.set(k, node);
    this.order.splice(this.position(node), 0, node);
  }

  delete(member: Buffer): boolean {
    const k = bkey(member);
    const node = this.index.get(k);
    if (!node) return false;
    this.index.delete(k);
    this.order.splice(this.position(node), 1);
    return true;
  }

  /** Nodes in order (a live view: copy before mutating the set while iterating). */
  nodes(): readonly ZNode[] {
    return this.order;
  }

  /** First index whose node is >= the probe in (score, member) order. */
  private position(probe: ZNode): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (zcmp(this.order[mid]!, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Removes the nodes at ranks [start, end] (inclusive, already clamped). */
  deleteRange(start: number, end: number): ZNode[] {
    const gone = this.order.splice(start, end - start + 1);
    for (const n of gone) this.index.delete(bkey(n.member));
    return gone;
  }

  static from(nodes: Iterable<ZNode>): SortedSet {
    const z = new SortedSet();
    for (const n of nodes) z.set(n.member, n.score);
    return z;
  }
}
