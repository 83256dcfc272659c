import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatScore } from '../../src/codec/rdb/encoding.js';
import { formatG17 } from '../../src/codec/rdb/format-g17.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';

afterAll(stopAllRedis);

/** fixtures/score-texts.txt: IEEE-754 bits and CPython's '%.17g' (fixtures/make-score-texts.py). */
const FIXTURE = readFileSync(new URL('../../fixtures/score-texts.txt', import.meta.url), 'latin1')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => {
    const [hex, text] = l.split(' ') as [string, string];
    return { hex, x: Buffer.from(hex, 'hex').readDoubleBE(0), text };
  });

/** The exact decimal digits of a non-integer double x = m/2^k (m odd): m*5^k. */
function exactDigits(x: number): string | null {
  if (!Number.isFinite(x)) return null;
  let k = 0;
  let a = Math.abs(x);
  while (!Number.isInteger(a)) {
    a *= 2;
    k++;
  }
  return k === 0 ? null : (BigInt(a) * 5n ** BigInt(k)).toString();
}

const isEvenTie = (x: number): boolean => {
  const d = exactDigits(x);
  return d !== null && d.length === 18 && Number(d[16]) % 2 === 0;
};

describe('formatG17 (printf "%.17g")', () => {
  it('matches the fixture on every line, which covers ties, subnormals, ±0, ±inf, 2^53, powers of ten', () => {
    const wrong = FIXTURE.filter(({ x, text }) => formatG17(x) !== text).map(({ hex, x, text }) => `${hex}: want ${text}, got ${formatG17(x)}`);
    expect(wrong.slice(0, 20)).toEqual([]);
    // What the fixture holds, so it cannot quietly lose its hard cases.
    expect(FIXTURE.length).toBeGreaterThan(10_000);
    expect(FIXTURE.filter(({ x }) => isEvenTie(x)).length).toBeGreaterThan(1000);
    expect(FIXTURE.filter(({ x }) => x !== 0 && Math.abs(x) < 2.2250738585072014e-308).length).toBeGreaterThan(300);
    for (const t of ['0', '-0', 'inf', '-inf', '9007199254740992', '9007199254740993' /* not a double */]) {
      expect(FIXTURE.some(({ text }) => text === t)).toBe(t !== '9007199254740993');
    }
  });

  it('rounds exact ties half to even, where toPrecision rounds them away from zero (issue 20)', () => {
    expect(formatG17(-37156243.8642578125)).toBe('-37156243.864257812');
    expect((-37156243.8642578125).toPrecision(17)).toBe('-37156243.864257813');
    expect(formatG17(37156243.8642578125)).toBe('37156243.864257812');
    expect(formatG17(2 ** -25)).toBe('2.9802322387695312e-08'); // 2.98023223876953125e-8
    // 17th digit odd: half to even and away from zero agree.
    expect(formatG17(3 * 2 ** -25)).toBe('8.9406967163085938e-08'); // 8.94069671630859375e-8
  });

  it('prints the %g forms: exponent below 1e-4 and from 1e17, two exponent digits, no trailing zeros', () => {
    const cases: Array<[number, string]> = [
      [1e-5, '1.0000000000000001e-05'],
      [0.0001, '0.0001'],
      [0.1, '0.10000000000000001'],
      [1.5, '1.5'],
      [100, '100'],
      [1e16, '10000000000000000'],
      [1e17, '1e+17'],
      [123456789012345678, '1.2345678901234568e+17'],
      [5e-324, '4.9406564584124654e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [-0, '-0'],
      [NaN, 'nan'],
    ];
    for (const [x, want] of cases) expect(formatG17(x), String(x)).toBe(want);
  });

  it('parses back to the same double on random bit patterns', () => {
    const view = new DataView(new ArrayBuffer(8));
    const shape = /^-?(0|[1-9]\d*)(\.\d*[1-9])?$|^-?\d(\.\d*[1-9])?e[+-]\d\d+$/;
    const wrong: string[] = [];
    let seed = 20n;
    let checked = 0;
    for (let i = 0; i < 50_000; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      view.setBigUint64(0, seed);
      const x = view.getFloat64(0);
      if (!Number.isFinite(x)) continue;
      const s = formatG17(x);
      if (!shape.test(s) || Number(s) !== x) wrong.push(`${x}: ${s}`);
      checked++;
    }
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(49_000);
  });

  it('matches what redis-server 7.0 replies for ZSCORE and ZRANGE WITHSCORES (%.17g)', async () => {
    // A skiplist zset keeps each score as a double (a listpack would store -0 as 0).
    const server = await startRedis({ config: { 'zset-max-listpack-entries': 0 } });
    const c = await server.client();
    const sample = FIXTURE.filter((f, i) => i % 5 === 0 || isEvenTie(f.x) || f.x === 0 || !Number.isFinite(f.x));
    for (let i = 0; i < sample.length; i += 500) {
      await c.call('ZADD', 'z', ...sample.slice(i, i + 500).flatMap(({ hex, x }) => [formatScore(x), hex]));
    }
    const reply = (await c.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')) as Buffer[];
    const got = new Map<string, string>();
    for (let i = 0; i < reply.length; i += 2) got.set(reply[i]!.toString(), reply[i + 1]!.toString());
    expect(got.size).toBe(sample.length);
    const wrong = sample.filter(({ hex, x, text }) => got.get(hex) !== text || formatG17(x) !== text).map(({ hex, x, text }) => `${hex}: fixture ${text}, redis ${got.get(hex)}, ours ${formatG17(x)}`);
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(sample.filter(({ x }) => isEvenTie(x)).length).toBeGreaterThan(1000);
    await c.call('ZADD', 'issue20', '-37156243.8642578125', 'm');
    expect(await c.text('ZSCORE', 'issue20', 'm')).toBe(formatG17(-37156243.8642578125));
    c.close();
  });
});
