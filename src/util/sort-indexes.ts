/**
 * Sorts a Uint32Array of indexes by `before` (a strict order: a negative result puts x first),
 * bottom-up merge sort through one scratch array of the same length. Hand-written because
 * TypedArray.prototype.sort with a comparator copies the elements into heap arrays first (two of
 * 8 bytes per element: tens of MB of V8 heap for the members of a key of millions); this costs
 * 4 bytes per element outside the heap. Returns the sorted array (`idx` or the scratch).
 */
export function sortIndexes(idx: Uint32Array, cmp: (x: number, y: number) => number): Uint32Array {
  const n = idx.length;
  // Runs of RUN sorted by insertion first: fewer passes, and short runs are faster that way.
  const RUN = 16;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = idx[i]!;
      let j = i - 1;
      while (j >= lo && cmp(idx[j]!, v) > 0) {
        idx[j + 1] = idx[j]!;
        j--;
      }
      idx[j + 1] = v;
    }
  }
  if (n <= RUN) return idx;
  let from = idx;
  let to: Uint32Array = new Uint32Array(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      // Already in order (common for data saved nearly sorted): copy the pair of runs as they are.
      if (mid < hi && cmp(from[mid - 1]!, from[mid]!) <= 0) {
        to.set(from.subarray(lo, hi), lo);
        continue;
      }
      while (i < mid && j < hi) to[k++] = cmp(from[j]!, from[i]!) < 0 ? from[j++]! : from[i++]!;
      while (i < mid) to[k++] = from[i++]!;
      while (j < hi) to[k++] = from[j++]!;
    }
    const t = from;
    from = to;
    to = t;
  }
  return from;
}
