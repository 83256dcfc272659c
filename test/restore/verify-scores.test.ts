import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { cli, saveRdb, tempDir } from './helpers.js';

afterAll(stopAllRedis);

/**
 * Doubles exactly halfway between two 17-digit decimals: m/2^k (m odd) with m*5^k of 18 digits.
 * Redis <= 7.0 prints them with glibc's %.17g (half to even) in DEBUG DIGEST-VALUE (issue 20).
 */
function halfwayScores(n: number): number[] {
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const out = [-37156243.8642578125];
  while (out.length < n) {
    const k = 2 + Math.floor(rnd() * 24);
    const p = 5n ** BigInt(k);
    const lo = (10n ** 17n + p - 1n) / p;
    let hi = (10n ** 18n - 1n) / p;
    if (hi > 2n ** 53n - 1n) hi = 2n ** 53n - 1n;
    if (lo > hi) continue;
    const m = (lo + BigInt(Math.floor(rnd() * Number(hi - lo + 1n)))) | 1n;
    if (m > hi) continue;
    out.push((rnd() < 0.5 ? -1 : 1) * (Number(m) / 2 ** k));
  }
  return out;
}

describe('restore --verify with zset scores that %.17g rounds half to even', () => {
  it('passes on keys restored exactly: listpack and skiplist zsets, integers with trailing zeros', async () => {
    const scores = halfwayScores(800);
    const source = await startRedis();
    const c = await source.client();
    for (let i = 0; i < 600; i++) await c.call('ZADD', `single:${i}`, String(scores[i]), 'm');
    await c.call('ZADD', 'packed', ...scores.slice(600, 650).flatMap((s, i) => [String(s), `p${i}`]));
    await c.call('ZADD', 'skiplist', ...scores.slice(600).flatMap((s, i) => [String(s), `s${i}`]));
    await c.call('ZADD', 'integers', '1e16', 'a', '-2e17', 'b', '9007199254740992', 'c', '1e22', 'd', 'inf', 'e', '-inf', 'f');
    expect(await c.text('OBJECT', 'ENCODING', 'packed')).toBe('listpack');
    expect(await c.text('OBJECT', 'ENCODING', 'skiplist')).toBe('skiplist');
    c.close();
    const rdb = await saveRdb(source, join(tempDir(), 'dump.rdb'));

    const target = await startRedis();
    const r = cli(['restore', rdb, '--to', target.url, '--verify', '--json']);
    expect(r.stderr).toBe('');
    const rep = JSON.parse(r.stdout) as { verify: { ok: boolean; method: string; checked: number; mismatches: Array<{ key: string }> } };
    expect(rep.verify.mismatches).toEqual([]);
    expect(rep.verify.method).toBe('digest');
    expect(rep.verify.checked).toBe(603);
    expect(rep.verify.ok).toBe(true);
    expect(r.code).toBe(0);
    expect(await debugDigest(target)).toBe(await debugDigest(source));
  });
});
