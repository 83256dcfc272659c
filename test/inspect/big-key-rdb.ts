import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../../src/net/redis-client.js';
import { dumpRdb } from '../../src/inspect/rdb-dump.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { debugDigest, startRedis } from '../helpers/redis-server.js';

/** The sizes of the big keys of bigKeyRdb. */
export const BIG = { list: 1_000_000, zset: 200_000, hash: 200_000, set: 200_000, stream: 20_000 };

/**
 * An RDB written by a real redis-server (rdbcompression no) holding big keys: `biglist` with
 * BIG.list elements "e1".."eN" (quicklist of listpacks), `bigzset` (skiplist: members "m<i>",
 * scores i/2), `bighash` (hashtable: fields "f<i>" -> "v<i>"), `bigset` (hashtable: "s<i>"), a TTL on
 * the hash, `bigstream` (BIG.stream entries, a group with 10 pending entries), and a small key in db 3. Returns the file and the server's DEBUG DIGEST.
 */
export async function bigKeyRdb(): Promise<{ rdb: Buffer; digest: string }> {
  return savedRdb(async (c) => {
    const fill = (cmd: string, key: string, n: number, item: string): Promise<unknown> =>
      c.call('EVAL', `for i=1,${n / 1000} do local t={} for j=1,1000 do local n=(i-1)*1000+j ${item} end redis.call('${cmd}',KEYS[1],unpack(t)) end`, 1, key);
    await fill('RPUSH', 'biglist', BIG.list, "t[j]='e'..n");
    await fill('ZADD', 'bigzset', BIG.zset, "t[2*j-1]=n/2 t[2*j]='m'..n");
    await fill('HSET', 'bighash', BIG.hash, "t[2*j-1]='f'..n t[2*j]='v'..n");
    await fill('SADD', 'bigset', BIG.set, "t[j]='s'..n");
    await c.call('PEXPIREAT', 'bighash', Date.now() + 3_600_000);
    await c.call('EVAL', `for i=1,${BIG.stream} do redis.call('XADD',KEYS[1],'*','k','v'..i) end`, 1, 'bigstream');
    await c.call('XGROUP', 'CREATE', 'bigstream', 'g', '0');
    await c.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 10, 'STREAMS', 'bigstream', '>');
    await c.call('SELECT', 3);
    await c.call('SET', 'small', 'x');
  });
}

/** The RDB a real redis-server (rdbcompression no) SAVEs after `fill`, and its DEBUG DIGEST. */
export async function savedRdb(fill: (c: RedisClient) => Promise<void>): Promise<{ rdb: Buffer; digest: string }> {
  const server = await startRedis({ config: { rdbcompression: 'no' } });
  try {
    const c = await server.client();
    await fill(c);
    await c.call('SAVE');
    c.close();
    return { rdb: readFileSync(join(server.dir, 'dump.rdb')), digest: await debugDigest(server) };
  } finally {
    await server.stop();
  }
}

/** rdb-dump's output of `rdb`, and the highest heap use seen when its chunks arrived. */
export async function dumpWithHeapPeak(rdb: Buffer, format: 'jsonl' | 'resp'): Promise<{ out: Buffer; heapPeak: number }> {
  const parts: Buffer[] = [];
  let heapPeak = 0;
  await dumpRdb(ByteSource.fromBuffer(rdb, 'big.rdb'), { format, encoding: 'utf8' }, (c) => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    parts.push(Buffer.from(c));
  });
  return { out: Buffer.concat(parts), heapPeak };
}

/** Collects garbage (so earlier garbage neither hides heap growth nor passes for it). */
export { collectGarbage } from '../../src/util/collect-garbage.js';
