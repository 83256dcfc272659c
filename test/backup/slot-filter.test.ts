import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { filterRdbBySlots } from '../../src/backup/slot-filter.js';
import { keySlot } from '../../src/restore/hash-slot.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';

// The RDB rewrite a cluster set applies to a shard holding keys outside its slots: kept records
// pass through byte for byte, the CRC-64 is recomputed, and a real Redis loads the result.

const work = mkdtempSync(join(tmpdir(), 'tsredis-slot-filter-'));
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('filterRdbBySlots', { timeout: 120_000 }, () => {
  it('drops the keys of slots not kept, across many windows and a big key, and Redis loads the rest unchanged', async () => {
    const redis = await startRedis();
    const c = await redis.client();
    await c.call('DEBUG', 'POPULATE', 20000, 'k', 64);
    // A big hash (hashtable encoding, ~4 MB) whose record spans many reads of the stream.
    for (let i = 0; i < 100_000; i += 1000) await c.call('HSET', 'big{a}', ...Array.from({ length: 1000 }, (_, j) => [`f${i + j}`, `value-${i + j}-padding`]).flat());
    await c.call('PEXPIREAT', 'k:7', Date.now() + 86_400_000);
    await c.call('SAVE');
    const keep = new Uint8Array(16384);
    for (let s = 0; s < 16384; s += 2) keep[s] = 1;
    keep[keySlot(Buffer.from('big{a}'))] = 1;
    const keys = (await c.call('KEYS', '*')) as Buffer[];
    const kept = keys.filter((k) => keep[keySlot(k)]);
    const digests = new Map<string, string>();
    for (const k of kept.slice(0, 500).concat([Buffer.from('big{a}')])) digests.set(k.toString(), String(await c.call('DEBUG', 'DIGEST-VALUE', k)));
    c.close();

    const out = join(work, 'dump.rdb');
    const f = filterRdbBySlots(createReadStream(join(redis.dir, 'dump.rdb'), { highWaterMark: 64 * 1024 }), keep, 'dump.rdb');
    await Promise.all([pipeline(f.output, createWriteStream(out)), f.result]);
    expect((await f.result).dropped).toBe(keys.length - kept.length);
    expect(kept.length).toBeGreaterThan(5000);

    const loaded = await startRedis({ dir: work });
    const l = await loaded.client();
    expect(Number(await l.call('DBSIZE'))).toBe(kept.length);
    for (const [k, d] of digests) expect(String(await l.call('DEBUG', 'DIGEST-VALUE', k))).toBe(d);
    if (keep[keySlot(Buffer.from('k:7'))]) expect(Number(await l.call('PTTL', 'k:7'))).toBeGreaterThan(0);
    l.close();
  });
});
