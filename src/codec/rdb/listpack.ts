import { BlobError, DecodeVisitor, readInt64, type EntryVisitor, type PackedEntry } from './blob-error.js';

/**
 * Listpack decoder with the integrity checks of Redis's lpValidateIntegrity (header size,
 * terminator, per-entry back-lengths, element count). Hand-written: exact and on the hot path.
 * Strings are returned as slices of the blob (no copy).
 */
export function lpDecode(blob: Buffer, counted = true): PackedEntry[] {
  const v = new DecodeVisitor();
  lpWalk(blob, v, counted);
  return v.out;
}

/**
 * Walks and validates a listpack, handing each element to `visit`; returns the element count.
 * Without `counted` the header's element count is not checked: Redis validates a stream node's
 * listpack by its own walk (streamValidateListpackIntegrity), which never reads it.
 */
export function lpWalk(blob: Buffer, visit: EntryVisitor, counted = true): number {
  const n = blob.length;
  if (n < 7) throw new BlobError(0, 'a listpack of at least 7 bytes');
  const total = blob.readUInt32LE(0);
  if (total !== n) throw new BlobError(0, `listpack total_bytes ${total} equal to its length ${n}`);
  const declared = blob.readUInt16LE(4);
  if (blob[n - 1] !== 0xff) throw new BlobError(n - 1, 'listpack terminator FF');
  let count = 0;
  let p = 6;
  const end = n - 1;
  while (p < end) {
    const start = p;
    const b = blob[p]!;
    if (b < 0x80) {
      visit.int(b);
      p += 1;
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      if (p + 1 + len > end) throw new BlobError(p, 'a listpack string inside the blob');
      visit.str(blob, p + 1, p + 1 + len);
      p += 1 + len;
    } else if (b < 0xe0) {
      if (p + 2 > end) throw new BlobError(p, 'a listpack 13-bit integer inside the blob');
      const u = ((b & 0x1f) << 8) | blob[p + 1]!;
      visit.int(u >= 4096 ? u - 8192 : u);
      p += 2;
    } else if (b < 0xf0) {
      if (p + 2 > end) throw new BlobError(p, 'a listpack string length inside the blob');
      const len = ((b & 0x0f) << 8) | blob[p + 1]!;
      if (p + 2 + len > end) throw new BlobError(p, 'a listpack string inside the blob');
      visit.str(blob, p + 2, p + 2 + len);
      p += 2 + len;
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > end) throw new BlobError(p, 'a listpack string length inside the blob');
          const len = blob.readUInt32LE(p + 1);
          if (p + 5 + len > end) throw new BlobError(p, 'a listpack string inside the blob');
          visit.str(blob, p + 5, p + 5 + len);
          p += 5 + len;
          break;
        }
        case 0xf1:
          if (p + 3 > end) throw new BlobError(p, 'a listpack int16 inside the blob');
          visit.int(blob.readInt16LE(p + 1));
          p += 3;
          break;
        case 0xf2:
          if (p + 4 > end) throw new BlobError(p, 'a listpack int24 inside the blob');
          // Inline: Buffer.readIntLE's argument checks cost more than the walk (big lists of numbers).
          visit.int(((blob[p + 3]! << 24) | (blob[p + 2]! << 16) | (blob[p + 1]! << 8)) >> 8);
          p += 4;
          break;
        case 0xf3:
          if (p + 5 > end) throw new BlobError(p, 'a listpack int32 inside the blob');
          visit.int(blob.readInt32LE(p + 1));
          p += 5;
          break;
        case 0xf4:
          if (p + 9 > end) throw new BlobError(p, 'a listpack int64 inside the blob');
          visit.int(readInt64(blob, p + 1));
          p += 9;
          break;
        default:
          throw new BlobError(p, `a listpack entry encoding, found 0x${b.toString(16)}`);
      }
    }
    // Back-length: the size of encoding+data, 7 bits per byte, written big-end first.
    const l = p - start;
    const blen = l < 128 ? 1 : l < 16384 ? 2 : l < 2097152 ? 3 : l < 268435456 ? 4 : 5;
    if (p + blen > end) throw new BlobError(p, 'a listpack entry back-length inside the blob');
    let got = 0;
    for (let k = 0; k < blen; k++) {
      const c = blob[p + k]!;
      const expectCont = k !== 0;
      if (((c & 0x80) !== 0) !== expectCont) throw new BlobError(p + k, `listpack back-length ${l}`);
      got = got * 128 + (c & 0x7f);
    }
    if (got !== l) throw new BlobError(p, `listpack back-length ${l}, found ${got}`);
    p += blen;
    count++;
  }
  if (counted && declared !== 0xffff && count !== declared) {
    throw new BlobError(4, `listpack element count ${declared}, found ${count} elements`);
  }
  return count;
}
