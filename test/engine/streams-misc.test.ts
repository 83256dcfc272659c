import { describe, expect, it } from 'vitest';
import { UnsupportedCommandError } from '../../src/engine/errors.js';
import { expectSameAsServer, liveServerAndEngine, runBoth } from './harness.js';

const env = liveServerAndEngine();

const T = 1700000000000;

describe('engine: streams, HyperLogLog, geo, functions, RESTORE, MULTI against redis-server 7.0', () => {
  it('streams: XADD ids and trimming, XTRIM, XDEL, XGROUP *, XCLAIM replicated form, XACK, XSETID', async () => {
    await runBoth(env.c, env.ks, [
      ['XADD', 's', '1-1', 'f', 'v'],
      ['XADD', 's', '1-*', 'a', 'b'],
      ['XADD', 's', '1-0', 'a', 'b'],
      ['XADD', 's', '2', 'a', 'b', 'c', 'd'],
      ['XADD', 's', '3-0', 'f', 'v'],
      ['XADD', 's', '4-0', 'f', 'v'],
      ['XADD', 's', 'MAXLEN', '=', 4, '5-0', 'x', 'y'],
      ['XADD', 's', 'MINID', '=', '2-0', '6-0', 'x', 'y'],
      ['XADD', 's', 'NOMKSTREAM', '7-0', 'x', 'y'],
      ['XADD', 'nos', 'NOMKSTREAM', '7-0', 'x', 'y'],
      ['XADD', 's', '0-0', 'x', 'y'],
      ['XTRIM', 's', 'MAXLEN', 5],
      ['XDEL', 's', '6-0', '99-0'],
      ['XDEL', 's', '3-0'],
      ['XGROUP', 'CREATE', 's', 'g1', '$'],
      ['XGROUP', 'CREATE', 's', 'g2', '0'],
      ['XGROUP', 'CREATE', 's', 'g2', '0'],
      ['XGROUP', 'CREATE', 's', 'g3', '4-0', 'ENTRIESREAD', 2],
      ['XGROUP', 'CREATE', 'ms', 'g', '$', 'MKSTREAM'],
      ['XGROUP', 'CREATE', 'nokey', 'g', '$'],
      ['XGROUP', 'SETID', 's', 'g2', '4-0', 'ENTRIESREAD', 3],
      ['XGROUP', 'SETID', 's', 'g3', '$'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g1', 'alice'],
      ['XCLAIM', 's', 'g2', 'bob', 0, '4-0', 'TIME', T, 'RETRYCOUNT', 1, 'FORCE', 'JUSTID', 'LASTID', '4-0'],
      ['XCLAIM', 's', 'g2', 'bob', 0, '5-0', 'TIME', T + 1, 'RETRYCOUNT', 1, 'FORCE', 'JUSTID', 'LASTID', '5-0'],
      ['XCLAIM', 's', 'g2', 'carol', 0, '5-0', 'TIME', T + 2, 'RETRYCOUNT', 3, 'FORCE', 'JUSTID', 'LASTID', '5-0'],
      ['XCLAIM', 's', 'g2', 'carol', 0, '7-0', 'TIME', T + 3, 'RETRYCOUNT', 1, 'FORCE', 'JUSTID', 'LASTID', '7-0'],
      ['XCLAIM', 's', 'g2', 'dave', 0, '3-0', 'TIME', T + 3, 'FORCE', 'JUSTID'],
      ['XCLAIM', 's', 'g1', 'alice', 0, '7-0', 'TIME', T + 4, 'FORCE'],
      ['XACK', 's', 'g2', '4-0', '9-9'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g2', 'erin'],
      ['XGROUP', 'DELCONSUMER', 's', 'g1', 'alice'],
      ['XGROUP', 'CREATE', 's', 'gone', '$'],
      ['XGROUP', 'DESTROY', 's', 'gone'],
      ['XADD', 'e', 'MAXLEN', 0, '0-1', 'x', 'y'],
      ['XSETID', 'e', '10-0', 'ENTRIESADDED', 50, 'MAXDELETEDID', '9-0'],
      ['XSETID', 's', '1-0'],
      ['XSETID', 's', '100-0', 'ENTRIESADDED', 1],
      ['XSETID', 'e', '5-0', 'MAXDELETEDID', '6-0'],
      ['XADD', 'e', '11-0', 'a', 'b'],
      ['XADD', 't', '1-0', 'a', 'b'],
      ['XADD', 't', '2-0', 'a', 'b'],
      ['XDEL', 't', '1-0'],
      ['XTRIM', 't', 'MINID', '5-0'],
    ]);
    await expectSameAsServer(env.c, env.ks, true);
  });

  it('HyperLogLog: PFADD sparse and promoted to dense, PFMERGE, PFCOUNT cache write', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `el-${i}`);
    await runBoth(env.c, env.ks, [
      ['PFADD', 'h1', 'a', 'b', 'c'],
      ['PFADD', 'h1', 'a'],
      ['PFADD', 'empty'],
      ['PFADD', 'h2', ...many.slice(0, 200)],
      ['PFCOUNT', 'h2'],
      ['PFADD', 'h3', ...many],
      ['PFCOUNT', 'h3'],
      ['PFCOUNT', 'h1', 'h2'],
      ['PFMERGE', 'm1', 'h1', 'h2'],
      ['PFMERGE', 'm2', 'h1', 'h3'],
      ['PFMERGE', 'h1', 'h2'],
      ['PFCOUNT', 'm1'],
      ['SET', 'str', 'not an hll'],
      ['PFADD', 'str', 'x'],
      ['PFADD', 'h4', ...Array.from({ length: 40 }, (_, i) => `x${i * 7919}`)],
    ]);
    for (let i = 0; i < 60; i++) await runBoth(env.c, env.ks, [['PFADD', 'inc', `e${i}`, `f${i * 3}`]]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('GEOADD stores the geohash scores Redis computes', async () => {
    await runBoth(env.c, env.ks, [
      ['GEOADD', 'g', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'],
      ['GEOADD', 'g', 'NX', -122.27652, 37.805186, 'Oakland', 0, 0, 'null-island', 180, 85.05112878, 'corner'],
      ['GEOADD', 'g', 'XX', 'CH', -73.9454966, 40.747533, 'Palermo'],
      ['GEOADD', 'g', 200, 10, 'bad'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('GEOSEARCHSTORE and GEORADIUS[BYMEMBER] ... STORE/STOREDIST store what Redis stores', async () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pts: Array<string | number> = [];
    for (let i = 0; i < 300; i++) pts.push(12 + rnd() * 4, 40 + rnd() * 3, `p${i}`);
    await runBoth(env.c, env.ks, [
      ['GEOADD', 'pts', ...pts],
      ['GEOSEARCHSTORE', 'r1', 'pts', 'FROMLONLAT', 14, 41.5, 'BYRADIUS', 80, 'km'],
      ['GEOSEARCHSTORE', 'r2', 'pts', 'FROMMEMBER', 'p7', 'BYRADIUS', 50000, 'm', 'STOREDIST'],
      ['GEOSEARCHSTORE', 'r3', 'pts', 'FROMLONLAT', 13, 41, 'BYBOX', 150, 100, 'km', 'DESC', 'COUNT', 20],
      ['GEOSEARCHSTORE', 'r4', 'pts', 'FROMMEMBER', 'p1', 'BYBOX', 60, 60, 'mi', 'ASC', 'COUNT', 15, 'STOREDIST'],
      ['GEOSEARCHSTORE', 'r5', 'pts', 'FROMLONLAT', 100, 10, 'BYRADIUS', 1, 'km'],
      ['GEOSEARCHSTORE', 'r6', 'pts', 'FROMMEMBER', 'nope', 'BYRADIUS', 1, 'km'],
      ['GEORADIUS', 'pts', 15, 42, 120, 'km', 'STORE', 'r7'],
      ['GEORADIUS', 'pts', 15, 42, 70, 'mi', 'COUNT', 10, 'STOREDIST', 'r8'],
      ['GEORADIUSBYMEMBER', 'pts', 'p3', 30000, 'ft', 'STORE', 'r9'],
      ['GEORADIUS', 'pts', 15, 42, 120, 'km', 'WITHDIST'],
    ]);
    await expectSameAsServer(env.c, env.ks);
  });

  it('functions (LOAD/DELETE/RESTORE), RESTORE of DUMP payloads, MULTI/EXEC with an error inside', async () => {
    const lib = (n: string): string => `#!lua name=${n}\nredis.register_function('f_${n}', function() return 1 end)`;
    await runBoth(env.c, env.ks, [
      ['FUNCTION', 'LOAD', lib('one')],
      ['FUNCTION', 'LOAD', lib('two')],
      ['FUNCTION', 'LOAD', lib('two')],
      ['FUNCTION', 'LOAD', 'REPLACE', lib('two')],
      ['FUNCTION', 'DELETE', 'one'],
      ['RPUSH', 'src', 'a', 'b'],
      ['ZADD', 'zsrc', 1, 'x'],
    ]);
    const dump = (await env.c.call('FUNCTION', 'DUMP')) as Buffer;
    const ldump = (await env.c.call('DUMP', 'src')) as Buffer;
    const zdump = (await env.c.call('DUMP', 'zsrc')) as Buffer;
    await runBoth(env.c, env.ks, [
      ['FUNCTION', 'FLUSH'],
      ['FUNCTION', 'LOAD', lib('three')],
      ['FUNCTION', 'RESTORE', dump],
      ['RESTORE', 'copy', 0, ldump],
      ['RESTORE', 'copy', 0, zdump],
      ['RESTORE', 'copy', 0, zdump, 'REPLACE'],
      ['RESTORE', 'ttl', 4102444800000, ldump, 'ABSTTL'],
      ['RESTORE', 'bad', 0, Buffer.from('garbage-payload!')],
      ['MULTI'],
      ['SET', 'm', 1],
      ['LPUSH', 'm', 'x'],
      ['INCR', 'm'],
      ['EXEC'],
    ]);
    await expectSameAsServer(env.c, env.ks);
    const names = ((await env.c.call('FUNCTION', 'LIST')) as Buffer[][]).map((l) => l[1]!.toString()).sort();
    expect([...env.ks.functions.keys()].sort()).toEqual(names);
  });

  it('refuses what it cannot replay, naming the command', () => {
    expect(() => env.ks.apply(['EVAL', 'return 1', '0'].map((s) => Buffer.from(s)))).toThrow(UnsupportedCommandError);
    expect(() => env.ks.apply([Buffer.from('MYMODULE.SET'), Buffer.from('k')])).toThrow(/MYMODULE\.SET/);
  });
});
