import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli, keyCounts, populate, saveRdb, tempDir } from './helpers.js';

let source: TestRedis;
let rdb: string;
let sourceDigest: string;
let sourceCounts: Record<number, number>;

beforeAll(async () => {
  source = await startRedis();
  const c = await source.client();
  await populate(c);
  // A key that is already expired in the backup: active expiry off so SAVE still writes it.
  await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await c.call('SET', 'gone', 'x', 'PX', '50');
  await new Promise((r) => setTimeout(r, 120));
  rdb = await saveRdb(source, join(tempDir(), 'dump.rdb'));
  await c.call('DEL', 'gone');
  sourceDigest = await debugDigest(source);
  sourceCounts = await keyCounts(c);
  c.close();
});
afterAll(stopAllRedis);

interface Report {
  plan: { keys: number; expired: number; bigKeys: number; functions: number; dbs: Array<{ db: number; to: number; keys: number }> };
  result?: { restored: number; conflicts: number; asCommands: number; functions: { restored: number; conflicts: number }; problems: Array<{ db: number; key: string; reason: string }> };
  verify?: { ok: boolean; method: string; checked: number; mismatched: number; mismatches: Array<{ key: string }> };
}

describe('restore --to (standalone)', () => {
  it('restores every key, TTL and function into an empty node: DEBUG DIGEST equal, --verify passes', async () => {
    const target = await startRedis();
    const r = cli(['restore', rdb, '--to', target.url, '--verify', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.plan.expired).toBe(1);
    expect(rep.result!.restored).toBe(rep.plan.keys);
    expect(rep.result!.functions.restored).toBe(1);
    expect(rep.verify!.ok).toBe(true);
    expect(rep.verify!.method).toBe('digest');
    expect(rep.verify!.checked).toBe(rep.plan.keys);
    expect(await debugDigest(target)).toBe(sourceDigest);
    const c = await target.client();
    expect(await keyCounts(c)).toEqual(sourceCounts);
    expect(await c.call('EXISTS', 'gone')).toBe(0);
    expect(Number(await c.call('PEXPIRETIME', 'str:ttl'))).toBe(Number(await (await source.client()).call('PEXPIRETIME', 'str:ttl')));
    expect(await c.call('FCALL', 'rfn', '0')).toBe(1);
    c.close();
  });

  it('rebuilds keys above --big-key-size with plain commands, same digest', async () => {
    const target = await startRedis();
    const r = cli(['restore', rdb, '--to', target.url, '--big-key-size', '2000', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.result!.asCommands).toBeGreaterThan(3);
    expect(rep.result!.asCommands).toBe(rep.plan.bigKeys);
    expect(await debugDigest(target)).toBe(sourceDigest);
  });

  it('reports existing keys as conflicts without --replace, overwrites them with it', async () => {
    const target = await startRedis();
    const c = await target.client();
    await c.call('SET', 'str:raw', 'other');
    await c.call('RPUSH', 'list:small', 'zzz');
    await c.call('FUNCTION', 'LOAD', "#!lua name=restorelib\nredis.register_function('rfn', function(keys, args) return 2 end)");
    const r = cli(['restore', rdb, '--to', target.url, '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.result!.conflicts).toBe(2);
    expect(rep.result!.functions.conflicts).toBe(1);
    expect(rep.result!.problems.map((p) => p.key).sort()).toEqual(['(function library restorelib)', 'list:small', 'str:raw']);
    expect((await c.call('GET', 'str:raw'))!.toString()).toBe('other');
    expect(await c.call('FCALL', 'rfn', '0')).toBe(2);
    expect(await debugDigest(target)).not.toBe(sourceDigest);

    const again = cli(['restore', rdb, '--to', target.url, '--replace', '--verify', '--json']);
    expect(again.code).toBe(0);
    const rep2 = JSON.parse(again.stdout) as Report;
    expect(rep2.result!.conflicts).toBe(0);
    expect(rep2.verify!.ok).toBe(true);
    expect(await debugDigest(target)).toBe(sourceDigest);
    expect(await c.call('FCALL', 'rfn', '0')).toBe(1);
    c.close();
  });

  it('--dry-run shows counts per db and touches nothing; --db-map moves dbs', async () => {
    const target = await startRedis();
    const dry = cli(['restore', rdb, '--to', target.url, '--dry-run', '--db-map', '1:3', '--json']);
    expect(dry.code).toBe(0);
    const rep = JSON.parse(dry.stdout) as Report;
    expect(rep.result).toBeUndefined();
    expect(rep.plan.dbs.map((d) => [d.db, d.to, d.keys])).toEqual([
      [0, 0, sourceCounts[0]],
      [1, 3, sourceCounts[1]],
      [5, 5, sourceCounts[5]],
    ]);
    const c = await target.client();
    expect(await keyCounts(c)).toEqual({});
    const r = cli(['restore', rdb, '--to', target.url, '--db-map', '1:3', '--verify', '--json']);
    expect(r.code).toBe(0);
    expect(await keyCounts(c)).toEqual({ 0: sourceCounts[0], 3: sourceCounts[1], 5: sourceCounts[5] });
    c.close();
  });

  it('--verify-only names the keys that differ (DEBUG DIGEST-VALUE, and DUMP when DEBUG is off)', async () => {
    for (const debug of ['yes', 'no']) {
      const target = await startRedis({ config: { 'enable-debug-command': debug } });
      expect(cli(['restore', rdb, '--to', target.url]).code).toBe(0);
      const ok = JSON.parse(cli(['restore', rdb, '--to', target.url, '--verify-only', '--json']).stdout) as Report;
      expect(ok.verify!.ok).toBe(true);
      expect(ok.verify!.method).toBe(debug === 'yes' ? 'digest' : 'dump');
      const c = await target.client();
      await c.call('SET', 'str:raw', 'tampered');
      await c.call('SREM', 'set:big', 'm7');
      await c.call('ZADD', 'zset:small', '99', 'a');
      await c.call('PERSIST', 'str:ttl');
      await c.call('DEL', 'stream');
      c.close();
      const v = cli(['restore', rdb, '--to', target.url, '--verify-only', '--json']);
      expect(v.code).toBe(1);
      const rep = JSON.parse(v.stdout) as Report;
      expect(rep.result).toBeUndefined();
      expect(rep.verify!.ok).toBe(false);
      expect(rep.verify!.mismatches.map((m) => m.key).sort()).toEqual(['set:big', 'str:raw', 'str:ttl', 'stream', 'zset:small']);
      const sample = JSON.parse(cli(['restore', rdb, '--to', target.url, '--verify-only', '--verify-sample', '10', '--json']).stdout) as Report;
      expect(sample.verify!.checked).toBeGreaterThanOrEqual(10);
      expect(sample.verify!.checked).toBeLessThan(20);
    }
  });

  it('authenticates with --password-file (or REDISCLI_AUTH); a wrong password is exit 3 and never printed', async () => {
    const { writeFileSync } = await import('node:fs');
    const target = await startRedis({ config: { requirepass: 's3cret-pw' } });
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 's3cret-pw\n');
    const r = cli(['restore', rdb, '--to', target.url, '--password-file', pw, '--verify', '--json']);
    expect(r.code).toBe(0);
    expect(await debugDigest(target)).toBe(sourceDigest);
    const bad = cli(['restore', rdb, '--to', target.url, '--replace'], { REDISCLI_AUTH: 'wrong-pw' });
    // A wrong password is exit 4 everywhere (README exit codes), as for backup and replicate.
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/authentication failed/);
    expect(bad.stderr).not.toMatch(/wrong-pw/);
  });

  it('refuses a damaged backup before writing anything', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bad = join(tempDir(), 'bad.rdb');
    const data = readFileSync(rdb);
    data[Math.floor(data.length / 2)]! ^= 0x01;
    writeFileSync(bad, data);
    const target = await startRedis();
    const r = cli(['restore', bad, '--to', target.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.rdb: at byte \d+/);
    const c = await target.client();
    expect(await keyCounts(c)).toEqual({});
    c.close();
  });
});
