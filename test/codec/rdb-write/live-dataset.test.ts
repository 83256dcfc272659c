import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRdb } from '../../../src/codec/rdb/reader.js';
import { writeRdbFile } from '../../../src/codec/rdb/writer.js';
import type { RedisClient } from '../../../src/net/redis-client.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { debugDigest, startRedis, stopAllRedis } from '../../helpers/redis-server.js';
import { compareByDump, readSource, step, tempDir, withLoadedRdb } from './helpers.js';
import { LOW_THRESHOLDS as LOW } from '../../helpers/thresholds.js';

/**
 * A dataset made on the live redis-server 7.0.15 with every type and encoding (under default and
 * under tiny encoding thresholds), expiring keys, several dbs, functions and streams with groups,
 * saved by the server, read by our reader and written by our writer (decoded and raw, RDB 10 and
 * RDB 9), loads back into 7.0 with the same DEBUG DIGEST and the same value for every key.
 */

afterAll(stopAllRedis);


const FUTURE = 4102444800000; // 2100-01-01

async function populate(c: RedisClient, low: boolean): Promise<void> {
  if (low) await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '8192');
  const cmds: Array<Array<string | Buffer | number>> = [];
  const add = (...a: Array<string | Buffer | number>) => cmds.push(a);
  add('FUNCTION', 'LOAD', "#!lua name=livelib\nredis.register_function('live_get', function(keys) return redis.call('GET', keys[1]) end)");
  add('SELECT', 0);
  for (const [k, v] of [['str:int', '12345'], ['str:neg', '-7'], ['str:int64', '12345678901'], ['str:zero-lead', '007'], ['str:text', 'hello world'], ['str:empty', '']]) add('SET', k!, v!);
  add('SET', 'str:long', 'abcdefghij'.repeat(500));
  add('SET', 'str:bin', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 255)));
  add('SET', 'str:big', Buffer.alloc(200_000, 'xyz'));
  add('SET', Buffer.from([0xff, 0x00, 0xfe]), 'binary key');
  add('SET', 'str:ttl', 'expiring', 'PXAT', FUTURE);
  add('RPUSH', 'list:small', 'a', '1', 'bb', '-300', '70000');
  add('RPUSH', 'list:big', ...Array.from({ length: 3000 }, (_, i) => (i % 3 ? `item-${i}` : String(i * 1000))));
  add('RPUSH', 'list:huge-elements', 'head', 'E'.repeat(10_000), 'mid', 'F'.repeat(20_000), 'tail');
  add('RPUSH', 'list:ttl', 'x', 'y');
  add('PEXPIREAT', 'list:ttl', FUTURE + 1);
  add('SADD', 'set:int', '1', '2', '3', '-5', '100000', '5000000000');
  add('SADD', 'set:tiny-int', '1', '2');
  add('SADD', 'set:int-large', ...Array.from({ length: 600 }, (_, i) => String(i * 7)));
  add('SADD', 'set:str', 'a', 'b', 'c');
  add('SADD', 'set:str-large', ...Array.from({ length: 200 }, (_, i) => `member-${i}`));
  add('SADD', 'set:mixed', '1', 'two', '3');
  add('ZADD', 'zset:small', '1', 'a', '2.5', 'b', '-inf', 'c', 'inf', 'd', '0.1', 'e');
  add('ZADD', 'zset:large', ...Array.from({ length: 200 }, (_, i) => [String((i * 37) % 101 + i / 7), `m${i}`]).flat());
  add('ZADD', 'zset:long-member', '1', 'L'.repeat(100), '2', 'short');
  add('ZADD', 'zset:ttl', '3', 'z');
  add('PEXPIREAT', 'zset:ttl', FUTURE + 2);
  add('HSET', 'hash:small', 'f1', 'v1', 'f2', '2', 'f3', '-3');
  add('HSET', 'hash:large', ...Array.from({ length: 200 }, (_, i) => [`field-${i}`, i % 2 ? `value-${i}` : String(i)]).flat());
  add('HSET', 'hash:long-value', 'f', 'V'.repeat(100), 'g', 'short');
  for (let i = 1; i <= 40; i++) add('XADD', 'stream:a', `${1700000000000 + i}-0`, 'sensor', String(i % 5), 'value', `reading-${i}`, ...(i % 10 === 0 ? ['extra', 'yes'] : []));
  add('XDEL', 'stream:a', '1700000000003-0', '1700000000004-0');
  add('XGROUP', 'CREATE', 'stream:a', 'g1', '0');
  add('XGROUP', 'CREATE', 'stream:a', 'g2', '$');
  add('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 'stream:a', '>');
  add('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 'stream:a', '>');
  add('XACK', 'stream:a', 'g1', '1700000000001-0');
  add('XGROUP', 'CREATECONSUMER', 'stream:a', 'g1', 'carol');
  add('XADD', 'stream:empty', 'MAXLEN', '0', '*', 'x', 'y');
  add('XGROUP', 'CREATE', 'stream:empty', 'g', '0');
  add('XGROUP', 'CREATE', 'stream:mk', 'g', '$', 'MKSTREAM');
  add('SELECT', 1);
  add('SET', 'db1:str', 'one');
  add('HSET', 'db1:hash', 'a', '1');
  add('SET', 'db1:ttl', 'v', 'PXAT', FUTURE + 3);
  add('SELECT', 5);
  add('RPUSH', 'db5:list', 'p', 'q');
  add('ZADD', 'db5:zset', '-1.5', 'neg');
  for (const a of cmds) await c.call(...a);
}

function checkRdb(file: string): void {
  const r = spawnSync('redis-check-rdb', [file], { encoding: 'utf8' });
  expect(r.stdout, `redis-check-rdb ${file}`).toMatch(/RDB looks OK/);
  expect(r.status).toBe(0);
}

for (const variant of ['default', 'low'] as const) {
  describe(`live 7.0 dataset (${variant} thresholds): read -> write -> load`, () => {
    const config = variant === 'low' ? LOW : {};
    it('survives every writer path with an equal DEBUG DIGEST', async () => {
      const origin = await step('start origin', startRedis({ config }));
      const dir = tempDir();
      try {
        const c = await origin.client();
        await step('populate', populate(c, variant === 'low'));
        const digest = await debugDigest(origin);
        await c.call('SAVE');
        c.close();
        const saved = join(origin.dir, 'dump.rdb');
        const { keys, functions } = await readSource(saved);
        expect(keys.length).toBeGreaterThan(30);
        expect(functions).toHaveLength(1);
        const types = (ks: Array<{ rdbType: number }>) => [...new Set(ks.map((k) => k.rdbType))].sort((a, b) => a - b);
        // string, set, hash, zset2, intset, hash/zset listpacks, quicklist 2, stream v2
        expect(types(keys)).toEqual([0, 2, 4, 5, 11, 16, 17, 18, 19]);
        const variants: Array<[string, number, boolean]> = [['v10-decoded', 10, false], ['v10-raw', 10, true], ['v9-decoded', 9, false], ['v9-raw', 9, true]];
        for (const [name, version, raw] of variants) {
          const out = join(dir, `${name}.rdb`);
          const w = await writeRdbFile(out, readRdb(ByteSource.fromFile(saved), { raw }), { version, lossy: true });
          if (version === 10) expect(w.dropped, name).toEqual([]);
          else {
            // RDB 9 has no functions and no stream v2 counters; everything else is kept.
            expect(w.dropped.filter((d) => d.key === null).map((d) => d.what), name).toEqual(['function library "livelib" (RDB 9 has no functions)']);
            const streams = w.dropped.filter((d) => d.key !== null);
            expect(streams.map((d) => d.key), name).toContain('stream:a');
            for (const d of streams) expect(d.what, name).toMatch(/^stream (max-deleted-entry-id|entries-added|group)/);
          }
          checkRdb(out);
          // RDB 9 holds the ziplist-era forms: ziplist hashes/zsets, ziplist quicklists, stream v1.
          expect(types((await readSource(out)).keys), name).toEqual(version === 10 ? [0, 2, 4, 5, 11, 16, 17, 18, 19] : [0, 2, 4, 5, 11, 12, 13, 14, 15]);
          await withLoadedRdb(out, config, async (server, lc) => {
            expect(await debugDigest(server), name).toBe(digest);
            if (version === 10) await step(`compare ${name}`, compareByDump(lc, keys, { mode: 'rdb' }));
          });
        }
      } finally {
        await origin.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
