/** Elements per chunk, and bytes, before the chunk at an end is packed and a new one started. */
const CHUNK_ITEMS = 128;
const CHUNK_BYTES = 8192;

/**
 * A run of list elements. The chunks being pushed to are `open`: an array of latin1 strings (one
 * per element, cheap to edit). A full chunk is packed into one Buffer plus an offsets table, a few
 * bytes per element instead of a JS string each (Redis's quicklist packs listpack nodes the same
 * way). Pops from either end of a packed chunk only move its bounds.
 */
class Chunk {
  private open: string[] | null;
  private data: Buffer | null = null;
  private offs: Uint16Array | Uint32Array | null = null;
  private lo = 0;
  private hi = 0;
  /** Bytes of the open elements (for the CHUNK_BYTES limit). */
  bytes = 0;

  constructor(items: string[] = []) {
    this.open = items;
    for (const s of items) this.bytes += s.length;
  }

  get length(): number {
    return this.open ? this.open.length : this.hi - this.lo;
  }

  /** True when pushes may go into this chunk. */
  get roomy(): boolean {
    return this.open !== null && this.open.length < CHUNK_ITEMS && this.bytes < CHUNK_BYTES;
  }

  at(i: number): Buffer {
    if (this.open) return Buffer.from(this.open[i]!, 'latin1');
    const offs = this.offs!;
    return this.data!.subarray(offs[this.lo + i]!, offs[this.lo + i + 1]!);
  }

  /** The open form, unpacking first when needed (for edits). */
  strings(): string[] {
    if (this.open) return this.open;
    const out: string[] = new Array<string>(this.length);
    const offs = this.offs!;
    for (let i = 0; i < out.length; i++) out[i] = this.data!.toString('latin1', offs[this.lo + i]!, offs[this.lo + i + 1]!);
    this.open = out;
    this.bytes = offs[this.hi]! - offs[this.lo]!;
    this.data = this.offs = null;
    return out;
  }

  pushBack(s: string): void {
    this.open!.push(s);
    this.bytes += s.length;
  }

  pushFront(s: string): void {
    this.open!.unshift(s);
    this.bytes += s.length;
  }

  popFront(): Buffer {
    if (!this.open) {
      const v = this.at(0);
      this.lo++;
      return v;
    }
    const s = this.open.shift()!;
    this.bytes -= s.length;
    return Buffer.from(s, 'latin1');
  }

  popBack(): Buffer {
    if (!this.open) {
      const v = this.at(this.hi - this.lo - 1);
      this.hi--;
      return v;
    }
    const s = this.open.pop()!;
    this.bytes -= s.length;
    return Buffer.from(s, 'latin1');
  }

  /** Packs the open form into one Buffer and an offsets table. */
  pack(): void {
    const items = this.open;
    if (!items) return;
    let total = 0;
    for (const s of items) total += s.length;
    const data = Buffer.allocUnsafe(total);
    const offs = total < 0x10000 ? new Uint16Array(items.length + 1) : new Uint32Array(items.length + 1);
    let at = 0;
    for (let i = 0; i < items.length; i++) {
      offs[i] = at;
      at += data.write(items[i]!, at, 'latin1');
    }
    offs[items.length] = at;
    this.data = data;
    this.offs = offs;
    this.lo = 0;
    this.hi = items.length;
    this.open = null;
    this.bytes = 0;
  }
}

/**
 * A list with O(1) amortized pushes and pops at both ends (Redis's quicklist gives the same), so
 * queue-like AOFs (RPUSH + LPOP, LPUSH-built lists, LTRIM-capped lists) replay in linear time,
 * held as a deque of chunks (see Chunk) so a list of millions of small elements costs a few bytes
 * per element. Middle edits (LINSERT, LREM) rebuild, as they are O(n) in Redis too.
 */
export class List {
  /** Chunks live in chunks[head..]; the dead front slots are dropped once they outweigh the rest. */
  private chunks: Chunk[] = [];
  private head = 0;
  private count = 0;

  static from(items: Iterable<Buffer>): List {
    const l = new List();
    for (const b of items) l.pushBack(b);
    return l;
  }

  get length(): number {
    return this.count;
  }

  /** The chunk holding index i and the index within it (walks from the nearer end). */
  private locate(i: number): [Chunk, number] {
    const cs = this.chunks;
    if (i < this.count / 2) {
      for (let c = this.head; ; c++) {
        const n = cs[c]!.length;
        if (i < n) return [cs[c]!, i];
        i -= n;
      }
    }
    let back = this.count - 1 - i;
    for (let c = cs.length - 1; ; c--) {
      const n = cs[c]!.length;
      if (back < n) return [cs[c]!, n - 1 - back];
      back -= n;
    }
  }

  at(i: number): Buffer {
    const [c, j] = this.locate(i);
    return c.at(j);
  }

  set(i: number, v: Buffer): void {
    const [c, j] = this.locate(i);
    const items = c.strings();
    c.bytes += v.length - items[j]!.length;
    items[j] = v.toString('latin1');
  }

  pushBack(v: Buffer): void {
    let c = this.chunks.length > this.head ? this.chunks[this.chunks.length - 1]! : null;
    if (!c || !c.roomy) {
      c?.pack();
      c = new Chunk();
      this.chunks.push(c);
    }
    c.pushBack(v.toString('latin1'));
    this.count++;
  }

  pushFront(v: Buffer): void {
    let c = this.chunks.length > this.head ? this.chunks[this.head]! : null;
    if (!c || !c.roomy) {
      c?.pack();
      c = new Chunk();
      if (this.head === 0) this.regrowFront();
      this.chunks[--this.head] = c;
    }
    c.pushFront(v.toString('latin1'));
    this.count++;
  }

  /** Moves the chunks right to make free front slots (as many as there are chunks, at least 16). */
  private regrowFront(): void {
    const live = this.chunks.slice(this.head);
    const slack = Math.max(16, live.length);
    const next = new Array<Chunk>(slack + live.length);
    for (let i = 0; i < live.length; i++) next[slack + i] = live[i]!;
    this.chunks = next;
    this.head = slack;
  }

  /** Removes and returns up to n items from the front, in pop order. */
  popFront(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (out.length < n && this.count > 0) {
      const c = this.chunks[this.head]!;
      out.push(c.popFront());
      this.count--;
      if (c.length === 0) this.dropFrontChunk();
    }
    return out;
  }

  /** Removes and returns up to n items from the back, in pop order (last first). */
  popBack(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (out.length < n && this.count > 0) {
      const c = this.chunks[this.chunks.length - 1]!;
      out.push(c.popBack());
      this.count--;
      if (c.length === 0) this.chunks.pop();
    }
    if (this.count === 0) this.clear();
    return out;
  }

  /** Removes n items from the front without returning them (LTRIM). */
  dropFront(n: number): void {
    while (n > 0 && this.count > 0) {
      const c = this.chunks[this.head]!;
      if (c.length <= n) {
        n -= c.length;
        this.count -= c.length;
        this.dropFrontChunk();
      } else {
        this.popFront(n);
        n = 0;
      }
    }
  }

  /** Removes n items from the back without returning them (LTRIM). */
  dropBack(n: number): void {
    while (n > 0 && this.count > 0) {
      const c = this.chunks[this.chunks.length - 1]!;
      if (c.length <= n) {
        n -= c.length;
        this.count -= c.length;
        this.chunks.pop();
      } else {
        this.popBack(n);
        n = 0;
      }
    }
    if (this.count === 0) this.clear();
  }

  private dropFrontChunk(): void {
    this.chunks[this.head++] = undefined as unknown as Chunk;
    if (this.count === 0) this.clear();
    else if (this.head > 1024 && this.head > this.chunks.length - this.head) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private clear(): void {
    this.chunks = [];
    this.head = 0;
    this.count = 0;
  }

  /** The elements in order, one Buffer at a time (views of packed chunks, valid until the next edit). */
  *[Symbol.iterator](): Generator<Buffer> {
    for (let c = this.head; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      for (let i = 0; i < chunk.length; i++) yield chunk.at(i);
    }
  }

  /** A copy of the elements (middle edits; small lists). */
  toArray(): Buffer[] {
    return Array.from(this);
  }

  /** Replaces the content (middle edits). */
  replace(items: Iterable<Buffer>): void {
    this.clear();
    for (const b of items) this.pushBack(b);
  }
}
