import { Crc64 } from '../codec/rdb/crc64.js';

/**
 * Frames value bytes already in RDB encoding as a DUMP payload (formats digest §3):
 * type byte | value | u16le RDB version | u64le CRC-64. Restore sends what the backup stored,
 * byte for byte, whenever the target can load that encoding — no decode/encode round trip.
 */
export function framePayload(rdbType: number, value: Uint8Array, stamp: number): Buffer {
  const out = Buffer.allocUnsafe(value.length + 11);
  out[0] = rdbType;
  out.set(value, 1);
  const v = value.length + 1;
  out.writeUInt16LE(stamp, v);
  const crc = new Crc64().update(out, 0, v + 2);
  out.writeUInt32LE(crc.lo >>> 0, v + 2);
  out.writeUInt32LE(crc.hi >>> 0, v + 6);
  return out;
}
