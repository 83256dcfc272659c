/**
 * Counts the nodes of a Redis rax (radix tree) built by inserting fixed-length keys in ascending
 * order, as Redis does when it loads a stream (node keys, PEL IDs: both stored sorted). MEMORY
 * USAGE charges every rax node a fixed 244 bytes (streamRadixTreeMemoryUsage), so the count is what
 * matters, and it follows from rax.c's insertion rules: a key that shares `l` bytes with the
 * previous one either splits the compressed node holding byte `l` (a split node, a trimmed prefix
 * unless the split is at the node's first byte, a postfix node unless the split is at its last),
 * or adds a child to the branch node at depth `l`; the rest of the key becomes one compressed node
 * and a leaf. Only the rightmost path can change under sorted insertion, so it alone is kept:
 * memory is bounded by the key length, whatever the number of keys.
 */
export class RaxNodes {
  /** Nodes in the tree (an empty rax has its root). */
  nodes = 1;
  keys = 0;
  private readonly prev: Uint8Array;
  /** The rightmost path, root first: bytes each node consumes (compressed: its length; branch: 1; leaf: 0). */
  private path: number[] = [0];
  private compr: boolean[] = [false];

  constructor(private readonly keyLen = 16) {
    this.prev = new Uint8Array(keyLen);
  }

  /** Inserts `key` (keyLen bytes, greater than the previous key). */
  insert(key: Uint8Array): void {
    const len = this.keyLen;
    if (this.keys === 0) {
      // The empty root becomes a compressed node of the whole key, with a leaf below.
      this.path = [len, 0];
      this.compr = [true, false];
      this.nodes += 1;
    } else {
      let l = 0;
      while (l < len && key[l] === this.prev[l]) l++;
      if (l === len) return; // duplicate: Redis refuses it, nothing changes
      if (key[l]! < this.prev[l]!) {
        // Out of order (never written by Redis): counted as a new branch and leaf, the path kept.
        this.nodes += 2;
        this.keys++;
        return;
      }
      let depth = 0;
      for (let i = 0; i < this.path.length; i++) {
        const size = this.path[i]!;
        if (this.compr[i] && l < depth + size) {
          const j = l - depth;
          const post = size - j - 1;
          const head = this.path.slice(0, i);
          const headC = this.compr.slice(0, i);
          if (j > 0) {
            head.push(j);
            headC.push(j > 1);
            this.nodes += 1; // trimmed prefix kept, split node new
          }
          if (post > 0) this.nodes += 1; // postfix node (left behind)
          head.push(1);
          headC.push(false); // the split node, now a branch
          this.path = head;
          this.compr = headC;
          this.tail(len - l - 1);
          break;
        }
        if (!this.compr[i] && size > 0 && l === depth) {
          this.path.length = i + 1;
          this.compr.length = i + 1;
          this.tail(len - l - 1);
          break;
        }
        depth += size;
      }
    }
    this.prev.set(key.subarray(0, len));
    this.keys++;
  }

  /** A new child of the branch at the end of the path, holding the key's `rest` remaining bytes. */
  private tail(rest: number): void {
    this.nodes += 1;
    if (rest > 0) {
      this.nodes += 1;
      this.path.push(rest, 0);
      this.compr.push(rest > 1, false);
    } else {
      this.path.push(0);
      this.compr.push(false);
    }
  }
}
