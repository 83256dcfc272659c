import { CommandError, NOT_FLOAT, NOT_INTEGER } from './errors.js';

// Redis parses numbers with its own strict rules (string2ll, strtod without spaces); replaying
// must accept and refuse exactly what the server does, so these are written out here.

const INT_RE = /^(-?[1-9][0-9]*|0)$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** string2ll: a canonical signed 64-bit decimal, or null. */
export function parseI64(b: Buffer | string): bigint | null {
  const s = typeof b === 'string' ? b : b.toString('latin1');
  if (s.length === 0 || s.length > 20 || !INT_RE.test(s)) return null;
  const v = BigInt(s);
  return v < I64_MIN || v > I64_MAX ? null : v;
}

export function mustI64(b: Buffer, msg = NOT_INTEGER): bigint {
  const v = parseI64(b);
  if (v === null) throw new CommandError(msg);
  return v;
}

/** A 64-bit integer that also fits a JS number exactly (counts, indexes, ms timestamps). */
export function mustInt(b: Buffer, msg = NOT_INTEGER): number {
  const v = mustI64(b, msg);
  return Number(v);
}

export function inI64(v: bigint): boolean {
  return v >= I64_MIN && v <= I64_MAX;
}

const DEC_RE = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const INF_RE = /^([+-]?)(inf|infinity)$/i;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]+)$/;

/** strtod over the whole string as Redis's getDoubleFromObject accepts it (NaN refused). */
export function parseDouble(b: Buffer | string): number | null {
  const s = typeof b === 'string' ? b : b.toString('latin1');
  if (s.length === 0) return null;
  if (DEC_RE.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) return null; // ERANGE overflow
    if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return null; // ERANGE underflow
    return v;
  }
  const inf = INF_RE.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  const hex = HEX_RE.exec(s);
  if (hex) {
    const v = parseInt(hex[2]!, 16);
    return hex[1] === '-' ? -v : v;
  }
  return null;
}

export function mustDouble(b: Buffer, msg = NOT_FLOAT): number {
  const v = parseDouble(b);
  if (v === null) throw new CommandError(msg);
  return v;
}
