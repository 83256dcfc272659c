/**
 * Byte sizes of the packed encodings Redis builds when it loads a value whose stored layout it
 * does not keep (a ziplist turned into a listpack, a plain set turned into an intset...): entry
 * sizes of listpack and ziplist, intset widths, sds headers. Integers are recognised exactly as
 * Redis's string2ll does (no sign '+', no leading zeros, no "-0", within int64).
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The integer a byte string spells for Redis (string2ll), or null. */
export function strictInt(b: Buffer, start: number, end: number): number | bigint | null {
  const len = end - start;
  if (len === 0 || len > 20) return null;
  let i = start;
  const neg = b[i] === 0x2d;
  if (neg) {
    i++;
    if (i === end) return null;
  }
  const first = b[i]!;
  if (first === 0x30) return len === 1 ? 0 : null;
  if (first < 0x31 || first > 0x39) return null;
  let v = 0;
  for (let j = i; j < end; j++) {
    const c = b[j]!;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  if (end - i < 16) return neg ? -v : v;
  const big = BigInt(b.toString('latin1', start, end));
  return big > INT64_MAX || big < INT64_MIN ? null : big;
}

function bytesOfInt(v: number | bigint): number {
  const n = Number(v);
  if (n >= -32768 && n <= 32767) return 2;
  if (n >= -2147483648 && n <= 2147483647) return 4;
  return 8;
}

/** Characters in the decimal text of the integer v (String(v).length without building the string). */
export function decimalLength(v: number | bigint): number {
  if (typeof v === 'bigint') return String(v).length;
  let n = v < 0 ? 2 : 1;
  const a = Math.abs(v);
  for (let p = 10; a >= p; p *= 10) n++;
  return n;
}

/** Listpack: one integer entry (encoding + value + backlen). */
export function lpIntEntry(v: number | bigint): number {
  const n = Number(v);
  if (n >= 0 && n <= 127) return 2;
  if (n >= -4096 && n <= 4095) return 3;
  if (n >= -32768 && n <= 32767) return 4;
  if (n >= -8388608 && n <= 8388607) return 5;
  if (n >= -2147483648 && n <= 2147483647) return 6;
  return 10;
}

/** Listpack: one string entry of `len` bytes. */
export function lpStrEntry(len: number): number {
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

/** Listpack header (total bytes + element count) and end byte. */
export const LP_EMPTY = 7;
/** Ziplist header (bytes, tail offset, count) and end byte. */
export const ZL_EMPTY = 11;

/** Ziplist: the entry without its prevlen field (encoding + data). */
export function zlIntBody(v: number | bigint): number {
  const n = Number(v);
  if (n >= 0 && n <= 12) return 1;
  if (n >= -128 && n <= 127) return 2;
  if (n >= -32768 && n <= 32767) return 3;
  if (n >= -8388608 && n <= 8388607) return 4;
  if (n >= -2147483648 && n <= 2147483647) return 5;
  return 9;
}

export function zlStrBody(len: number): number {
  return len <= 63 ? 1 + len : len <= 16383 ? 2 + len : 5 + len;
}

/** The prevlen field an entry needs after an entry of `prev` bytes. */
export function zlPrevLen(prev: number): number {
  return prev < 254 ? 1 : 5;
}

/** Intset: header + one width for every member (the widest member decides). */
export function intsetBytes(count: number, width: number): number {
  return 8 + count * width;
}

export function intWidth(v: number | bigint): number {
  return bytesOfInt(v);
}

/** sds allocation request for a string of `len` bytes: header by sdsReqType (+ NUL). */
export function sdsAlloc(len: number): number {
  const hdr = len < 32 ? 1 : len < 256 ? 3 : len < 65536 ? 5 : len < 4294967296 ? 9 : 17;
  return hdr + len + 1;
}

