import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../../src/net/redis-client.js';

/** Runs Debian's redis-check-aof (answering "y" to --fix) in `cwd`. */
export function redisCheckAof(args: string[], cwd: string): { code: number; stdout: string } {
  const r = spawnSync('redis-check-aof', args, { cwd, input: args.includes('--fix') ? 'y\n' : '', encoding: 'latin1' });
  // EPIPE: the tool exited (e.g. refused) before reading its answer; its status still counts.
  if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout };
}

/** The `AOF analyzed: ...` lines of a transcript (what both tools must agree on). */
export function analyzedLines(lines: string[] | string): string[] {
  const all = typeof lines === 'string' ? lines.split('\n') : lines;
  return all.filter((l) => l.startsWith('AOF analyzed:'));
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** sha256 of every file of a directory, by name (backups excluded). */
export function dirHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (!n.endsWith('.bak')) out[n] = sha256(join(dir, n));
  return out;
}

/** Waits until no AOF rewrite is running or scheduled. */
export async function waitRewriteDone(c: RedisClient): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const info = await c.info('persistence');
    if (info.aof_rewrite_in_progress === '0' && info.aof_rewrite_scheduled === '0') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('AOF rewrite did not finish');
}

/**
 * A workload that exercises what an AOF holds: several dbs, MULTI/EXEC, expiries, binary and big
 * values, streams, a rewrite in the middle, and writes in more than one second (for #TS lines).
 */
export async function writeWorkload(c: RedisClient, opts: { rewrite?: boolean } = {}): Promise<void> {
  for (let i = 0; i < 50; i++) await c.call('SET', `k:${i}`, `v${i}`);
  await c.call('SELECT', '3');
  await c.call('HSET', 'h', 'f1', 'v1', 'f2', Buffer.from([0, 13, 10, 255]));
  await c.call('RPUSH', 'l', 'a', 'b', 'c');
  await c.call('SET', Buffer.from([1, 2, 13, 10]), Buffer.alloc(200_000, 0x61));
  await c.call('MULTI');
  await c.call('INCR', 'counter');
  await c.call('SADD', 's', 'x', 'y');
  await c.call('EXEC');
  await c.call('SELECT', '0');
  await c.call('EXPIRE', 'k:1', '100000');
  await c.call('INCRBYFLOAT', 'f', '1.5');
  await c.call('XADD', 'st', '*', 'a', '1');
  if (opts.rewrite) {
    await c.call('BGREWRITEAOF');
    await waitRewriteDone(c);
  }
  await new Promise((r) => setTimeout(r, 1100));
  for (let i = 0; i < 20; i++) await c.call('SET', `after:${i}`, `w${i}`);
  await c.call('DEL', 'k:2');
}
