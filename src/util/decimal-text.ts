/**
 * Writes the decimal text of the integer `v` at out[0] and returns its length (`out` holds at
 * least 21 bytes). Safe integers are written digit by digit: a string per integer element cost a
 * tenth of rdb-dump's time and most of a content print's.
 */
export function writeDecimal(v: number | bigint, out: Buffer): number {
  let n = typeof v === 'number' && Number.isSafeInteger(v) ? v : NaN;
  if (Number.isNaN(n)) return out.write(String(v), 0, 'latin1');
  let end = 0;
  if (n < 0) {
    out[end++] = 0x2d;
    n = -n;
  }
  const from = end;
  do {
    out[end++] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  // Reversed in place: a subarray per integer cost as much as the digits.
  for (let i = from, j = end - 1; i < j; i++, j--) {
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return end;
}
