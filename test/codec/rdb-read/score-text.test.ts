import { describe, expect, it } from 'vitest';
import { formatScore } from '../../../src/codec/rdb/encoding.js';
import { isCanonicalScore, packedScore, strtodPrefix } from '../../../src/codec/rdb/score-text.js';

// strtod(3) in the C locale, written the slow and obvious way: white space, sign, then the longest
// hex, decimal, inf/infinity or nan(...) prefix.
function reference(s: string): number | null {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i]!)) i++;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') sign = s[i++] === '-' ? -1 : 1;
  const rest = s.slice(i).toLowerCase();
  if (rest.startsWith('infinity') || rest.startsWith('inf')) return sign * Infinity;
  if (rest.startsWith('nan')) return NaN;
  const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?/.exec(rest);
  if (hex && (hex[1] || hex[2])) {
    let v = 0;
    for (const c of hex[1]!) v = v * 16 + parseInt(c, 16);
    let scale = 1 / 16;
    for (const c of hex[2] ?? '') {
      v += parseInt(c, 16) * scale;
      scale /= 16;
    }
    return sign * v * 2 ** Number(hex[3] ?? 0);
  }
  let best: number | null = null;
  for (let n = 1; n <= rest.length; n++) {
    const t = rest.slice(0, n);
    if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) best = sign * Number(t);
  }
  return best;
}

describe('strtodPrefix and packedScore', () => {
  it('read every spelling as strtod does: the longest numeric prefix, or none', () => {
    const inputs = ['', '-', '+', '.', '0', '-0', '+0', '.5', '5.', '-.5e-3', '+1E+30', '1e', '1e+', '0x1A', '-0x1A', '0x', '0x.8p1', '0X1P-2', '0b101', '0o17',
      '1_000', '12a', 'a12', ' 1', '1 ', '\t1', '1\n', '\u00a01', '1\u00a0', 'inf', '-INF', '+Infinity', 'infinity', 'infinit', 'nan', 'NaN', '-nan',
      'nan(1a)', 'Infinity1', '1..2', '--1', '256641:677099894', '-83#257.1', '9.380676599368807\xcae-301', '1e400', '1\u00002'];
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    const noise = '0123456789.eE+-x ab\u00c7';
    for (let i = 0; i < 2000; i++) {
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const t = String(x);
      const at = Math.floor(rnd() * (t.length + 1));
      inputs.push(t, x.toPrecision(17), x.toFixed(3), x.toExponential(5), `${t.slice(0, at)}${noise[Math.floor(rnd() * noise.length)]}${t.slice(at)}`);
    }
    for (const s of inputs) {
      expect(Object.is(strtodPrefix(s), reference(s)), JSON.stringify(s)).toBe(true);
      expect(Object.is(packedScore(s), reference(s) ?? 0), JSON.stringify(s)).toBe(true);
    }
  });

  it('cuts listpack score texts at 127 bytes, as zzlStrtod does', () => {
    expect(packedScore('1'.repeat(127) + '5')).toBe(Number('1'.repeat(127)));
    expect(packedScore(' '.repeat(127) + '5')).toBe(0);
  });
});

describe('isCanonicalScore', () => {
  const canonical = (s: string): boolean => isCanonicalScore(Buffer.from(s, 'latin1'), 0, s.length);

  it('never says true for a text that formatScore would print otherwise', () => {
    const inputs = ['', '-', '0', '-0', '00', '01', '0.', '.5', '-.5', '1.0', '1.50', '1e5', '1E5', '+1', ' 1', '1 ', '0x10', 'inf', '-inf', 'nan',
      '0.000001', '0.0000001', '-0.000001', '123456789012345', '1234567890123456', '100000000000000000000', '1.2.3', '1-2', '9007199254740993'];
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(rnd() * 10))).join('');
    for (let i = 0; i < 20000; i++) {
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      inputs.push(String(x), x.toFixed(Math.floor(rnd() * 8)), x.toPrecision(1 + Math.floor(rnd() * 20)));
      // Texts near the rule's edges: up to 18 digits, leading and trailing zeros, a point anywhere.
      const t = digits(1 + Math.floor(rnd() * 18));
      const cut = Math.floor(rnd() * (t.length + 1));
      inputs.push(`${rnd() < 0.3 ? '-' : ''}${t.slice(0, cut) || '0'}.${t.slice(cut) || '0'}`, t, `0.${'0'.repeat(Math.floor(rnd() * 8))}${t}`);
    }
    let accepted = 0;
    for (const s of inputs) {
      if (!canonical(s)) continue;
      accepted++;
      expect(formatScore(strtodPrefix(s)!), s).toBe(s);
    }
    // The rule must accept most canonical texts, or the fast path it guards is never taken.
    expect(accepted).toBeGreaterThan(inputs.length / 3);
  });

  it('says true for the forms Redis stores for ZADD scores', () => {
    for (const s of ['0', '-0', '1', '-1', '42', '123456.789', '-0.5', '0.000001', '3.14159', '999999999999999']) expect(canonical(s), s).toBe(true);
  });
});
