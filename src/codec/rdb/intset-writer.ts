/**
 * Builds an intset blob (formats digest §2.10.3): the narrowest width (2, 4 or 8 bytes) that holds
 * every member, members ascending. Callers pass distinct integers.
 */
export function intsetEncode(values: ReadonlyArray<number | bigint>): Buffer {
  const sorted = values.map((v) => BigInt(v)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lo = sorted[0] ?? 0n;
  const hi = sorted[sorted.length - 1] ?? 0n;
  const width = lo >= -32768n && hi <= 32767n ? 2 : lo >= -2147483648n && hi <= 2147483647n ? 4 : 8;
  const out = Buffer.allocUnsafe(8 + width * sorted.length);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(sorted.length, 4);
  let p = 8;
  for (const v of sorted) {
    if (width === 2) out.writeInt16LE(Number(v), p);
    else if (width === 4) out.writeInt32LE(Number(v), p);
    else out.writeBigInt64LE(v, p);
    p += width;
  }
  return out;
}
