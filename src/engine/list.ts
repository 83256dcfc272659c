/**
 * A list with O(1) amortized pushes and pops at both ends (Redis's quicklist gives the same), so
 * queue-like AOFs (RPUSH + LPOP, LPUSH-built lists) replay in linear time. Items live in
 * `items[head..tail)`; middle edits (LINSERT, LREM, LTRIM) rebuild, as they are O(n) in Redis too.
 */
export class List {
  private items: Array<Buffer | undefined>;
  private head: number;
  private tail: number;

  private constructor(items: Buffer[], slack: number) {
    this.items = new Array<Buffer | undefined>(slack).concat(items);
    this.head = slack;
    this.tail = slack + items.length;
  }

  static from(items: Buffer[]): List {
    return new List(items, 0);
  }

  get length(): number {
    return this.tail - this.head;
  }

  at(i: number): Buffer {
    return this.items[this.head + i]!;
  }

  set(i: number, v: Buffer): void {
    this.items[this.head + i] = v;
  }

  pushBack(v: Buffer): void {
    this.items[this.tail++] = v;
  }

  /** Pushes one item to the front. */
  pushFront(v: Buffer): void {
    if (this.head === 0) {
      const live = this.items.slice(0, this.tail);
      const slack = Math.max(16, live.length);
      this.items = new Array<Buffer | undefined>(slack).concat(live);
      this.head = slack;
      this.tail = slack + live.length;
    }
    this.items[--this.head] = v;
  }

  /** Removes and returns up to n items from the front, in pop order. */
  popFront(n: number): Buffer[] {
    const k = Math.min(n, this.length);
    const out = this.items.slice(this.head, this.head + k) as Buffer[];
    for (let i = 0; i < k; i++) this.items[this.head + i] = undefined;
    this.head += k;
    this.compactIfSparse();
    return out;
  }

  /** Removes and returns up to n items from the back, in pop order (last first). */
  popBack(n: number): Buffer[] {
    const k = Math.min(n, this.length);
    const out = (this.items.slice(this.tail - k, this.tail) as Buffer[]).reverse();
    this.items.length = this.tail - k;
    this.tail -= k;
    this.compactIfSparse();
    return out;
  }

  toArray(): Buffer[] {
    return this.items.slice(this.head, this.tail) as Buffer[];
  }

  /** Replaces the content (middle edits). */
  replace(items: Buffer[]): void {
    this.items = items.slice();
    this.head = 0;
    this.tail = items.length;
  }

  /** Drops the dead front slots once they outweigh the live items. */
  private compactIfSparse(): void {
    if (this.head > 1024 && this.head > this.length) this.replace(this.toArray());
    else if (this.length === 0) this.replace([]);
  }
}
