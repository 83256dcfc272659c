import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { CORPUS, cli, keyCounts, populate, saveRdb, tempDir } from './helpers.js';

let source: TestRedis;
let rdb: string;
let sourceDigest: string;

beforeAll(async () => {
  source = await startRedis();
  const c = await source.client();
  await populate(c);
  c.close();
  rdb = await saveRdb(source, join(tempDir(), 'dump.rdb'));
  sourceDigest = await debugDigest(source);
});
afterAll(stopAllRedis);

describe('restore --to-dir', () => {
  it('writes dump.rdb that redis-server loads with an equal DEBUG DIGEST', async () => {
    const dir = tempDir();
    const r = cli(['restore', rdb, '--to-dir', dir]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['dump.rdb']);
    const node = await startRedis({ dir });
    expect(await debugDigest(node)).toBe(sourceDigest);
  });

  it('--layout aof writes an appendonlydir that an appendonly yes node loads', async () => {
    const dir = tempDir();
    const r = cli(['restore', rdb, '--to-dir', dir, '--layout', 'aof']);
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
    const node = await startRedis({ dir, config: { appendonly: 'yes' } });
    expect(await debugDigest(node)).toBe(sourceDigest);
    const c = await node.client();
    expect(await c.call('FCALL', 'rfn', '0')).toBe(1);
    c.close();
  });

  it('refuses a directory holding data unless --force, which keeps the old files aside', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dump.rdb'), 'old data');
    const r = cli(['restore', rdb, '--to-dir', dir]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/already holds Redis data \(dump\.rdb\).*--force/);
    expect(readFileSync(join(dir, 'dump.rdb'), 'utf8')).toBe('old data');
    const f = cli(['restore', rdb, '--to-dir', dir, '--force', '--json']);
    expect(f.code).toBe(0);
    const aside = (JSON.parse(f.stdout) as { keptAside: string }).keptAside;
    expect(readFileSync(join(aside, 'dump.rdb'), 'utf8')).toBe('old data');
    const node = await startRedis({ dir });
    expect(await debugDigest(node)).toBe(sourceDigest);
  });

  it('converts a Redis 7.4 backup for the 7.0 node: hash-field TTL keys refused, or dropped with --lossy and reported', async () => {
    const base = join(CORPUS, 'rdb/redis-7.4.1/redis-7.4.1_s1_default');
    const truth = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as {
      key_counts: Record<string, number>;
      keys: Array<{ db: number; key: string; key_base64?: boolean; type: string; value: { field_expire_at_ms?: Record<string, number> } }>;
    };
    const hfe = truth.keys.filter((k) => k.type === 'hash' && k.value.field_expire_at_ms && Object.keys(k.value.field_expire_at_ms).length);
    expect(hfe.length).toBeGreaterThan(0);
    const dir = tempDir();
    const refused = cli(['restore', `${base}.rdb`, '--to-dir', dir, '--redis-version', '7.0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--lossy/);
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false);

    const r = cli(['restore', `${base}.rdb`, '--to-dir', dir, '--redis-version', '7.0', '--lossy', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { writtenRdb: number; converted: boolean; dropped: string[] };
    expect(rep.writtenRdb).toBe(10);
    expect(rep.converted).toBe(true);
    for (const k of hfe) expect(rep.dropped.some((d) => d.includes(k.key))).toBe(true);
    const node = await startRedis({ dir });
    const c = await node.client();
    const counts = await keyCounts(c);
    // Every key of the backup is there (hash-field TTL hashes keep their fields, without TTLs).
    expect(counts).toEqual(Object.fromEntries(Object.entries(truth.key_counts).map(([db, n]) => [Number(db), n])));
    for (const k of truth.keys.filter((x) => x.db === 0).slice(0, 50)) {
      expect(await c.text('TYPE', Buffer.from(k.key, k.key_base64 ? 'base64' : 'utf8'))).toBe(k.type);
    }
    c.close();
  });

  it('--dry-run writes nothing', () => {
    const dir = join(tempDir(), 'new');
    const r = cli(['restore', rdb, '--to-dir', dir, '--dry-run']);
    expect(r.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    mkdirSync(dir);
  });
});
