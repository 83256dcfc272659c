import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '../../src/net/redis-client.js';
import type { TestRedis } from '../helpers/redis-server.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export { CORPUS } from '../helpers/corpus.js';

/** Runs the built CLI; returns exit code and output. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tsredis-restore-test-'));
}

/**
 * Every type and encoding a restore must carry: int and raw strings, binary keys, listpack and
 * quicklist lists, intset/listpack/hashtable sets, small and big zsets and hashes, a stream with a
 * consumer group and pending entries, TTLs, keys in db 0, 1 and 5, one function library.
 */
export async function populate(c: RedisClient): Promise<void> {
  const ttl = Date.now() + 3_600_000;
  await c.call('SET', 'str:int', '12345');
  await c.call('SET', 'str:raw', 'hello world');
  await c.call('SET', Buffer.from([0x00, 0xff, 0x0a, 0x7b]), Buffer.from([1, 2, 3, 0]));
  await c.call('SET', 'str:big', 'x'.repeat(100_000));
  await c.call('SET', 'str:ttl', 'v', 'PXAT', ttl);
  await c.call('RPUSH', 'list:small', 'a', 'b', '1', '2');
  await c.call('RPUSH', 'list:big', ...Array.from({ length: 3000 }, (_, i) => `element-${i}`));
  await c.call('SADD', 'set:int', '1', '2', '3', '-5');
  await c.call('SADD', 'set:str', 'a', 'b', 'c');
  await c.call('SADD', 'set:big', ...Array.from({ length: 1000 }, (_, i) => `m${i}`));
  await c.call('ZADD', 'zset:small', '1.5', 'a', '-2', 'b', '3e20', 'c', '0.1', 'd');
  await c.call('ZADD', 'zset:big', ...Array.from({ length: 500 }, (_, i) => [String(i / 7), `z${i}`]).flat());
  await c.call('HSET', 'hash:small', 'f1', 'v1', 'f2', '2');
  await c.call('HSET', 'hash:big', ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`.repeat(3)]).flat());
  await c.call('PEXPIREAT', 'hash:big', ttl + 1);
  for (let i = 0; i < 20; i++) await c.call('XADD', 'stream', `${1000 + i}-0`, 'k', `v${i}`, 'n', String(i));
  await c.call('XGROUP', 'CREATE', 'stream', 'g1', '0');
  await c.call('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 'stream', '>');
  await c.call('XDEL', 'stream', '1005-0');
  for (let i = 0; i < 200; i++) await c.call('SET', `many:{tag${i % 7}}:${i}`, `value-${i}`);
  await c.call('FUNCTION', 'LOAD', "#!lua name=restorelib\nredis.register_function('rfn', function(keys, args) return 1 end)");
  await c.call('SELECT', '1');
  await c.call('SET', 'db1:a', 'one');
  await c.call('HSET', 'db1:h', 'x', 'y');
  await c.call('SELECT', '5');
  await c.call('SET', 'db5:a', 'five');
  await c.call('SELECT', '0');
}

/** SAVE on a server and copy its dump.rdb out. */
export async function saveRdb(server: TestRedis, dest: string): Promise<string> {
  const c = await server.client();
  try {
    await c.call('SAVE');
  } finally {
    c.close();
  }
  copyFileSync(join(server.dir, 'dump.rdb'), dest);
  return dest;
}

/** DBSIZE of every db 0..15 that has keys. */
export async function keyCounts(c: RedisClient): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let db = 0; db < 16; db++) {
    await c.call('SELECT', db);
    const n = Number(await c.call('DBSIZE'));
    if (n) out[db] = n;
  }
  await c.call('SELECT', 0);
  return out;
}

/** True when no db of the server holds a key. */
export async function isEmpty(t: TestRedis): Promise<boolean> {
  const c = await t.client();
  try {
    return Object.keys(await keyCounts(c)).length === 0;
  } finally {
    c.close();
  }
}
