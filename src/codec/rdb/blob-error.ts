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
