/**
 * sin, cos and asin rounded correctly to the nearest double. Redis's GEO distances come from
 * glibc, whose results are (all but always) the correctly rounded ones, while V8's fdlibm ports
 * can be one unit in the last place off, which shows in GEOSEARCHSTORE ... STOREDIST scores.
 * Evaluated in 160-bit fixed point with BigInt; only used by the GEO search commands.
 */

const P = 160n;
const ONE = 1n << P;

function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  // x = m * 2^e exactly; scale by 2^P (exact for the magnitudes the haversine sees).
  const e = Math.floor(Math.log2(Math.abs(x))) - 52;
  const m = BigInt(x / 2 ** e);
  const shift = BigInt(e) + P;
  return shift >= 0n ? m << shift : m >> -shift;
}

function toDouble(v: bigint): number {
  // Number(bigint) rounds to nearest (ties to even); dividing by a power of two is exact.
  return Number(v) / 2 ** Number(P);
}

function mul(a: bigint, b: bigint): bigint {
  return (a * b) >> P;
}

/** sin and cos of a fixed-point angle (|x| <= 4) by their Taylor series. */
function sinCosFixed(x: bigint): [bigint, bigint] {
  const x2 = mul(x, x);
  let s = x;
  let term = x;
  for (let k = 1n; term !== 0n; k++) {
    term = -mul(term, x2) / ((2n * k) * (2n * k + 1n));
    s += term;
  }
  let c = ONE;
  term = ONE;
  for (let k = 1n; term !== 0n; k++) {
    term = -mul(term, x2) / ((2n * k - 1n) * (2n * k));
    c += term;
  }
  return [s, c];
}

export function crSin(x: number): number {
  if (x === 0 || !Number.isFinite(x) || Math.abs(x) > 4) return Math.sin(x);
  return toDouble(sinCosFixed(toFixed(x))[0]);
}

export function crCos(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 4) return Math.cos(x);
  return toDouble(sinCosFixed(toFixed(x))[1]);
}

/** asin by Newton steps on sin from V8's estimate (already within an ulp or so). */
export function crAsin(y: number): number {
  if (y === 0 || !(Math.abs(y) < 0.9999)) return Math.asin(y);
  const target = toFixed(y);
  let t = toFixed(Math.asin(y));
  for (let i = 0; i < 3; i++) {
    const [s, c] = sinCosFixed(t);
    t -= ((s - target) << P) / c;
  }
  return toDouble(t);
}
