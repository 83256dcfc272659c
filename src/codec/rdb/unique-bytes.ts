/**
 * Finds a repeated member or field within one value (a listpack, a ziplist, a hashtable encoding)
 * without making a string per element: each element's bytes are copied into an arena while they
 * are hashed (FNV-1a), the hash goes into an open-addressing table, and bytes are compared only
 * when two hashes are equal. Hand-written because a Set of latin1 strings cost an allocation and
 * a second hashing pass per element, and the garbage collections that follow. Integers count as
 * their decimal text, as Redis compares them (`123` stored as an integer equals "123").
 */

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/** Above these sizes a reset gives the memory back (one huge value must not pin it). */
const KEEP_ARENA = 1 << 24;
const KEEP_SLOTS = 1 << 20;
/**
 * reset() sizes the table for at most this many announced elements up front: a value's length is
 * read before its elements, and growing by doubling re-inserts every element at each step (a third
 * of checking a 1M-member set). The cap bounds what a corrupt length can make us allocate (~60 MB, what 1M real members take anyway).
 */
const PRESIZE_MAX = 1 << 20;

export class UniqueBytes {
  private arena = Buffer.allocUnsafe(1 << 12);
  private used = 0;
  /** Element i is arena[start[i], start[i] + len[i]), hashed to ehash[i]. */
  private start = new Int32Array(256);
  private len = new Int32Array(256);
  private ehash = new Int32Array(256);
  private count = 0;
  /**
   * Slot s is table[3s, 3s + 3): generation stamp, hash, element; it holds the element when the
   * stamp is the current generation. One array, so that a probe of a big table misses the cache
   * once rather than once per field.
   */
  private table = new Int32Array(3 * 512);
  private size = 512;
  private gen = 1;
  /** The decimal text of an integer element (at most 20 characters). */
  private readonly digits = Buffer.allocUnsafe(20);

  /** Starts a new value (forgets every element); `expected`: the value's announced element count. */
  reset(expected = 0): this {
    const n = Math.min(expected, PRESIZE_MAX);
    if (this.arena.length > KEEP_ARENA) this.arena = Buffer.allocUnsafe(1 << 12);
    if (this.size > Math.max(KEEP_SLOTS, 4 * n)) {
      this.slots(512);
      this.start = new Int32Array(256);
      this.len = new Int32Array(256);
      this.ehash = new Int32Array(256);
    }
    this.used = 0;
    this.count = 0;
    // A new generation empties the table without clearing it.
    if (++this.gen === 0x7fffffff) {
      this.table.fill(0);
      this.gen = 1;
    }
    if (n > this.start.length) {
      this.start = new Int32Array(n);
      this.len = new Int32Array(n);
      this.ehash = new Int32Array(n);
    }
    // At most half full (see insert): more than 2n slots.
    if (2 * n >= this.size) this.slots(1 << (32 - Math.clz32(2 * n)));
    return this;
  }

  /** Adds b[from, to); false when an equal element was added since the reset. */
  add(b: Uint8Array, from: number, to: number): boolean {
    const n = to - from;
    this.reserve(n);
    const a = this.arena;
    let p = this.used;
    let h = FNV_OFFSET;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      a[p++] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    return this.insert(h, n);
  }

  /** Adds an integer element as its decimal text. */
  addInt(v: number | bigint): boolean {
    return this.add(this.digits, 0, this.digits.write(String(v), 0, 'latin1'));
  }

  /** The element just copied to arena[used, used + n) with hash h: recorded unless it is a repeat. */
  private insert(h: number, n: number): boolean {
    const at = this.used;
    const a = this.arena;
    const t = this.table;
    const gen = this.gen;
    const mask = this.size - 1;
    let s = h & mask;
    while (t[3 * s] === gen) {
      if (t[3 * s + 1] === h) {
        const e = t[3 * s + 2]!;
        if (this.len[e] === n) {
          const o = this.start[e]!;
          let i = 0;
          while (i < n && a[o + i] === a[at + i]) i++;
          if (i === n) return false;
        }
      }
      s = (s + 1) & mask;
    }
    const e = this.count++;
    if (e === this.start.length) {
      this.start = grow(this.start);
      this.len = grow(this.len);
      this.ehash = grow(this.ehash);
    }
    this.start[e] = at;
    this.len[e] = n;
    this.ehash[e] = h;
    t[3 * s] = gen;
    t[3 * s + 1] = h;
    t[3 * s + 2] = e;
    this.used = at + n;
    // At most half full, so probes stay short.
    if (this.count * 2 > mask) this.rehash(this.size * 2);
    return true;
  }

  private reserve(n: number): void {
    if (this.used + n <= this.arena.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.used + n));
    this.arena.copy(next, 0, 0, this.used);
    this.arena = next;
  }

  private slots(size: number): void {
    this.table = new Int32Array(3 * size);
    this.size = size;
    this.gen = 1;
  }

  /** A table of `size` slots holding the current elements. */
  private rehash(size: number): void {
    this.slots(size);
    const t = this.table;
    const mask = size - 1;
    for (let e = 0; e < this.count; e++) {
      const h = this.ehash[e]!;
      let s = h & mask;
      while (t[3 * s] === 1) s = (s + 1) & mask;
      t[3 * s] = 1;
      t[3 * s + 1] = h;
      t[3 * s + 2] = e;
    }
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
