import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDump } from '../../../src/codec/rdb/dump.js';
import { debugDigest, stopAllRedis } from '../../helpers/redis-server.js';
import { cli, step, compareByDump, configFor70, corpusDatasets, fieldTtls, readSource, withLoadedRdb, withTempDir, type Json } from './helpers.js';

/**
 * Every corpus dataset that Redis 7.0 can hold, converted with `rdb-convert --rdb-version 10`,
 * loads in the real redis-server 7.0.15 (started with the dataset's encoding thresholds) and gives
 * the ground truth's DEBUG DIGEST (producers up to 7.0) and, for every producer (7.2+ compute the
 * digest differently), the same value for every key, checked through DUMP. DUMP payloads we encode
 * are accepted by RESTORE and equal the loaded keys. 7.4+ datasets with hash-field TTLs fail
 * without --lossy and lose exactly those TTLs with it.
 */

afterAll(stopAllRedis);

const datasets = corpusDatasets();

describe('corpus datasets through rdb-convert --rdb-version 10 into redis 7.0', () => {
  it('finds the datasets', () => {
    expect(datasets.length).toBeGreaterThanOrEqual(20);
    expect(datasets.filter((d) => d.holdableBy70).length).toBeGreaterThanOrEqual(16);
  });

  for (const ds of datasets.filter((d) => d.holdableBy70)) {
    it(`${ds.name}: converted file loads with the same data; DUMP payloads round-trip`, async () => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'out.rdb');
        const r = cli(['rdb-convert', ds.file, '-o', out, '--rdb-version', '10', '--json']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const report = JSON.parse(r.stdout) as Json;
        expect(report.dropped).toEqual([]);
        expect([report.fromVersion, report.toVersion]).toEqual([ds.rdbVersion, 10]);
        const { keys, functions } = await readSource(ds.file);
        await withLoadedRdb(out, configFor70(ds.gt), async (server, c) => {
          if (ds.rdbVersion <= 10) expect(await debugDigest(server)).toBe(ds.gt.debug_digest);
          // 7.0 derives a consumer's active time from its seen time (stream v2 has no field for it).
          await step('compare keys', compareByDump(c, keys, { mode: 'rdb', keepActive: ds.rdbVersion <= 10 }));
          const libs = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
          expect(libs.map((l) => String(l[l.findIndex((x) => String(x) === 'library_code') + 1])).sort()).toEqual(functions.map(String).sort());
          for (const k of keys) {
            await c.call('SELECT', k.db);
            const theirs = String(await c.call('DEBUG', 'DIGEST-VALUE', k.key));
            await c.call('SELECT', 15);
            const ttl = k.expireAtMs === null ? ['0'] : [String(k.expireAtMs), 'ABSTTL'];
            expect(await c.call('RESTORE', k.key, ttl[0]!, encodeDump(k.value!, 10, k.key), 'REPLACE', ...ttl.slice(1))).toBe('OK');
            expect(String(await c.call('DEBUG', 'DIGEST-VALUE', k.key)), `RESTORE of ${k.key.toString('latin1')}`).toBe(theirs);
          }
          await c.call('FLUSHDB');
        });
      });
    }, 120_000);
  }
});

describe('datasets with hash-field TTLs (Redis 7.4+) converted for 7.0', () => {
  for (const ds of datasets.filter((d) => !d.holdableBy70)) {
    it(`${ds.name}: fails without --lossy, drops exactly the field TTLs with it`, async () => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'out.rdb');
        const strict = cli(['rdb-convert', ds.file, '-o', out, '--rdb-version', '10']);
        expect(strict.status).toBe(1);
        expect(strict.stderr.trim().split('\n')).toHaveLength(1);
        expect(strict.stderr).toMatch(/^tsredis-ops: key ".+" \(db \d+\): RDB 10 cannot represent \d+ hash-field TTL\(s\); use --lossy to drop it\n$/);
        const lossy = cli(['rdb-convert', ds.file, '-o', out, '--rdb-version', '10', '--lossy', '--json']);
        expect(lossy.stderr).toBe('');
        expect(lossy.status).toBe(0);
        const report = JSON.parse(lossy.stdout) as { dropped: Array<{ db: number; key: string; what: string }> };
        const ttlKeys = (ds.gt.keys as Json[]).filter((k) => Object.keys(fieldTtls(k)).length > 0);
        expect(report.dropped.map((d) => `${d.db}:${d.key}`).sort()).toEqual(ttlKeys.map((k) => `${String(k.db)}:${String(k.key)}`).sort());
        for (const d of report.dropped) {
          const n = Object.keys(fieldTtls(ttlKeys.find((k) => k.key === d.key && k.db === d.db)!)).length;
          expect(d.what).toBe(`${n} hash-field TTL(s) (the fields are kept without TTL)`);
        }
        // Everything else loads in 7.0 unchanged; the hashes keep their fields.
        const { keys } = await readSource(ds.file);
        await withLoadedRdb(out, configFor70(ds.gt), (_server, c) =>
          step('compare keys', compareByDump(c, keys, { mode: 'rdb', keepActive: false, withoutFieldTtls: true })),
        );
      });
    }, 120_000);
  }
});
