import { BlobError, readInt64 } from './blob-error.js';

/** Intset decoder with Redis's intsetValidateIntegrity checks (width, size, strictly ascending). */
export function intsetDecode(blob: Buffer): Array<number | bigint> {
  if (blob.length < 8) throw new BlobError(0, 'an intset header of 8 bytes');
  const enc = blob.readUInt32LE(0);
  if (enc !== 2 && enc !== 4 && enc !== 8) throw new BlobError(0, `an intset encoding of 2, 4 or 8, found ${enc}`);
  const count = blob.readUInt32LE(4);
  if (count === 0) throw new BlobError(4, 'a non-empty intset');
  if (8 + count * enc !== blob.length) throw new BlobError(4, `an intset of ${8 + count * enc} bytes for ${count} elements, found ${blob.length}`);
  const out = new Array<number | bigint>(count);
  let prev: number | bigint | null = null;
  for (let i = 0; i < count; i++) {
    const p = 8 + i * enc;
    const v = enc === 2 ? blob.readInt16LE(p) : enc === 4 ? blob.readInt32LE(p) : readInt64(blob, p);
    if (prev !== null && !(v > prev)) throw new BlobError(p, 'intset elements in strictly ascending order');
    out[i] = v;
    prev = v;
  }
  return out;
}
