import { describe, it } from 'vitest';
import { expectSameAsServer, liveServerAndEngine, runBoth } from './harness.js';

const env = liveServerAndEngine();

describe('engine: collections against redis-server 7.0', () => {
  it('lists: pushes, pops with counts, LINSERT, LSET, LREM, LTRIM, LMOVE, RPOPLPUSH, LMPOP, blocking forms', async () => {
    await runBoth(env.c, env.ks, [
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'a', 'b', 'a'],
      ['LPUSH', 'l', 'x', 'y'],
      ['LPUSHX', 'nol', 'x'],
      ['RPUSHX', 'l', 'z'],
      ['LPOP', 'l'],
      ['RPOP', 'l', 2],
      ['LPOP', 'l', 0],
      ['LINSERT', 'l', 'BEFORE', 'c', 'bc'],
      ['LINSERT', 'l', 'AFTER', 'c', 'cd'],
      ['LINSERT', 'l', 'AFTER', 'zz', 'cd'],
      ['LSET', 'l', -1, 'last'],
      ['LSET', 'l', 100, 'x'],
      ['LREM', 'l', 1, 'a'],
      ['LREM', 'l', -1, 'b'],
      ['RPUSH', 'r', 'a', 'b', 'a', 'c', 'a'],
      ['LREM', 'r', 0, 'a'],
      ['RPUSH', 't', 1, 2, 3, 4, 5, 6, 7],
      ['LTRIM', 't', 1, -2],
      ['LTRIM', 't', 10, 20],
      ['RPUSH', 'm', 1, 2, 3],
      ['LMOVE', 'm', 'm2', 'LEFT', 'RIGHT'],
      ['LMOVE', 'm', 'm', 'RIGHT', 'LEFT'],
      ['RPOPLPUSH', 'm', 'm2'],
      ['SET', 'str', 'x'],
      ['LMOVE', 'm', 'str', 'LEFT', 'LEFT'],
      ['LMPOP', 2, 'empty', 'm2', 'RIGHT', 'COUNT', 5],
      ['RPUSH', 'q', 'a', 'b', 'c'],
      ['BLPOP', 'none', 'q', 0],
      ['BRPOP', 'q', 1],
      ['BLMOVE', 'q', 'q2', 'LEFT', 'LEFT', 0],
      ['BLMPOP', 0, 1, 'q2', 'LEFT'],
      ['LPUSH', 'str', 'x'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('sets: SADD, SREM, SMOVE, SPOP that empties, SINTERSTORE/SUNIONSTORE/SDIFFSTORE', async () => {
    await runBoth(env.c, env.ks, [
      ['SADD', 's1', 'a', 'b', 'c', 'd', 1, 2, 3],
      ['SADD', 's2', 'c', 'd', 'e', 2],
      ['SREM', 's1', 'a', 'zz'],
      ['SMOVE', 's1', 's3', 'b'],
      ['SMOVE', 's1', 's3', 'nope'],
      ['SADD', 'one', 'x'],
      ['SMOVE', 'one', 's3', 'x'],
      ['SINTERSTORE', 'i', 's1', 's2'],
      ['SINTERSTORE', 'i2', 's1', 'missing'],
      ['SUNIONSTORE', 'u', 's1', 's2', 's3'],
      ['SDIFFSTORE', 'd', 's1', 's2'],
      ['SDIFFSTORE', 's1', 's1', 's1'],
      ['SADD', 'p', 'a', 'b'],
      ['SPOP', 'p', 5],
      ['SET', 'str', 'v'],
      ['SUNIONSTORE', 'u2', 's2', 'str'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('sorted sets: ZADD flags, ZINCRBY, ZREM, ZREMRANGEBY*, Z*STORE with weights/aggregate, pops, ZRANGESTORE', async () => {
    await runBoth(env.c, env.ks, [
      ['ZADD', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', '-inf', 'neg', '+inf', 'pos'],
      ['ZADD', 'z', 'NX', 10, 'a', 6, 'f'],
      ['ZADD', 'z', 'XX', 'CH', 20, 'b', 7, 'g'],
      ['ZADD', 'z', 'GT', 1, 'c', 30, 'd'],
      ['ZADD', 'z', 'LT', 0.5, 'e', 99, 'f'],
      ['ZADD', 'z', 'INCR', 2.5, 'a'],
      ['ZADD', 'z', 'NX', 'GT', 1, 'a'],
      ['ZADD', 'z', 1, 'a', 'nan', 'b'],
      ['ZADD', 'z', 'INCR', 1, 'a', 2, 'b'],
      ['ZINCRBY', 'z', -1.25, 'c'],
      ['ZINCRBY', 'zi', 5, 'new'],
      ['ZADD', 'inf', '+inf', 'x'],
      ['ZINCRBY', 'inf', '-inf', 'x'],
      ['ZREM', 'z', 'neg', 'zz'],
      ['ZADD', 'r', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f'],
      ['ZREMRANGEBYSCORE', 'r', '(1', 2],
      ['ZREMRANGEBYRANK', 'r', -1, -1],
      ['ZADD', 'lex', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e'],
      ['ZREMRANGEBYLEX', 'lex', '[b', '(d'],
      ['ZADD', 'w1', 1, 'a', 2, 'b', 3, 'c'],
      ['ZADD', 'w2', 10, 'b', 20, 'c', 30, 'd'],
      ['SADD', 'ws', 'a', 'd', 'x'],
      ['ZUNIONSTORE', 'u', 3, 'w1', 'w2', 'ws', 'WEIGHTS', 2, 0.5, 3],
      ['ZUNIONSTORE', 'umax', 2, 'w1', 'w2', 'AGGREGATE', 'MAX'],
      ['ZINTERSTORE', 'i', 2, 'w1', 'w2', 'AGGREGATE', 'MIN'],
      ['ZINTERSTORE', 'i2', 2, 'w1', 'ws'],
      ['ZDIFFSTORE', 'd', 2, 'w1', 'w2'],
      ['ZUNIONSTORE', 'ninf', 2, 'inf', 'z', 'WEIGHTS', 0, 1],
      ['ZADD', 'p', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e'],
      ['ZPOPMIN', 'p'],
      ['ZPOPMAX', 'p', 2],
      ['BZPOPMIN', 'none', 'p', 0],
      ['ZMPOP', 1, 'w1', 'MAX', 'COUNT', 2],
      ['BZMPOP', 0, 2, 'none', 'w2', 'MIN'],
      ['ZADD', 'src', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 0, 'x', 0, 'y'],
      ['ZRANGESTORE', 'rs1', 'src', 1, 2],
      ['ZRANGESTORE', 'rs2', 'src', '(1', '+inf', 'BYSCORE', 'LIMIT', 1, 2],
      ['ZRANGESTORE', 'rs3', 'src', '+inf', 2, 'BYSCORE', 'REV'],
      ['ZRANGESTORE', 'rs4', 'src', '[y', '-', 'BYLEX', 'REV'],
      ['ZRANGESTORE', 'rs5', 'src', 10, 20],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('SORT ... STORE: numeric with tie-break, ALPHA, DESC, LIMIT, BY/GET patterns with ->field, nosort', async () => {
    await runBoth(env.c, env.ks, [
      ['RPUSH', 'l', 3, 1, 2, 10, '1.5', 2, ' 7', ''],
      ['SADD', 's', 'b', 'a', 'c', 'aa', 'B'],
      ['ZADD', 'z', 3, 'x', 1, 'y', 2, 'w'],
      ['MSET', 'w_1', 30, 'w_2', 10, 'w_3', 20, 'w_10', 5, 'o_1', 'one', 'o_2', 'two'],
      ['HSET', 'h_1', 'f', 'h1'],
      ['HSET', 'h_3', 'f', 'h3'],
      ['SORT', 'l', 'STORE', 'r1'],
      ['SORT', 'l', 'DESC', 'LIMIT', 1, 3, 'STORE', 'r2'],
      ['SORT', 's', 'ALPHA', 'STORE', 'r3'],
      ['SORT', 's', 'STORE', 'r4'],
      ['SORT', 's', 'BY', 'nosort', 'STORE', 'r5'],
      ['SORT', 'z', 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2, 'STORE', 'r6'],
      ['SORT', 'l', 'BY', 'w_*', 'GET', '#', 'GET', 'o_*', 'GET', 'h_*->f', 'STORE', 'r7'],
      ['SORT', 'l', 'BY', 'o_*', 'ALPHA', 'DESC', 'STORE', 'r8'],
      ['SORT', 'missing', 'STORE', 'r1'],
      ['SORT', 'l', 'LIMIT', 100, 5, 'STORE', 'r2'],
      ['SORT', 'w_1', 'STORE', 'r9'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('hashes: HSET/HMSET/HSETNX/HDEL/HINCRBY/HINCRBYFLOAT', async () => {
    await runBoth(env.c, env.ks, [
      ['HSET', 'h', 'a', 1, 'b', 2, 'c', 3],
      ['HMSET', 'h', 'd', 4],
      ['HSET', 'h', 'odd'],
      ['HSETNX', 'h', 'a', 'x'],
      ['HSETNX', 'h', 'e', 'x'],
      ['HDEL', 'h', 'b', 'zz'],
      ['HINCRBY', 'h', 'a', 10],
      ['HINCRBY', 'h', 'e', 1],
      ['HINCRBY', 'h', 'new', -3],
      ['HINCRBYFLOAT', 'h', 'f', '1.1'],
      ['HINCRBYFLOAT', 'h', 'f', '2.2e1'],
      ['HSET', 'one', 'x', 'y'],
      ['HDEL', 'one', 'x'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });
});
