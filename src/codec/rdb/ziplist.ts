import { BlobError, DecodeVisitor, readInt64, type EntryVisitor, type PackedEntry } from './blob-error.js';

/**
 * Ziplist decoder (RDB 2–9 blobs) with Redis's ziplistValidateIntegrity checks: header sizes,
 * prevlen chain, tail offset, terminator and count. Hand-written for exactness; strings are slices.
 */
export function zlDecode(blob: Buffer): PackedEntry[] {
  const v = new DecodeVisitor();
  zlWalk(blob, v);
  return v.out;
}

/** Walks and validates a ziplist, handing each element to `visit`; returns the element count. */
export function zlWalk(blob: Buffer, visit: EntryVisitor): number {
  const n = blob.length;
  if (n < 11) throw new BlobError(0, 'a ziplist of at least 11 bytes');
  const total = blob.readUInt32LE(0);
  if (total !== n) throw new BlobError(0, `ziplist zlbytes ${total} equal to its length ${n}`);
  const tail = blob.readUInt32LE(4);
  const declared = blob.readUInt16LE(8);
  if (blob[n - 1] !== 0xff) throw new BlobError(n - 1, 'ziplist terminator FF');
  let count = 0;
  const end = n - 1;
  let p = 10;
  let prevLen = 0;
  let lastStart = 10;
  while (p < end) {
    const start = p;
    let pl = blob[p]!;
    if (pl === 0xfe) {
      if (p + 5 > end) throw new BlobError(p, 'a ziplist prevlen inside the blob');
      pl = blob.readUInt32LE(p + 1);
      p += 5;
    } else {
      if (pl === 0xff) throw new BlobError(p, 'a ziplist entry, found FF before the end');
      p += 1;
    }
    if (pl !== prevLen) throw new BlobError(start, `ziplist prevlen ${prevLen}, found ${pl}`);
    if (p >= end) throw new BlobError(p, 'a ziplist entry encoding inside the blob');
    const e = blob[p]!;
    const top = e >> 6;
    if (top === 0) {
      const len = e & 0x3f;
      if (p + 1 + len > end) throw new BlobError(p, 'a ziplist string inside the blob');
      visit.str(blob, p + 1, p + 1 + len);
      p += 1 + len;
    } else if (top === 1) {
      if (p + 2 > end) throw new BlobError(p, 'a ziplist string length inside the blob');
      const len = ((e & 0x3f) << 8) | blob[p + 1]!;
      if (p + 2 + len > end) throw new BlobError(p, 'a ziplist string inside the blob');
      visit.str(blob, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (top === 2) {
      if (e !== 0x80) throw new BlobError(p, `a ziplist entry encoding, found 0x${e.toString(16)}`);
      if (p + 5 > end) throw new BlobError(p, 'a ziplist string length inside the blob');
      const len = blob.readUInt32BE(p + 1);
      if (p + 5 + len > end) throw new BlobError(p, 'a ziplist string inside the blob');
      visit.str(blob, p + 5, p + 5 + len);
      p += 5 + len;
    } else {
      let size: number;
      switch (e) {
        case 0xc0:
          size = 2;
          break;
        case 0xd0:
          size = 4;
          break;
        case 0xe0:
          size = 8;
          break;
        case 0xf0:
          size = 3;
          break;
        case 0xfe:
          size = 1;
          break;
        default:
          if (e >= 0xf1 && e <= 0xfd) size = 0;
          else throw new BlobError(p, `a ziplist entry encoding, found 0x${e.toString(16)}`);
      }
      if (p + 1 + size > end) throw new BlobError(p, 'a ziplist integer inside the blob');
      const d = p + 1;
      visit.int(
        size === 0
          ? (e & 0x0f) - 1
          : size === 1
            ? blob.readInt8(d)
            : size === 2
              ? blob.readInt16LE(d)
              : size === 3
                ? ((blob[d + 2]! << 24) | (blob[d + 1]! << 16) | (blob[d]! << 8)) >> 8
                : size === 4
                  ? blob.readInt32LE(d)
                  : readInt64(blob, d),
      );
      p = d + size;
    }
    prevLen = p - start;
    lastStart = start;
    count++;
  }
  if (count > 0 && tail !== lastStart) throw new BlobError(4, `ziplist tail offset ${lastStart}, found ${tail}`);
  if (count === 0 && tail !== 10) throw new BlobError(4, `ziplist tail offset 10, found ${tail}`);
  if (declared !== 0xffff && declared !== count) {
    throw new BlobError(8, `ziplist entry count ${declared}, found ${count} entries`);
  }
  return count;
}
