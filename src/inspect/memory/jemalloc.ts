/**
 * jemalloc 5 size classes (the allocator Redis ships with and links by default, 4 KiB pages): what
 * `zmalloc_size()` answers for an allocation of `n` bytes. 8, then multiples of 16 up to 128, then
 * four classes per doubling (160, 192, 224, 256, 320, ...), which also covers the large classes
 * (16 KiB, 20 KiB, ...). Every cost the memory model adds goes through here.
 */
export function jemallocSize(n: number): number {
  if (n <= SMALL) return TABLE[n]!;
  return sizeClass(n);
}

function sizeClass(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const step = 2 ** (Math.floor(Math.log2(n - 1)) - 2);
  return Math.ceil(n / step) * step;
}

/** Every element and key goes through here: the common sizes come from a table. */
const SMALL = 4096;
const TABLE = Uint16Array.from({ length: SMALL + 1 }, (_, n) => sizeClass(n));
