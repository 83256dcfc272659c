/**
 * The `n` largest items seen, by `score`, in a binary min-heap: the smallest kept item is at the
 * root and leaves when a larger one arrives. O(log n) per offer, n items of memory whatever the
 * number offered.
 */
export class TopHeap<T> {
  private readonly items: T[] = [];
  private readonly scores: number[] = [];

  constructor(
    private readonly n: number,
    private readonly score: (item: T) => number,
  ) {}

  /** Would an item of this score be kept? (Lets a caller skip building the item.) */
  accepts(s: number): boolean {
    return this.n > 0 && (this.items.length < this.n || s > this.scores[0]!);
  }

  offer(item: T): void {
    const s = this.score(item);
    if (!this.accepts(s)) return;
    if (this.items.length < this.n) {
      this.items.push(item);
      this.scores.push(s);
      this.up(this.items.length - 1);
    } else {
      this.items[0] = item;
      this.scores[0] = s;
      this.down(0);
    }
  }

  /** The kept items, largest first. */
  sorted(): T[] {
    return this.items
      .map((item, i) => ({ item, s: this.scores[i]! }))
      .sort((a, b) => b.s - a.s)
      .map((x) => x.item);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.scores[p]! <= this.scores[i]!) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const len = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < len && this.scores[l]! < this.scores[m]!) m = l;
      if (r < len && this.scores[r]! < this.scores[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
    [this.scores[a], this.scores[b]] = [this.scores[b]!, this.scores[a]!];
  }
}
