import { BlobError } from './blob-error.js';

/** Zipmap decoder (Redis 2.4 hashes, type 9), checked like zipmapValidateIntegrity. Returns [f, v, f, v...]. */
export function zipmapDecode(blob: Buffer): Buffer[] {
  const n = blob.length;
  if (n < 2) throw new BlobError(0, 'a zipmap of at least 2 bytes');
  const declared = blob[0]!;
  const out: Buffer[] = [];
  let p = 1;
  const readLen = (): number => {
    if (p >= n) throw new BlobError(p, 'a zipmap length inside the blob');
    const b = blob[p]!;
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      if (p + 5 > n) throw new BlobError(p, 'a zipmap length inside the blob');
      const v = blob.readUInt32LE(p + 1);
      p += 5;
      return v;
    }
    throw new BlobError(p, 'a zipmap length, found FF');
  };
  for (;;) {
    if (p >= n) throw new BlobError(p, 'zipmap terminator FF');
    if (blob[p] === 0xff) break;
    const klen = readLen();
    if (p + klen > n) throw new BlobError(p, 'a zipmap key inside the blob');
    const key = blob.subarray(p, p + klen);
    p += klen;
    const vlen = readLen();
    if (p >= n) throw new BlobError(p, 'a zipmap free byte inside the blob');
    const free = blob[p++]!;
    if (p + vlen + free > n) throw new BlobError(p, 'a zipmap value inside the blob');
    out.push(key, blob.subarray(p, p + vlen));
    p += vlen + free;
  }
  if (p !== n - 1) throw new BlobError(p + 1, 'end of zipmap after FF');
  if (declared < 254 && declared !== out.length / 2) throw new BlobError(0, `zipmap count ${declared}, found ${out.length / 2}`);
  return out;
}
