import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeRdb } from '../../../src/inspect/memory/analyze.js';
import type { KeyMemory } from '../../../src/inspect/memory/value-cost.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { ROOT } from '../../backup/cli-helper.js';
import { startRedis, stopAllRedis } from '../../helpers/redis-server.js';
import { fillMemoryDataset } from './dataset.js';

afterAll(stopAllRedis);

const REPORT = { top: 20, separators: ':|', depth: 3, maxPrefixes: 10_000, bigKeyBytes: 10 << 20, bigKeyElements: 100_000, now: Date.now() };

describe('rdb-memory estimate vs MEMORY USAGE of redis-server 7.0', () => {
  it('is within ±10 % for at least 95 % of keys and within ±25 % for all', async () => {
    const server = await startRedis();
    const c = await server.client();
    try {
      const filled = await fillMemoryDataset(c);
      // The server's state as a load of the file leaves it (what the model predicts), then its RDB.
      await c.call('DEBUG', 'RELOAD');
      await c.call('SAVE');
      const ours = new Map<string, KeyMemory>();
      await analyzeRdb(ByteSource.fromFile(join(server.dir, 'dump.rdb')), { ...REPORT, onKey: (k) => ours.set(k.key.toString('latin1'), k) });
      expect(ours.size).toBe(filled);
      const rows: Array<{ key: string; type: string; encoding: string; real: number; est: number; err: number }> = [];
      const keys = [...ours.keys()];
      const replies = await Promise.all(keys.map((k) => c.call('MEMORY', 'USAGE', Buffer.from(k, 'latin1'), 'SAMPLES', '0')));
      const encs = await Promise.all(keys.map((k) => c.call('OBJECT', 'ENCODING', Buffer.from(k, 'latin1'))));
      keys.forEach((k, i) => {
        const est = ours.get(k)!;
        const real = Number(replies[i]);
        rows.push({ key: k, type: est.type, encoding: `${String(encs[i])}${String(encs[i]) === est.encoding ? '' : ` (ours ${est.encoding})`}`, real, est: est.bytes, err: (est.bytes - real) / real });
      });
      const within = (x: number) => rows.filter((r) => Math.abs(r.err) <= x).length;
      const dist = [0.001, 0.01, 0.05, 0.1, 0.25].map((x) => `<=${x * 100}%: ${within(x)}`).join(', ');
      const byType = new Map<string, number[]>();
      for (const r of rows) byType.set(r.type, [...(byType.get(r.type) ?? []), Math.abs(r.err)]);
      console.log(`rdb-memory accuracy on ${rows.length} keys: ${dist}, >25%: ${rows.length - within(0.25)}`);
      for (const [t, errs] of byType) {
        errs.sort((a, b) => a - b);
        console.log(`  ${t}: ${errs.length} keys, median |err| ${(errs[errs.length >> 1]! * 100).toFixed(2)}%, max ${(errs[errs.length - 1]! * 100).toFixed(2)}%`);
      }
      const worst = [...rows].sort((a, b) => Math.abs(b.err) - Math.abs(a.err)).slice(0, 12);
      for (const w of worst) console.log(`  worst: ${w.type} ${w.encoding} real ${w.real} est ${w.est} (${(w.err * 100).toFixed(1)}%) ${JSON.stringify(w.key.slice(0, 40))}`);
      const mismatched = rows.filter((r) => r.encoding.includes('(ours'));
      expect(mismatched.map((r) => `${r.key}: ${r.encoding}`)).toEqual([]);
      expect(within(0.1) / rows.length).toBeGreaterThanOrEqual(0.95);
      expect(within(0.25)).toBe(rows.length);
    } finally {
      c.close();
      await server.stop();
    }
  }, 240_000);

  it('big keys (1M-element list, 250k-member hash, zset, set and stream) are within 0.1 %', async () => {
    const server = await startRedis();
    const c = await server.client();
    try {
      const fill = spawnSync('bash', [join(ROOT, 'bench/bigkeys-populate.sh'), String(server.port), '0.25'], { encoding: 'utf8' });
      expect(fill.status, fill.stderr).toBe(0);
      await c.call('DEBUG', 'RELOAD');
      await c.call('SAVE');
      const ours = new Map<string, KeyMemory>();
      await analyzeRdb(ByteSource.fromFile(join(server.dir, 'dump.rdb')), { ...REPORT, onKey: (k) => ours.set(k.key.toString(), k) });
      expect([...ours.keys()].sort()).toEqual(['bighash', 'biglist', 'bigset', 'bigstream', 'bigzset']);
      for (const [key, est] of ours) {
        const real = Number(await c.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
        console.log(`  ${key}: real ${real} est ${est.bytes} (${(((est.bytes - real) / real) * 100).toFixed(4)}%)`);
        expect(Math.abs(est.bytes - real) / real, key).toBeLessThan(0.001);
        expect(est.encoding).toBe(String(await c.call('OBJECT', 'ENCODING', key)));
      }
    } finally {
      c.close();
      await server.stop();
    }
  }, 240_000);
});
