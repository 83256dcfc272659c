import { CommandError } from './errors.js';

/**
 * x87 80-bit long double arithmetic for INCRBYFLOAT / HINCRBYFLOAT, which Redis computes in
 * long double and stores as "%.17Lf" with trailing zeros cut. A value is m * 2^e with a 64-bit
 * mantissa; exact BigInt arithmetic plus round-half-even reproduces strtold, + and printf.
 */
interface LD {
  neg: boolean;
  m: bigint;
  e: number;
}

const MANT_BITS = 64;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds num/den (positive) to a 64-bit mantissa, half to even. */
function roundRational(neg: boolean, num: bigint, den: bigint): LD {
  if (num === 0n) return { neg, m: 0n, e: 0 };
  let e = bitLength(num) - bitLength(den) - MANT_BITS;
  // Scale so that q = num / (den * 2^e) has exactly 64 bits.
  const scaled = (): [bigint, bigint] => (e >= 0 ? [num, den << BigInt(e)] : [num << BigInt(-e), den]);
  let [n, d] = scaled();
  let q = n / d;
  if (bitLength(q) > MANT_BITS) {
    e++;
    [n, d] = scaled();
    q = n / d;
  } else if (bitLength(q) < MANT_BITS) {
    e--;
    [n, d] = scaled();
    q = n / d;
  }
  const r = n - q * d;
  if (2n * r > d || (2n * r === d && (q & 1n) === 1n)) q++;
  if (bitLength(q) > MANT_BITS) {
    q >>= 1n;
    e++;
  }
  return { neg, m: q, e };
}

const DEC = /^([+-]?)([0-9]*)\.?([0-9]*)(?:[eE]([+-]?[0-9]+))?$/;

/** strtold over the whole string (no spaces); null when Redis would refuse it. */
export function parseLongDouble(s: string): LD | null {
  const m = DEC.exec(s);
  if (!m || (m[2] === '' && m[3] === '')) return null;
  const digits = BigInt((m[2] || '0') + (m[3] || ''));
  const exp10 = Number(m[4] ?? 0) - (m[3] ?? '').length;
  if (Math.abs(exp10) > 5000) return null;
  const neg = m[1] === '-';
  if (exp10 >= 0) return roundRational(neg, digits * 10n ** BigInt(exp10), 1n);
  return roundRational(neg, digits, 10n ** BigInt(-exp10));
}

function toRational(x: LD, e: number): bigint {
  const v = x.m << BigInt(x.e - e);
  return x.neg ? -v : v;
}

export function addLongDouble(a: LD, b: LD): LD {
  const e = Math.min(a.e, b.e);
  const sum = toRational(a, e) + toRational(b, e);
  const neg = sum < 0n;
  const abs = neg ? -sum : sum;
  return e >= 0 ? roundRational(neg, abs << BigInt(e), 1n) : roundRational(neg, abs, 1n << BigInt(-e));
}

/** "%.17Lf" with trailing zeros (and a trailing dot) removed: Redis's LD_STR_HUMAN. */
export function formatLongDoubleHuman(x: LD): string {
  const scale = 10n ** 17n;
  let num = x.m * scale;
  let den = 1n;
  if (x.e >= 0) num <<= BigInt(x.e);
  else den <<= BigInt(-x.e);
  let q = num / den;
  const r = num - q * den;
  if (2n * r > den || (2n * r === den && (q & 1n) === 1n)) q++;
  let s = q.toString().padStart(18, '0');
  s = `${s.slice(0, -17)}.${s.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
  if (s === '0') return '0';
  return x.neg ? `-${s}` : s;
}

/** The text INCRBYFLOAT stores for `current + incr`. */
export function incrByFloatText(current: string, incr: string): string {
  const a = parseLongDouble(current);
  if (!a) throw new CommandError('ERR value is not a valid float');
  const b = parseLongDouble(incr);
  if (!b) throw new CommandError('ERR value is not a valid float');
  return formatLongDoubleHuman(addLongDouble(a, b));
}
