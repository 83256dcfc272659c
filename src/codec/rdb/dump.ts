import { FormatError, ToolError } from '../../util/errors.js';
import { crc64 } from './crc64.js';
import type { RedisValue } from './model.js';
import { decodeValueBytes } from './raw-value.js';
import { printable } from './to-commands.js';
import { encodeValue } from './value-writer.js';

/**
 * DUMP / RESTORE payloads (formats digest §3): type byte | value exactly as in an RDB record |
 * u16le RDB version | u64le CRC-64 of everything before it.
 */

/** A payload for RESTORE on a server whose RDB version is at least `rdbVersion` (9–12). */
export function encodeDump(value: RedisValue, rdbVersion: number, key?: Buffer): Buffer {
  const what = key ? `key "${printable(key)}"` : 'value';
  const enc = encodeValue(value, {
    version: rdbVersion,
    loss: (lost) => {
      throw new ToolError(`${what}: a DUMP payload for RDB ${rdbVersion} cannot represent ${lost}`);
    },
  });
  if (!enc) throw new ToolError(`${what}: an empty ${value.type} has no DUMP payload (Redis never stores empty collections)`);
  const body = Buffer.concat([Buffer.from([enc.type]), ...enc.parts, Buffer.alloc(2)]);
  body.writeUInt16LE(rdbVersion, body.length - 2);
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeBigUInt64LE(crc64(body), 0);
  return Buffer.concat([body, trailer]);
}

export interface DecodedDump {
  value: RedisValue;
  rdbType: number;
  version: number;
}

/** Decodes a DUMP payload (CRC checked first); the value must end exactly at the version footer. */
export async function decodeDump(payload: Buffer, name = 'DUMP payload'): Promise<DecodedDump> {
  if (payload.length < 10) throw new FormatError(name, 0, `expected a DUMP payload of at least 10 bytes, found ${payload.length}`);
  const footer = payload.length - 10;
  const version = payload.readUInt16LE(footer);
  const stored = payload.readBigUInt64LE(footer + 2);
  const computed = crc64(payload.subarray(0, footer + 2));
  if (stored !== computed) {
    throw new FormatError(name, footer + 2, `expected CRC-64 0x${computed.toString(16).padStart(16, '0')} of the payload, found 0x${stored.toString(16).padStart(16, '0')}`);
  }
  if (payload[0] === 0xf3) throw new FormatError(name, 0, 'expected a value type byte (KEY_META-prefixed RDB 13 payloads are not supported)');
  const rdbType = payload[0]!;
  const value = await decodeValueBytes(rdbType, payload.subarray(1, footer), version, name, 1);
  if (!value) throw new FormatError(name, 1, 'expected a non-empty value (Redis skips empty collections)');
  return { value, rdbType, version };
}
