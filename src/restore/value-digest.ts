import { createHash } from 'node:crypto';
import type { RedisValue } from '../codec/rdb/model.js';

/**
 * The digest `DEBUG DIGEST-VALUE` returns for a key (redis:src/debug.c, xorObjectDigest), computed
 * from a decoded value so restore can check a key with 20 bytes on the wire instead of a DUMP.
 * Hand-written because it must match the server bit for bit. Null for values it cannot digest
 * (modules): those are checked with DUMP instead.
 */

const OBJ_TYPE: Record<RedisValue['type'], number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, module: 5, stream: 6 };

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** mixDigest: digest ^= SHA1(data), then digest = SHA1(digest) — order matters. */
function mix(d: Buffer, data: Uint8Array): Buffer {
  xor(d, data);
  return sha1(d);
}

/** xorDigest: digest ^= SHA1(data) — order does not matter. */
function xor(d: Buffer, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) d[i]! ^= h[i]!;
}

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
  let d: Buffer = Buffer.alloc(20);
  const aux = Buffer.alloc(4);
  aux.writeUInt32BE(OBJ_TYPE[value.type]);
  d = mix(d, aux);
  switch (value.type) {
    case 'string':
      d = mix(d, value.value);
      break;
    case 'list':
      for (const e of value.value) d = mix(d, e);
      break;
    case 'set':
      for (const m of value.value) xor(d, m);
      break;
    case 'zset':
      for (const [m, s] of value.value) xor(d, mix(mix(Buffer.alloc(20), m), Buffer.from(scoreFormat(s))));
      break;
    case 'hash':
      if (value.expires && value.expires.size > 0) return null;
      for (const [f, v] of value.value) xor(d, mix(mix(Buffer.alloc(20), f), v));
      break;
    case 'stream':
      for (const e of value.value.entries) {
        d = mix(d, Buffer.from(`${e.id.ms}.${e.id.seq}`));
        for (const f of e.fields) d = mix(d, f);
      }
      break;
    case 'module':
      return null;
  }
  if (hasTtl) xor(d, Buffer.from('!!expire!!'));
  return d.toString('hex');
}
