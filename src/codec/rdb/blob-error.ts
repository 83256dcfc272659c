/** A malformed embedded blob (listpack, ziplist, intset, zipmap): offset inside the blob + expectation. */
export class BlobError extends Error {
  constructor(
    readonly at: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

/** An element of a listpack or ziplist: a byte string, or an integer (bigint only beyond 2^53). */
export type PackedEntry = Buffer | number | bigint;

/** Turns an integer element into the decimal text Redis would return for it. */
export function entryToBuffer(e: PackedEntry): Buffer {
  return typeof e === 'object' ? e : Buffer.from(String(e), 'latin1');
}

/** Reads a signed 64-bit little-endian integer as a number when safe, else a bigint. */
export function readInt64(buf: Buffer, pos: number): number | bigint {
  const lo = buf.readUInt32LE(pos);
  const hi = buf.readInt32LE(pos + 4);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + lo;
  return buf.readBigInt64LE(pos);
}

/** Receives the elements of a listpack or ziplist as they are validated. */
export interface EntryVisitor {
  str(blob: Buffer, start: number, end: number): void;
  int(v: number | bigint): void;
}

/** Collects elements: strings as slices of the blob (no copy), integers as numbers. */
export class DecodeVisitor implements EntryVisitor {
  readonly out: PackedEntry[] = [];
  str(blob: Buffer, start: number, end: number): void {
    this.out.push(blob.subarray(start, end));
  }
  int(v: number | bigint): void {
    this.out.push(v);
  }
}

/** Buffer#latin1Slice without toString's argument handling (hot in uniqueness checks and sorting). */
export const latin1 = (b: Buffer, start: number, end: number): string => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end);

/** Parses a score stored as text (zset listpacks/ziplists, type-3 string doubles): strtod-like. */
export function parseScoreText(s: string): number {
  // Common case first, without the lower-cased copy: it starts and ends like a plain number
  // (so no whitespace around it, and no inf spelling).
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if ((isDigit(first) || first === 0x2d || first === 0x2b || first === 0x2e) && (isDigit(last) || last === 0x2e)) return Number(s);
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return s.length > 0 && s.trim() === s ? Number(s) : NaN;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
