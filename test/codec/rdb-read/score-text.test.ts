import { describe, expect, it } from 'vitest';
import { parseScoreText } from '../../../src/codec/rdb/blob-error.js';
import { formatScore, isCanonicalScore } from '../../../src/codec/rdb/encoding.js';

// parseScoreText's fast path must not change what it accepts: compare it with the plain rule
// (inf spellings in any case, no surrounding whitespace, then Number()).
const plain = (s: string): number => {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return s.length > 0 && s.trim() === s ? Number(s) : NaN;
};

describe('parseScoreText', () => {
  it('reads every spelling as the plain rule does', () => {
    const inputs = ['', '-', '+', '.', '0', '-0', '+0', '.5', '5.', '-.5e-3', '+1E+30', '1e', '0x1A', '-0x1A', '1_000', '12a', 'a12',
      ' 1', '1 ', '\t1', '1\n', '\u00a01', '1\u00a0', 'inf', '-INF', '+Infinity', 'infinity', 'nan', 'NaN', '-nan', 'Infinity1', '1..2', '--1'];
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < 2000; i++) {
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      inputs.push(String(x), x.toPrecision(17), x.toFixed(3), x.toExponential(5), `${x}`.replace('e', 'E'));
    }
    for (const s of inputs) expect(Object.is(parseScoreText(s), plain(s)), JSON.stringify(s)).toBe(true);
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
      expect(formatScore(parseScoreText(s)), s).toBe(s);
    }
    // The rule must accept most canonical texts, or the fast path it guards is never taken.
    expect(accepted).toBeGreaterThan(inputs.length / 3);
  });

  it('says true for the forms Redis stores for ZADD scores', () => {
    for (const s of ['0', '-0', '1', '-1', '42', '123456.789', '-0.5', '0.000001', '3.14159', '999999999999999']) expect(canonical(s), s).toBe(true);
  });
});
