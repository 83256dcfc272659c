/**
 * Zset scores stored as text, read the way Redis reads them: type-3 zsets with sscanf("%lg")
 * (rdbLoadDoubleValue), listpack and ziplist zsets with strtod and no check at all (zzlGetScore).
 * Both take the longest numeric prefix, so "12abc" is 12 to Redis and must be to us: a checker
 * stricter than the server calls files corrupt that the server loads.
 */

/** strtod's grammar after leading white space: sign, then hex, decimal, inf/infinity or nan. */
const PREFIX =
  /^[ \t\n\v\f\r]*([+-]?)(?:0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p([+-]?[0-9]+))?|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)|(inf(?:inity)?)|(nan(?:\([0-9a-z_]*\))?))/i;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The value of the longest prefix of `s` that strtod converts, or null when it converts none. */
export function strtodPrefix(s: string): number | null {
  // Common case first, without the regular expression: a plain number, which Number() reads
  // exactly as strtod does (it would also read 0b/0o literals, which strtod stops after the 0).
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if ((isDigit(first) || first === 0x2d || first === 0x2b || first === 0x2e) && (isDigit(last) || last === 0x2e)) {
    const second = s.charCodeAt(1) | 0x20;
    const v = second === 0x62 || second === 0x6f ? NaN : Number(s);
    if (!Number.isNaN(v)) return v;
  }
  const m = PREFIX.exec(s);
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[4] !== undefined) return sign * Number(m[4]);
  if (m[5] !== undefined) return sign * Infinity;
  if (m[6] !== undefined) return NaN;
  const [int = '', frac = ''] = m[2]!.split('.');
  const mantissa = (int ? parseInt(int, 16) : 0) + (frac ? parseInt(frac, 16) / 16 ** frac.length : 0);
  return sign * mantissa * 2 ** Number(m[3] ?? 0);
}

/** Longer score texts are cut to this many bytes before strtod (zzlStrtod's 128-byte buffer). */
const PACKED_SCORE_MAX = 127;

/** A listpack/ziplist zset score as zzlGetScore reads it: strtod of the text, 0 when it has no number. */
export function packedScore(s: string): number {
  return strtodPrefix(s.length > PACKED_SCORE_MAX ? s.slice(0, PACKED_SCORE_MAX) : s) ?? 0;
}

/**
 * True when the score text b[start, end) is exactly what formatScore prints for its value, so it
 * can be copied instead of parsed and printed again (zset listpacks store scores as such text).
 * The rule: `-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?`, at most 15 significant digits (any decimal of 15
 * digits or fewer survives a round trip through a double, so the shortest form has the same
 * digits), and at most 5 zeros after `0.` (String() writes 1e-7 and smaller with an exponent).
 * It may say false for a canonical text; never true for another.
 */
export function isCanonicalScore(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i < end && b[i] === 0x2d) i++;
  if (i >= end) return false;
  let digits = 0;
  if (b[i] === 0x30) {
    i++;
  } else {
    for (; i < end && b[i]! >= 0x30 && b[i]! <= 0x39; i++) digits++;
    if (digits === 0) return false;
  }
  if (i < end) {
    if (b[i] !== 0x2e || b[end - 1] === 0x30) return false;
    i++;
    if (i === end) return false;
    if (digits === 0) {
      const from = i;
      while (i < end && b[i] === 0x30) i++;
      if (i - from > 5) return false;
    }
    for (; i < end; i++, digits++) if (b[i]! < 0x30 || b[i]! > 0x39) return false;
  }
  return digits <= 15;
}

