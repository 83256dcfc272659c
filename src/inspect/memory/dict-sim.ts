/**
 * The bucket count (dictSlots) of a Redis dict after a sequence of dictExpand/dictAdd calls, as
 * rdbLoadObject makes them. Growth doubles when used reaches the size; an expand of a non-empty
 * table starts an incremental rehash during which both tables count, and each add moves one
 * non-empty bucket. Which buckets are empty depends on the server's random hash seed, so the
 * number of adds a rehash lasts is its expectation: size * (1 - e^(-used/size)) non-empty buckets.
 */
export class DictSim {
  private size0 = 0;
  private size1 = 0;
  private used = 0;
  /** Non-empty old buckets still to move while rehashing. */
  private left = 0;

  get slots(): number {
    return this.size0 + this.size1;
  }

  /** dictExpand(n): refused while rehashing, below the used count, or to the current size. */
  expand(n: number): void {
    if (this.size1 > 0 || this.used > n) return;
    const size = nextSize(n);
    if (this.size0 === 0) {
      this.size0 = size;
      return;
    }
    if (size === this.size0) return;
    this.size1 = size;
    this.left = Math.round(this.size0 * (1 - Math.exp(-this.used / this.size0)));
  }

  add(): void {
    if (this.size1 > 0) {
      this.left--;
      if (this.left <= 0) {
        this.size0 = this.size1;
        this.size1 = 0;
      }
    }
    if (this.size1 === 0) {
      if (this.size0 === 0) this.expand(4);
      else if (this.used >= this.size0) this.expand(this.used + 1);
    }
    this.used++;
  }

  /** Adds `n` entries (one by one while a rehash or a resize can happen, else at once). */
  addMany(n: number): void {
    while (n > 0) {
      if (this.size1 === 0 && this.size0 > 0 && this.used + n < this.size0) {
        this.used += n;
        return;
      }
      this.add();
      n--;
    }
  }
}

/** _dictNextExp: the power of two at least n, at least 4. */
export function nextSize(n: number): number {
  let s = 4;
  while (s < n) s *= 2;
  return s;
}
