import { describe, expect, it } from 'vitest';
import { parseScoreText } from '../../../src/codec/rdb/blob-error.js';

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
