import { describe, it } from 'vitest';
import { expectSameAsServer, liveServerAndEngine, runBoth } from './harness.js';

const env = liveServerAndEngine();

const FAR = 4102444800000; // 2100-01-01, so nothing expires during the test

describe('engine: strings against redis-server 7.0', () => {
  it('SET options, SETNX/SETEX/GETSET/GETDEL/GETEX, MSET(NX), APPEND, SETRANGE, INCR family', async () => {
    await runBoth(env.c, env.ks, [
      ['SET', 'a', '1'],
      ['SET', 'a', '2', 'NX'],
      ['SET', 'b', '2', 'XX'],
      ['SET', 'a', '3', 'XX', 'GET'],
      ['SET', 'ttl', 'v', 'PXAT', FAR],
      ['SET', 'ttl', 'w', 'KEEPTTL'],
      ['SET', 'ttl2', 'v', 'EXAT', FAR / 1000],
      ['SET', 'ttl2', 'x'],
      ['SET', 'bad', 'v', 'EX', 0],
      ['SET', 'bad', 'v', 'EX', 10, 'PX', 10],
      ['SET', 'bad', 'v', 'NX', 'XX'],
      ['SETNX', 'a', 'x'],
      ['SETNX', 'n', 'x'],
      ['GETSET', 'n', 'y'],
      ['GETDEL', 'n'],
      ['SET', 'g', 'v'],
      ['GETEX', 'g', 'PXAT', FAR + 5],
      ['GETEX', 'ttl', 'PERSIST'],
      ['MSET', 'm1', 'a', 'm2', 'b'],
      ['MSETNX', 'm2', 'x', 'm3', 'y'],
      ['MSETNX', 'm4', 'x', 'm5', 'y'],
      ['APPEND', 'm1', 'bc'],
      ['APPEND', 'new', 'abc'],
      ['SETRANGE', 'new', 10, 'zz'],
      ['SETRANGE', 'none', 0, ''],
      ['SETRANGE', 'sr', 3, 'x'],
      ['INCR', 'i'],
      ['INCRBY', 'i', 41],
      ['DECR', 'i'],
      ['DECRBY', 'i', -5],
      ['INCR', 'm1'],
      ['SET', 'big', '9223372036854775807'],
      ['INCR', 'big'],
      ['SET', 'f', '10.5'],
      ['INCRBYFLOAT', 'f', '0.1'],
      ['INCRBYFLOAT', 'f', '5.0e3'],
      ['INCRBYFLOAT', 'fi', '3'],
      ['INCRBYFLOAT', 'f', 'abc'],
      ['SET', 'sp', ' 1'],
      ['INCR', 'sp'],
      ['SET', 'lz', '01'],
      ['INCR', 'lz'],
      ['RPUSH', 'list', 'x'],
      ['SET', 'list', 'v', 'GET'],
      ['APPEND', 'list', 'x'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('a string key keeps its TTL through every change of how it is held (bare text, holder, big value)', async () => {
    const big = 'b'.repeat(600); // past the engine's small-string size: held as bytes
    await runBoth(env.c, env.ks, [
      ['SET', 'k', 'v'],
      ['PEXPIREAT', 'k', FAR],
      ['SET', 'k', 'w', 'KEEPTTL'],
      ['PERSIST', 'k'],
      ['EXPIREAT', 'k', FAR / 1000 + 1],
      ['SET', 'c', '5', 'PXAT', FAR + 2],
      ['INCR', 'c'],
      ['INCRBY', 'c', 100],
      ['DECR', 'c'],
      ['INCR', 'fresh'],
      ['PEXPIREAT', 'fresh', FAR + 3],
      ['INCR', 'fresh'],
      ['SET', 'r', 'x', 'PXAT', FAR + 4],
      ['RENAME', 'r', 'r2'],
      ['SET', 'plain', 'p'],
      ['RENAME', 'plain', 'plain2'],
      ['SET', 'mv', 'm', 'PXAT', FAR + 5],
      ['MOVE', 'mv', 3],
      ['SET', 'g', 'v', 'PXAT', FAR + 6],
      ['GETEX', 'g', 'PERSIST'],
      ['GETEX', 'g', 'PXAT', FAR + 7],
      ['SET', 'big', big],
      ['PEXPIREAT', 'big', FAR + 8],
      ['APPEND', 'big', 'tail'],
      ['SET', 'big2', big, 'PXAT', FAR + 9],
      ['PERSIST', 'big2'],
      ['SET', 'k2', 'v', 'PXAT', FAR + 10],
      ['SET', 'k2', 'w'],
      ['COPY', 'c', 'c2'],
      ['SET', 'nx', '1', 'NX', 'GET'],
      ['SET', 'nx', '2', 'NX'],
      ['SET', 'xx', '1', 'XX'],
      ['SET', 'nx', '3', 'XX', 'PXAT', FAR + 11],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('long APPEND runs grow in place without leaking into a COPY of the key', async () => {
    const appends = Array.from({ length: 300 }, (_, i) => ['APPEND', 'log', `line ${i}\n`]);
    await runBoth(env.c, env.ks, [
      ...appends,
      ['COPY', 'log', 'log2'],
      ['APPEND', 'log2', 'copy-tail'],
      ['APPEND', 'log', 'orig-tail'],
      ['APPEND', 'log2', 'more'],
      ['SETRANGE', 'log', 2, 'XY'],
      ['APPEND', 'log', 'end'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('SETBIT, BITOP, BITFIELD with overflow policies', async () => {
    await runBoth(env.c, env.ks, [
      ['SETBIT', 'b1', 7, 1],
      ['SETBIT', 'b1', 100, 1],
      ['SETBIT', 'b2', 3, 1],
      ['SETBIT', 'b2', 2, 0],
      ['SETBIT', 'b2', 2, 2],
      ['SETBIT', 'b3', -1, 1],
      ['BITOP', 'AND', 'and', 'b1', 'b2'],
      ['BITOP', 'OR', 'or', 'b1', 'b2', 'missing'],
      ['BITOP', 'XOR', 'xor', 'b1', 'b2'],
      ['BITOP', 'NOT', 'not', 'b1'],
      ['BITOP', 'NOT', 'not2', 'b1', 'b2'],
      ['BITOP', 'AND', 'b1', 'nothing', 'nothing2'],
      ['BITFIELD', 'bf', 'SET', 'i8', 0, 100, 'INCRBY', 'i8', 0, 100],
      ['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', 0, 100, 'INCRBY', 'u4', '#3', 20],
      ['BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', 16, 300, 'SET', 'u2', 100, 7],
      ['BITFIELD', 'bf', 'SET', 'i64', 200, -123456789, 'INCRBY', 'u63', 300, 5],
      ['BITFIELD', 'ro', 'GET', 'u8', 0],
      ['BITFIELD', 'bf2', 'OVERFLOW', 'WRAP', 'INCRBY', 'i5', 3, 40, 'SET', 'u1', 1000, 3],
      ['BITFIELD', 'bf3', 'SET', 'u64', 0, 1],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('keys: DEL/UNLINK, EXPIRE family with NX/XX/GT/LT, PERSIST, RENAME(NX), MOVE, COPY, SWAPDB, FLUSHDB, SELECT', async () => {
    await runBoth(env.c, env.ks, [
      ['MSET', 'k1', 'a', 'k2', 'b', 'k3', 'c', 'k4', 'd'],
      ['DEL', 'k1', 'nope'],
      ['UNLINK', 'k2'],
      ['PEXPIREAT', 'k3', FAR],
      ['PEXPIREAT', 'k3', FAR + 10, 'NX'],
      ['PEXPIREAT', 'k3', FAR + 10, 'XX'],
      ['PEXPIREAT', 'k3', FAR + 5, 'GT'],
      ['PEXPIREAT', 'k3', FAR + 5, 'LT'],
      ['PEXPIREAT', 'k4', FAR, 'GT'],
      ['PEXPIREAT', 'k4', FAR, 'LT'],
      ['EXPIREAT', 'k4', FAR / 1000 + 7, 'XX', 'GT'],
      ['PEXPIREAT', 'k4', FAR, 'NX', 'XX'],
      ['PERSIST', 'k3'],
      ['SET', 'r', '1', 'PXAT', FAR],
      ['RENAME', 'r', 'r2'],
      ['RENAME', 'missing', 'x'],
      ['RENAMENX', 'r2', 'k4'],
      ['RENAMENX', 'r2', 'r3'],
      ['RPUSH', 'l', 'a', 'b'],
      ['MOVE', 'l', 3],
      ['MOVE', 'k4', 0],
      ['COPY', 'r3', 'c1'],
      ['COPY', 'r3', 'k4'],
      ['COPY', 'r3', 'k4', 'REPLACE'],
      ['COPY', 'r3', 'other', 'DB', 5],
      ['SWAPDB', 0, 5],
      ['SELECT', 5],
      ['SET', 'in5', 'x'],
      ['SELECT', 3],
      ['RPUSH', 'l', 'c'],
      ['COPY', 'l', 'lc'],
      ['RPUSH', 'lc', 'd'],
      ['SELECT', 9],
      ['SET', 'x', 'y'],
      ['FLUSHDB'],
      ['SELECT', 0],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });
});
