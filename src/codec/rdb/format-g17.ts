/**
 * C's printf("%.17g") as glibc prints a double: the 17 significant digits of the exact binary
 * value, rounded half to even; fixed notation when the decimal exponent X (after rounding) is in
 * [-4, 17), else d.ddde±XX with at least two exponent digits; trailing zeros and a bare point
 * removed. Redis <= 7.0 prints scores this way (ZSCORE replies, DEBUG DIGEST-VALUE, d2string
 * beyond small integers); 7.2 switched to shortest round-trip digits. Infinities are spelled inf/-inf, as
 * glibc and Redis's addReplyDouble both do. Hand-written: it must match glibc byte for byte and it
 * runs once per score.
 */

// Fast path: toPrecision(17) rounds the exact binary value too (ECMA-262 picks the 17-digit n
// closest to x), so it differs from glibc only where x lies exactly halfway between two 17-digit
// decimals: there it rounds away from zero, glibc to even. A non-integer x = m/2^k (m odd) has an
// exact decimal of k fraction digits ending in 5, and is a tie exactly when m*5^k has 18 digits,
// which needs k <= 25 (5^26 > 10^18). An integer is never a tie: below 10^17 it has at most 17
// digits, and a tie d*10^j (d odd) at or above 10^17 would be a multiple of the double spacing
// there, at least 2^(3j+4), while it holds only j factors of 2. So a few float operations clear
// almost every double, and BigInt settles only the rare candidate.

const TWO_25 = 2 ** 25;

/** The first 17 digits of `a` (> 0) when it is a tie whose 17th digit is even (glibc keeps it), else null. */
function evenTieDigits(a: number): { digits: string; exp: number } | null {
  const frac = a - Math.floor(a); // exact for any double
  if (frac === 0) return null;
  const scaled = frac * TWO_25; // exact: a power-of-two scale
  if (!Number.isInteger(scaled)) return null; // more than 25 binary fraction digits
  const k = 25 - (31 - Math.clz32(scaled & -scaled)); // binary fraction digits of a
  const approx = a * 10 ** k; // m*5^k within a few ulps: only near-18-digit values go on
  if (approx < 0.99e17 || approx >= 1.01e18) return null;
  const digits = (BigInt(a * 2 ** k) * 5n ** BigInt(k)).toString();
  if (digits.length !== 18 || (digits.charCodeAt(16) & 1) === 1) return null;
  return { digits: digits.slice(0, 17), exp: 17 - k };
}

/** The end of s[0, end), which holds a point, without trailing zeros and then a bare point. */
function trimZeros(s: string, end: number): number {
  while (s.charCodeAt(end - 1) === 0x30) end--;
  return s.charCodeAt(end - 1) === 0x2e ? end - 1 : end;
}

/** %g layout of significant `digits` (trailing zeros dropped) whose first digit has decimal exponent `exp`. */
function layout(sign: string, digits: string, exp: number): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
  const d = digits.slice(0, end);
  if (exp < -4 || exp >= 17) {
    const mant = d.length > 1 ? `${d[0]}.${d.slice(1)}` : d;
    const e = exp < 0 ? -exp : exp;
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${d}`;
  if (d.length <= exp + 1) return `${sign}${d}${'0'.repeat(exp + 1 - d.length)}`;
  return `${sign}${d.slice(0, exp + 1)}.${d.slice(exp + 1)}`;
}

/** printf("%.17g", x) as glibc prints it (NaN as `nan`: JS does not keep a NaN's sign). */
export function formatG17(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return 1 / x < 0 ? '-0' : '0';
  const a = x < 0 ? -x : x;
  const sign = x < 0 ? '-' : '';
  const tie = evenTieDigits(a);
  if (tie !== null) return layout(sign, tie.digits, tie.exp);
  const s = a.toPrecision(17);
  const e = s.indexOf('e');
  if (e >= 0) {
    // "d.dddddddddddddddde+X": %g wants at least two exponent digits.
    const exp = s.length - e === 3 ? `${s.slice(e, e + 2)}0${s[e + 2]}` : s.slice(e);
    return sign + s.slice(0, trimZeros(s, e)) + exp;
  }
  // toPrecision writes fixed notation down to 1e-6, %g only down to 1e-4.
  if (s.startsWith('0.0000')) {
    let i = 6;
    while (s.charCodeAt(i) === 0x30) i++;
    return layout(sign, s.slice(i), 1 - i);
  }
  if (s.indexOf('.') < 0) return sign + s; // 17-digit integer
  return sign + s.slice(0, trimZeros(s, s.length));
}
