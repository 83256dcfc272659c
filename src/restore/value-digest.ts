import type { RedisValue } from '../codec/rdb/model.js';
import { Sha1 } from './sha1.js';

/**
 * The digest `DEBUG DIGEST-VALUE` returns for a key (redis:src/debug.c, xorObjectDigest), computed
 * from a decoded value so restore can check a key with 20 bytes on the wire instead of a DUMP.
 * Hand-written because it must match the server bit for bit. Null for values it cannot digest
 * (modules): those are checked with DUMP instead. DigestSink computes the same from the reader's
 * elements without a decoded value.
 */

const OBJ_TYPE: Record<RedisValue['type'], number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, module: 5, stream: 6, array: 7, pathhash: 8 };
// array, pathhash: their object type numbers are not checked against a server here; never digested (null below).

export const EXPIRE_MARK = Buffer.from('!!expire!!');

/** debug.c's two digest steps over 20-byte digests, with no allocation per call. */
export class Digester {
  private readonly sha = new Sha1();
  private readonly tmp = new Uint8Array(20);
  private readonly typeWord = new Uint8Array(4);

  /** xorDigest: d ^= SHA1(data) — order does not matter. */
  xor(d: Uint8Array, b: Uint8Array, start = 0, end = b.length): void {
    const t = this.tmp;
    this.sha.digest(b, start, end, t, 0);
    for (let i = 0; i < 20; i++) d[i]! ^= t[i]!;
  }

  /** mixDigest: d ^= SHA1(data), then d = SHA1(d) — order matters. */
  mix(d: Uint8Array, b: Uint8Array, start = 0, end = b.length): void {
    this.xor(d, b, start, end);
    this.sha.digest(d, 0, 20, d, 0);
  }

  /** A digest that starts with the value's type, a 32-bit big-endian word (as xorObjectDigest does). */
  start(d: Uint8Array, type: RedisValue['type']): void {
    d.fill(0);
    this.typeWord[3] = OBJ_TYPE[type];
    this.mix(d, this.typeWord);
  }
}

const shared = new Digester();

/** Shortest round-trip digits in %.17g layout, as fpconv_dtoa (Redis 7.2+) formats them. */
export function formatShortest(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x); // JS prints fixed notation for every exponent in [-4, 17)
}

/**
 * The DIGEST-VALUE of a key holding `value`, with or without a TTL. `scoreFormat` follows the
 * target's version (Redis 7.2 switched to shortest round-trip digits).
 */
export function valueDigest(value: RedisValue, hasTtl: boolean, scoreFormat: (x: number) => string): string | null {
  return digestOf(value, hasTtl, scoreFormat);
}

/**
 * Digests the target may legitimately report: a listpack stores a -0 score as the integer 0, so a
 * zset holding -0 may come back with +0 depending on the target's encoding thresholds.
 */
export function acceptableDigests(value: RedisValue, hasTtl: boolean, scoreFormat: (x: number) => string): string[] | null {
  const d = digestOf(value, hasTtl, scoreFormat);
  if (d === null) return null;
  if (value.type !== 'zset' || !value.value.some(([, s]) => Object.is(s, -0))) return [d];
  const plus: RedisValue = { type: 'zset', value: value.value.map(([m, s]) => [m, Object.is(s, -0) ? 0 : s]) };
  return [d, digestOf(plus, hasTtl, scoreFormat)!];
}

function digestOf(value: RedisValue, hasTtl: boolean, scoreFormat: (x: number) => string): string | null {
  const g = shared;
  const d = Buffer.alloc(20);
  const ele = Buffer.alloc(20);
  g.start(d, value.type);
  switch (value.type) {
    case 'string':
      g.mix(d, value.value);
      break;
    case 'list':
      for (const e of value.value) g.mix(d, e);
      break;
    case 'set':
      for (const m of value.value) g.xor(d, m);
      break;
    case 'zset':
      for (const [m, s] of value.value) {
        ele.fill(0);
        g.mix(ele, m);
        g.mix(ele, Buffer.from(scoreFormat(s)));
        g.xor(d, ele);
      }
      break;
    case 'hash':
      if (value.expires && value.expires.size > 0) return null;
      for (const [f, v] of value.value) {
        ele.fill(0);
        g.mix(ele, f);
        g.mix(ele, v);
        g.xor(d, ele);
      }
      break;
    case 'stream':
      for (const e of value.value.entries) {
        g.mix(d, Buffer.from(`${e.id.ms}.${e.id.seq}`));
        for (const f of e.fields) g.mix(d, f);
      }
      break;
    case 'module':
    case 'array':
    case 'pathhash':
      return null;
  }
  if (hasTtl) g.xor(d, EXPIRE_MARK);
  return d.toString('hex');
}
