import { ByteSource } from '../../util/byte-source.js';
import { FormatError, ToolError } from '../../util/errors.js';
import { crc64 } from './crc64.js';
import type { RedisValue } from './model.js';
import { readRdb } from './reader.js';
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

/**
 * Decodes a DUMP payload with the RDB reader's value decoder: the value is framed as a one-key
 * RDB of the payload's version (so version-dependent type numbers, e.g. Valkey's, read right) and
 * must end exactly at the version footer. Errors name payload offsets.
 */
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
  const magic = version >= 80 ? `VALKEY${String(version).padStart(3, '0')}` : `REDIS${String(version).padStart(4, '0')}`;
  // magic | type | empty key (LEN 0) | value | EOF | checksum 0 (= not checked)
  const prefix = Buffer.concat([Buffer.from(magic, 'latin1'), payload.subarray(0, 1), Buffer.from([0])]);
  const shift = prefix.length - 1;
  const framed = Buffer.concat([prefix, payload.subarray(1, footer), Buffer.from([0xff]), Buffer.alloc(8)]);
  let key: { value: RedisValue; rdbType: number } | null = null;
  try {
    for await (const r of readRdb(ByteSource.fromBuffer(framed, name))) {
      if (r.kind === 'header') continue;
      if (r.kind === 'key' && !key && r.entry.value) {
        key = { value: r.entry.value, rdbType: r.entry.rdbType };
        continue;
      }
      if (r.kind === 'eof' && key) {
        if (r.offset !== footer + shift) throw new FormatError(name, r.offset - shift, `expected the end of the value at byte ${footer}`);
        return { ...key, version };
      }
      if (r.kind === 'eof') throw new FormatError(name, 1, 'expected a non-empty value (Redis skips empty collections)');
      throw new FormatError(name, 'offset' in r ? Math.max(0, r.offset - shift) : 0, `expected the end of the value at byte ${footer}`);
    }
  } catch (e) {
    if (e instanceof FormatError && e.file === name && e.offset >= shift) {
      if (e.offset - shift >= footer) throw new FormatError(name, footer, `expected a complete value before the version footer at byte ${footer}`);
      throw new FormatError(name, e.offset - shift, e.expected);
    }
    if (e instanceof FormatError && e.file === name) throw new FormatError(name, 0, `${e.expected} (reading the payload's RDB version ${version})`);
    throw e;
  }
  throw new FormatError(name, footer, 'expected a complete value');
}
