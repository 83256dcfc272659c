import { lzfCompress } from './lzf-compress.js';

/**
 * Writer-side primitives of the RDB format (formats digest §2.3, §2.4, §2.6): length and string
 * encodings, canonical integer detection and score text. Hand-written: they must match Redis's
 * rdbSaveLen / rdbSaveRawString / string2ll / d2string rules exactly.
 */

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The integer a byte string canonically spells (Redis's string2ll: optional '-', no '+', no leading
 * zeros, "0" but not "-0", within int64), else null. A number when |v| < 2^53, else a bigint.
 */
export function canonicalInt(b: Uint8Array): number | bigint | null {
  const n = b.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  const neg = b[0] === 0x2d;
  if (neg) {
    i = 1;
    if (n === 1) return null;
  }
  const first = b[i]!;
  if (first === 0x30) return n === 1 ? 0 : null;
  if (first < 0x31 || first > 0x39) return null;
  if (n - i <= 15) {
    let v = 0;
    for (; i < n; i++) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) return null;
      v = v * 10 + (c - 0x30);
    }
    return neg ? -v : v;
  }
  let v = 0n;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10n + BigInt(c - 0x30);
  }
  if (neg) v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * Score text that parses back (strtod) to exactly the same double: integers as integers (as
 * Redis's d2string does within ±2^52), otherwise the shortest round-trip form; inf/-inf/-0/nan as
 * Redis spells them (NaN only comes from a listpack's score text, which Redis does not check).
 */
export function formatScore(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return String(x);
}

/** Bytes of an RDB length (`LEN`), smallest form (rdbSaveLen). */
export function lenBytes(n: number | bigint): Buffer {
  if (typeof n === 'number') {
    if (n < 0x40) return Buffer.from([n]);
    if (n < 0x4000) return Buffer.from([0x40 | (n >>> 8), n & 0xff]);
    if (n <= 0xffffffff) {
      const b = Buffer.allocUnsafe(5);
      b[0] = 0x80;
      b.writeUInt32BE(n, 1);
      return b;
    }
    n = BigInt(n);
  }
  if (n <= 0xffffffffn) return lenBytes(Number(n));
  const b = Buffer.allocUnsafe(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(n, 1);
  return b;
}

export interface StringEncodeOptions {
  /** rdbcompression: try LZF on strings longer than 20 bytes (default true, as Redis). */
  compress?: boolean;
}

/**
 * An RDB `STR` (rdbSaveRawString): int-encoded (C0/C1/C2) when it is a canonical int32 of at most
 * 11 bytes, LZF (C3) when longer than 20 bytes and the compressed form saves at least 4 bytes,
 * otherwise raw with its length.
 */
export function strBytes(s: Uint8Array, opts: StringEncodeOptions = {}): Buffer[] {
  const len = s.length;
  if (len <= 11) {
    const v = canonicalInt(s);
    if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) return [intStr(v)];
  }
  if (len > 20 && opts.compress !== false) {
    const c = lzfCompress(s, len - 4);
    if (c) return [Buffer.from([0xc3]), lenBytes(c.length), lenBytes(len), c];
  }
  return [lenBytes(len), Buffer.isBuffer(s) ? s : Buffer.from(s.buffer, s.byteOffset, s.byteLength)];
}

function intStr(v: number): Buffer {
  if (v >= -128 && v <= 127) {
    const b = Buffer.allocUnsafe(2);
    b[0] = 0xc0;
    b.writeInt8(v, 1);
    return b;
  }
  if (v >= -32768 && v <= 32767) {
    const b = Buffer.allocUnsafe(3);
    b[0] = 0xc1;
    b.writeInt16LE(v, 1);
    return b;
  }
  const b = Buffer.allocUnsafe(5);
  b[0] = 0xc2;
  b.writeInt32LE(v, 1);
  return b;
}

/** 8-byte little-endian IEEE-754 double (zset2 scores). */
export function binaryDouble(x: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(x, 0);
  return b;
}

/** i64le (expiry, stream times). */
export function i64le(v: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt(v), 0);
  return b;
}

/** u64le (hash-field min-expire). */
export function u64le(v: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64LE(BigInt(v), 0);
  return b;
}
