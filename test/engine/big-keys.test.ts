import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAof } from '../../src/aof/check.js';
import { dumpToCommands, dumpToRdb } from '../../src/engine/dump.js';
import { Keyspace } from '../../src/engine/keyspace.js';
import { rewriteAof } from '../../src/engine/rewrite.js';
import type { RedisClient } from '../../src/net/redis-client.js';
import { shutdownRedis, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { analyzedLines, redisCheckAof } from '../aof/helpers.js';

// Big keys end to end: AOFs written by a real redis-server holding a list of 1.2M elements and a
// hash, zset and set of 1M members each; the rewrite must load back with the same DEBUG DIGEST,
// aof-check must agree with redis-check-aof on a big-key RDB preamble, and the dumps must stream.

const root = mkdtempSync(join(tmpdir(), 'tsredis-engine-bigkeys-'));
const LIST = 1_200_000;
const MEMBERS = 1_000_000;

/** One RPUSH/HSET/ZADD/SADD of up to 1000 items per call (see the script). */
const FILL = readFileSync(fileURLToPath(new URL('./fill-big-keys.lua', import.meta.url)), 'utf8');

async function fill(c: RedisClient, kind: string, key: string, n: number): Promise<void> {
  const sha = String(await c.call('SCRIPT', 'LOAD', FILL));
  for (let off = 0; off < n; off += 1000) await c.call('EVALSHA', sha, 1, key, kind, Math.min(1000, n - off), off);
}

/** Waits for a BGREWRITEAOF of big keys (longer than the helpers' small-workload wait). */
async function rewriteDone(c: RedisClient): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const info = await c.info('persistence');
    if (info.aof_rewrite_in_progress === '0' && info.aof_rewrite_scheduled === '0') return;
    if (Date.now() > deadline) throw new Error('BGREWRITEAOF did not finish within 120 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function digestOf(dir: string): Promise<string> {
  const s = await startRedis({ dir, config: { appendonly: 'yes' } });
  const c = await s.client();
  try {
    return await c.text('DEBUG', 'DIGEST');
  } finally {
    c.close();
    await s.stop();
  }
}

let cmdDir: string; // a command-only AOF (empty RDB base + incr holding every element)
let cmdDigest: string;
let preDir: string; // the same data with a big-key RDB preamble base, then more commands
let preDigest: string;

beforeAll(async () => {
  cmdDir = join(root, 'commands');
  cpSync(mkdtempSync(join(root, 'seed-')), cmdDir, { recursive: true });
  const s = await startRedis({ dir: cmdDir, config: { appendonly: 'yes', appendfsync: 'no', 'aof-use-rdb-preamble': 'yes' } });
  const c = await s.client();
  await fill(c, 'list', 'biglist', LIST);
  await fill(c, 'hash', 'bighash', MEMBERS);
  await fill(c, 'zset', 'bigzset', MEMBERS);
  await fill(c, 'set', 'bigset', MEMBERS);
  await c.call('LPUSH', 'biglist', 'head-1', 'head-2');
  await c.call('LTRIM', 'biglist', 1, -2);
  await c.call('PEXPIREAT', 'bighash', 4102444800000);
  cmdDigest = await c.text('DEBUG', 'DIGEST');
  c.close();
  await shutdownRedis(s);

  preDir = join(root, 'preamble');
  cpSync(cmdDir, preDir, { recursive: true });
  const p = await startRedis({ dir: preDir, config: { appendonly: 'yes', appendfsync: 'no', 'aof-use-rdb-preamble': 'yes' } });
  const pc = await p.client();
  await rewriteDone(pc); // a start-up rewrite may still run
  await pc.call('BGREWRITEAOF');
  await rewriteDone(pc);
  await pc.call('RPUSH', 'biglist', 'tail');
  await pc.call('ZADD', 'bigzset', 1.5, 'late');
  preDigest = await pc.text('DEBUG', 'DIGEST');
  pc.close();
  await shutdownRedis(p);
}, 240_000);

afterAll(async () => {
  await stopAllRedis();
  rmSync(root, { recursive: true, force: true });
});

describe('aof-rewrite of big keys', () => {
  it('an AOF of 1M-element commands rewrites (RDB base) to files with the same DEBUG DIGEST', async () => {
    const out = join(root, 'out-rdb');
    const r = await rewriteAof(join(cmdDir, 'appendonlydir'), join(out, 'appendonlydir'), { format: 'multipart', base: 'rdb', nowMs: Date.parse('2030-01-01T00:00:00Z') });
    expect(r.keys).toBe(4);
    expect(await digestOf(out)).toBe(cmdDigest);
  }, 120_000);

  it('a big-key RDB preamble plus commands rewrites to a RESP base of bounded commands with the same DEBUG DIGEST', async () => {
    const out = join(root, 'out-resp');
    const r = await rewriteAof(join(preDir, 'appendonlydir'), join(out, 'appendonlydir'), { format: 'multipart', base: 'aof', nowMs: Date.parse('2030-01-01T00:00:00Z') });
    expect(r.keys).toBe(4);
    expect(await digestOf(out)).toBe(preDigest);
  }, 120_000);
});

describe('aof-check of a big-key RDB preamble', () => {
  it('agrees with redis-check-aof on the intact directory and on one cut inside a big key', async () => {
    const aofDir = join(preDir, 'appendonlydir');
    const ours = await checkAof(aofDir);
    expect(ours.valid).toBe(true);
    const theirs = redisCheckAof(['appendonlydir/appendonly.aof.manifest'], preDir);
    expect(theirs.code).toBe(0);
    expect(analyzedLines(ours.transcript)).toEqual(analyzedLines(theirs.stdout));

    const cut = join(root, 'cut');
    cpSync(preDir, cut, { recursive: true });
    const base = readdirSync(join(cut, 'appendonlydir')).find((f) => f.endsWith('.base.rdb'))!;
    const basePath = join(cut, 'appendonlydir', base);
    truncateSync(basePath, Math.floor(statSync(basePath).size / 3));
    const oursCut = await checkAof(join(cut, 'appendonlydir'));
    const theirsCut = redisCheckAof(['appendonlydir/appendonly.aof.manifest'], cut);
    expect(oursCut.valid).toBe(false);
    expect(theirsCut.code).not.toBe(0);
    // Both stop at the damaged preamble with redis-check-aof's own verdict line.
    expect(theirsCut.stdout).toContain('RDB preamble of AOF file is not sane, aborting.');
    expect(oursCut.refusal).toBe('RDB preamble of AOF file is not sane, aborting.');
  }, 120_000);
});

describe('big values stream', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };

  /** A keyspace with one list and one set of n elements each, built with 1000-argument commands. */
  function bigKeyspace(n: number): Keyspace {
    const ks = new Keyspace();
    for (let off = 0; off < n; off += 1000) {
      const items = Array.from({ length: 1000 }, (_, i) => Buffer.from(`element-${off + i}`));
      ks.apply([Buffer.from('RPUSH'), Buffer.from('l'), ...items]);
      ks.apply([Buffer.from('SADD'), Buffer.from('s'), ...items]);
    }
    return ks;
  }

  it('a 1M-element list is held packed: well under what one Buffer or string per element needs', () => {
    const before = heap();
    const ks = new Keyspace();
    for (let off = 0; off < MEMBERS; off += 1000) {
      ks.apply([Buffer.from('RPUSH'), Buffer.from('l'), ...Array.from({ length: 1000 }, (_, i) => Buffer.from(`element-${off + i}`))]);
    }
    const held = heap() - before;
    // One Buffer per element costs ~100 bytes, one latin1 string ~32 (plus its slot): 1M elements
    // of 14 bytes packed take ~17 MB.
    expect(ks.get(Buffer.from('l'), 'list')!.length).toBe(MEMBERS);
    expect(held).toBeLessThan(28 * 1024 * 1024);
  });

  it('1M small string keys cost about what Redis needs for them (no object per key without a TTL)', () => {
    const before = heap();
    const ks = new Keyspace();
    const set = Buffer.from('SET');
    const incr = Buffer.from('INCR');
    const xxx = Buffer.from('xxx');
    for (let i = 0; i < MEMBERS; i++) {
      const n = String(i).padStart(12, '0');
      if (i % 2) ks.apply([set, Buffer.from(`key:${n}`), xxx]);
      else ks.apply([incr, Buffer.from(`counter:${n}`)]);
    }
    const perKey = (heap() - before) / MEMBERS;
    expect(ks.size).toBe(MEMBERS);
    expect(ks.get(Buffer.from('counter:000000000000'), 'string')!.toString()).toBe('1');
    // redis-benchmark's keys cost Redis ~80 bytes each; a holder object per key put the engine at ~150.
    expect(perKey).toBeLessThan(100);
  });

  it('dumping 1M-element keys as RDB or as commands never holds a whole value', async () => {
    const ks = bigKeyspace(MEMBERS);
    const base = heap();
    let peak = 0;
    // Live heap (after a full GC) at points inside the dumps: what a dump holds at that moment.
    const sample = (): void => {
      peak = Math.max(peak, heap() - base);
    };
    let bytes = 0;
    let chunks = 0;
    await dumpToRdb(ks, (chunk) => {
      bytes += chunk.length;
      if (++chunks % 4 === 0) sample();
    }, { version: 10, nowMs: null });
    let commands = 0;
    for (const { argv } of dumpToCommands(ks, null)) {
      expect(argv.length).toBeLessThanOrEqual(2 + 64);
      if (++commands % 5000 === 0) sample();
    }
    expect(bytes).toBeGreaterThan(10 * MEMBERS);
    expect(chunks).toBeGreaterThan(8);
    expect(commands).toBe(2 * Math.ceil(MEMBERS / 64));
    // The model of the set alone (a Buffer per member) is over 100 MB, and its encoded parts as
    // many again; a streaming dump holds a batch and the writer's 1 MiB of pending output.
    expect(peak).toBeLessThan(24 * 1024 * 1024);
  }, 120_000);
});
