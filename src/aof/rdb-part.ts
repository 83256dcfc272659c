import { readRdb, type CrcAccumulator } from '../codec/rdb/reader.js';
import type { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';

/** Outcome of checking the RDB at the start of an AOF (a preamble or an RDB base file). */
export interface RdbPartCheck {
  ok: boolean;
  /** Offset right after the checksum (where the RESP tail, if any, starts). */
  end: number;
  version: number | null;
  keys: number;
  expires: number;
  /** One-line reason when not ok (offset and what was expected). */
  error: string | null;
  /** The defect is one Redis reports as corrupt data and exits on at once (FormatError.corrupt). */
  corrupt: boolean;
  errorOffset: number | null;
}

/**
 * Reads the RDB part with the RDB reader (structure, every value and the CRC-64), as
 * redis-check-aof runs redis-check-rdb on it. `end` is where the RESP tail starts; callers read
 * the tail from there rather than from `src`'s position. `crc`: where the CRC-64 is computed
 * (default: on this thread).
 */
export async function checkRdbPart(src: ByteSource, crc?: CrcAccumulator): Promise<RdbPartCheck> {
  let keys = 0;
  let expires = 0;
  let version: number | null = null;
  let end: number | null = null;
  try {
    // Read to the generator's end (not just the eof record) so the source is past the checksum.
    // Validation only, as redis-check-rdb does: no Buffer per element of a big preamble key.
    for await (const rec of readRdb(src, { verifyChecksum: true, validateOnly: true, crc })) {
      if (rec.kind === 'header') version = rec.version;
      else if (rec.kind === 'key') {
        keys++;
        if (rec.entry.expireAtMs !== null) expires++;
      } else if (rec.kind === 'eof') {
        end = rec.end;
      }
    }
    if (end === null) return { ok: false, end: src.offset, version, keys, expires, error: 'RDB ended without an EOF opcode', errorOffset: src.offset, corrupt: false };
    return { ok: true, end, version, keys, expires, error: null, errorOffset: null, corrupt: false };
  } catch (e) {
    if (e instanceof FormatError) {
      return { ok: false, end: src.offset, version, keys, expires, error: `at byte ${e.offset}: ${e.expected}`, errorOffset: e.offset, corrupt: e.corrupt };
    }
    throw e;
  }
}
