/**
 * Key prefixes ("user:", "user:1234:") with the keys and bytes under each, in a tree capped at
 * `maxNodes` nodes. A key counts in every prefix it has up to `depth` levels (a prefix ends at a
 * separator byte). When the tree outgrows its cap, the smallest leaf branches (by bytes) are folded
 * into their parent, which keeps their totals (every node counts its whole subtree) and records
 * how many branches, keys and bytes it folded: memory stays bounded whatever the number of
 * distinct prefixes, and what is shown is exact for the prefixes kept until they were folded.
 */
export interface PrefixNode {
  /** This level's part of the prefix, as latin1 (one char per byte: binary-safe); the whole prefix is the path's. */
  seg: string;
  keys: number;
  bytes: number;
  children: Map<string, PrefixNode> | null;
  parent: PrefixNode | null;
  folded: { branches: number; keys: number; bytes: number } | null;
  /** The child the last key went to: consecutive keys mostly share their prefixes, found without a string. */
  last: PrefixNode | null;
}

export interface PrefixRow {
  prefix: string;
  depth: number;
  keys: number;
  bytes: number;
  folded?: { branches: number; keys: number; bytes: number };
  /** A summary row: this many more (smaller) prefixes under `prefix`, their keys and bytes together. */
  others?: number;
}

export class PrefixTree {
  readonly root: PrefixNode = { seg: '', keys: 0, bytes: 0, children: null, parent: null, folded: null, last: null };
  private nodes = 0;
  /** Everything folded so far. */
  readonly folded = { branches: 0, keys: 0, bytes: 0 };
  private readonly isSep = new Uint8Array(256);

  constructor(
    separators: string,
    private readonly depth: number,
    private readonly maxNodes: number,
  ) {
    for (const c of Buffer.from(separators, 'latin1')) this.isSep[c] = 1;
  }

  /** Counts a key of `bytes` bytes whose name is key[0, length). */
  add(key: Buffer, bytes: number, length = key.length): void {
    let node = this.root;
    node.keys++;
    node.bytes += bytes;
    let level = 0;
    let from = 0;
    for (let i = 0; i < length && level < this.depth; i++) {
      if (this.isSep[key[i]!] === 0) continue;
      // A run of separators ("a::b") belongs to one prefix.
      while (i + 1 < length && this.isSep[key[i + 1]!] === 1) i++;
      let child: PrefixNode | undefined = node.last ?? undefined;
      if (child === undefined || !sameSeg(key, from, i + 1, child.seg)) {
        const seg = key.toString('latin1', from, i + 1);
        node.children ??= new Map();
        child = node.children.get(seg);
        if (child === undefined) {
          child = { seg, keys: 0, bytes: 0, children: null, parent: node, folded: null, last: null };
          node.children.set(seg, child);
          this.nodes++;
        }
        node.last = child;
      }
      from = i + 1;
      level++;
      child.keys++;
      child.bytes += bytes;
      node = child;
    }
    if (this.nodes > this.maxNodes) this.fold();
  }

  /** Folds the smaller half of the leaves into their parents. */
  private fold(): void {
    const leaves: PrefixNode[] = [];
    const walk = (n: PrefixNode): void => {
      if (n.children === null || n.children.size === 0) {
        if (n !== this.root) leaves.push(n);
        return;
      }
      for (const c of n.children.values()) walk(c);
    };
    walk(this.root);
    // The median leaf size, from an even sample (a sort of every leaf on every fold costs more than the rest).
    const step = Math.max(1, Math.floor(leaves.length / 2048));
    const sample = new Float64Array(Math.ceil(leaves.length / step));
    for (let i = 0, j = 0; i < leaves.length; i += step) sample[j++] = leaves[i]!.bytes;
    sample.sort();
    const cut = sample[sample.length >> 1]!;
    let budget = Math.ceil(leaves.length / 2);
    for (const leaf of leaves) {
      if (budget === 0) break;
      if (leaf.bytes > cut) continue;
      budget--;
      const p = leaf.parent!;
      p.children!.delete(leaf.seg);
      if (p.last === leaf) p.last = null;
      p.folded ??= { branches: 0, keys: 0, bytes: 0 };
      p.folded.branches++;
      p.folded.keys += leaf.keys;
      p.folded.bytes += leaf.bytes;
      this.folded.branches++;
      this.folded.keys += leaf.keys;
      this.folded.bytes += leaf.bytes;
      this.nodes--;
    }
  }

  /**
   * The largest prefixes, depth-first with each level sorted by bytes: at most `perNode` children
   * of a prefix (the rest summed in one row with `others`), at most `limit` rows.
   */
  rows(limit: number, perNode = 10): PrefixRow[] {
    const out: PrefixRow[] = [];
    const visit = (n: PrefixNode, prefix: string, depth: number): void => {
      if (!n.children) return;
      const kids = [...n.children.values()].sort((a, b) => b.bytes - a.bytes);
      for (const c of kids.slice(0, perNode)) {
        if (out.length >= limit) return;
        out.push({ prefix: prefix + c.seg, depth, keys: c.keys, bytes: c.bytes, ...(c.folded ? { folded: { ...c.folded } } : {}) });
        visit(c, prefix + c.seg, depth + 1);
      }
      const rest = kids.slice(perNode);
      if (rest.length > 0 && out.length < limit) {
        out.push({ prefix, depth, keys: rest.reduce((x, c) => x + c.keys, 0), bytes: rest.reduce((x, c) => x + c.bytes, 0), others: rest.length });
      }
    };
    visit(this.root, '', 1);
    return out;
  }

  /** The tree down to `limit` nodes (largest first at each level), for the treemap. */
  tree(limit: number): PrefixTreeJson {
    let left = limit;
    const conv = (n: PrefixNode, prefix: string): PrefixTreeJson => {
      const kids = n.children ? [...n.children.values()].sort((a, b) => b.bytes - a.bytes) : [];
      const children: PrefixTreeJson[] = [];
      for (const c of kids) {
        if (left <= 0) break;
        left--;
        children.push(conv(c, prefix + c.seg));
      }
      return { prefix, keys: n.keys, bytes: n.bytes, children };
    };
    return conv(this.root, '');
  }

  get size(): number {
    return this.nodes;
  }
}

export interface PrefixTreeJson {
  prefix: string;
  keys: number;
  bytes: number;
  children: PrefixTreeJson[];
}

/** key[from, to) spells `seg` (latin1: one char per byte). */
function sameSeg(key: Buffer, from: number, to: number, seg: string): boolean {
  if (to - from !== seg.length) return false;
  for (let i = 0; i < seg.length; i++) if (key[from + i] !== seg.charCodeAt(i)) return false;
  return true;
}
