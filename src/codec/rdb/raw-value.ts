import { ByteSource } from '../../util/byte-source.js';
import { FormatError } from '../../util/errors.js';
import { RdbOpcode } from './constants.js';
import { lenBytes } from './encoding.js';
import type { RedisValue } from './model.js';
import { readRdb } from './reader.js';

/**
 * Decodes one value's stored bytes (as in a DUMP payload or RdbKey.raw) with the RDB reader: the
 * bytes are framed as a one-key RDB of `version` (so version-dependent type numbers, e.g. Valkey's,
 * read right) and must be consumed exactly. Errors name offsets inside `bytes` + `at`.
 * Returns null for an empty collection (which Redis skips).
 */
export async function decodeValueBytes(rdbType: number, bytes: Buffer, version: number, name: string, at = 0): Promise<RedisValue | null> {
  const prefix = oneKeyHead(rdbType, version);
  const framed = Buffer.concat([prefix, bytes, ONE_KEY_TAIL]);
  const shift = prefix.length - at;
  const end = prefix.length + bytes.length;
  let value: RedisValue | null = null;
  try {
    for await (const r of readRdb(ByteSource.fromBuffer(framed, name))) {
      if (r.kind === 'header') continue;
      if (r.kind === 'key' && value === null && r.entry.value) {
        value = r.entry.value;
        continue;
      }
      if (r.kind === 'eof' && r.offset === end) return value;
      throw new FormatError(name, Math.max(at, ('offset' in r ? r.offset : r.entry.offset) - shift), `expected the end of the value at byte ${at + bytes.length}`);
    }
  } catch (e) {
    if (!(e instanceof FormatError) || e.file !== name) throw e;
    if (e.offset >= end) throw new FormatError(name, at + bytes.length, `expected a complete value of ${bytes.length} bytes`);
    if (e.offset < prefix.length) throw new FormatError(name, at, `${e.expected} (value type ${rdbType}, RDB version ${version})`);
    throw new FormatError(name, e.offset - shift, e.expected);
  }
  throw new FormatError(name, at + bytes.length, 'expected a complete value');
}

/**
 * What goes before a value's stored bytes to make a one-key RDB of `version` (ONE_KEY_TAIL after):
 * magic | [EXPIRETIME_MS] | type | key (empty by default). Version-dependent type numbers (Valkey's)
 * then read right.
 */
export function oneKeyHead(rdbType: number, version: number, key: Buffer = Buffer.alloc(0), expireAtMs: number | null = null): Buffer {
  const magic = Buffer.from(version >= 80 ? `VALKEY${String(version).padStart(3, '0')}` : `REDIS${String(version).padStart(4, '0')}`, 'latin1');
  const expiry = Buffer.alloc(expireAtMs === null ? 0 : 9);
  if (expireAtMs !== null) {
    expiry[0] = RdbOpcode.EXPIRETIME_MS;
    expiry.writeBigInt64LE(BigInt(expireAtMs), 1);
  }
  return Buffer.concat([magic, expiry, Buffer.from([rdbType]), lenBytes(key.length), key]);
}

/** EOF and a zero checksum (= not checked). */
export const ONE_KEY_TAIL = Buffer.concat([Buffer.from([0xff]), Buffer.alloc(8)]);
