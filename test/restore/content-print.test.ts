import { afterAll, describe, expect, it } from 'vitest';
import { dumpPrint } from '../../src/restore/content-print.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';

/**
 * restore --verify's content print (a big key against the target's DUMP of it): the same content
 * prints the same in every encoding a real server picks (listpack, intset, hashtable, skiplist,
 * quicklist nodes of any size), and changed content prints differently.
 */

afterAll(stopAllRedis);

describe('dumpPrint', () => {
  it('one print per content whatever the encoding; another content, another print', async () => {
    const server = await startRedis();
    const c = await server.client();
    const n = 300;
    const ints = Array.from({ length: n }, (_, i) => String(i * 7 - 50));
    const words = Array.from({ length: n }, (_, i) => `w${i}`);
    // Scores that a listpack stores as integers, as short text and as 17 digits; one -0.
    const scores = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? String(i) : i % 3 === 1 ? String(i / 4) : String(i / 3)));
    scores[5] = '-0';
    const fill = async (suffix: string): Promise<void> => {
      await c.call('RPUSH', `list${suffix}`, ...ints, ...words);
      await c.call('SADD', `ints${suffix}`, ...ints);
      await c.call('SADD', `set${suffix}`, ...words);
      await c.call('HSET', `hash${suffix}`, ...words.flatMap((w, i) => [w, ints[i]!]));
      await c.call('ZADD', `zset${suffix}`, ...words.flatMap((w, i) => [scores[i]!, w]));
      for (let i = 0; i < n; i++) await c.call('XADD', `stream${suffix}`, `${i + 1}-${i % 2}`, 'f', ints[i]!, 'g', words[i]!);
    };
    const encodings = async (suffix: string): Promise<string[]> => {
      const out: string[] = [];
      for (const k of ['list', 'ints', 'set', 'hash', 'zset']) out.push(String(await c.call('OBJECT', 'ENCODING', `${k}${suffix}`)));
      return out;
    };
    // Compact encodings first, then the same content with every threshold at its lowest.
    for (const [k, v] of Object.entries({ 'list-max-listpack-size': '-2', 'set-max-intset-entries': '512', 'hash-max-listpack-entries': '1024', 'zset-max-listpack-entries': '1024', 'stream-node-max-entries': '100' })) await c.call('CONFIG', 'SET', k, v);
    await fill('A');
    for (const [k, v] of Object.entries({ 'list-max-listpack-size': '1', 'set-max-intset-entries': '0', 'hash-max-listpack-entries': '0', 'zset-max-listpack-entries': '0', 'stream-node-max-entries': '1' })) await c.call('CONFIG', 'SET', k, v);
    await fill('B');
    expect(await encodings('A')).toEqual(['quicklist', 'intset', 'hashtable', 'listpack', 'listpack']);
    expect(await encodings('B')).toEqual(['quicklist', 'hashtable', 'hashtable', 'hashtable', 'skiplist']);
    const print = async (key: string): Promise<string | null> => dumpPrint([(await c.call('DUMP', key)) as Buffer], key);
    const prints = new Set<string>();
    for (const k of ['list', 'ints', 'set', 'hash', 'zset', 'stream']) {
      const a = await print(`${k}A`);
      expect(a, k).toMatch(new RegExp(`^${k === 'ints' ? 'set' : k} of ${k === 'list' ? 2 * n : n} elements, content [0-9a-f]{16}$`));
      expect(await print(`${k}B`), k).toBe(a);
      prints.add(a!);
    }
    expect(prints.size).toBe(6);
    // -0 and 0 print the same (a listpack keeps -0 as the integer 0).
    await c.call('ZADD', 'zsetB', '0', 'w5');
    expect(await print('zsetB')).toBe(await print('zsetA'));
    // Changes: an element, the order, a score, a value, a stream field.
    const before = await print('listB');
    await c.call('LSET', 'listB', 0, ints[1]!);
    await c.call('LSET', 'listB', 1, ints[0]!);
    expect(await print('listB')).not.toBe(before);
    await c.call('ZADD', 'zsetB', '1e-300', 'w7');
    expect(await print('zsetB')).not.toBe(await print('zsetA'));
    await c.call('HSET', 'hashB', 'w9', 'x');
    expect(await print('hashB')).not.toBe(await print('hashA'));
    await c.call('SADD', 'setB', 'w0 ');
    expect(await print('setB')).not.toBe(await print('setA'));
    // A DUMP cut anywhere gives the same print as whole.
    const whole = (await c.call('DUMP', 'streamA')) as Buffer;
    for (const cut of [1, 2, 5, 11, whole.length - 9, whole.length - 1]) expect(await dumpPrint([whole.subarray(0, cut), whole.subarray(cut)], 'cut'), String(cut)).toBe(await print('streamA'));
    // A string has no print; a damaged payload is an error naming what it expected.
    await c.call('SET', 'str', 'v');
    expect(await print('str')).toBeNull();
    await expect(dumpPrint([whole.subarray(0, 40), whole.subarray(60)], 'DUMP of streamA')).rejects.toThrow(/DUMP of streamA/);
    c.close();
  }, 120_000);
});
