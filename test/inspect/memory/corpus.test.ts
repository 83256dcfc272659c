import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRdb } from '../../../src/inspect/memory/analyze.js';
import type { KeyMemory } from '../../../src/inspect/memory/value-cost.js';
import { summarizeRdb } from '../../../src/inspect/rdb-summary.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { CORPUS } from '../../helpers/corpus.js';

const REPORT = { top: 10, separators: ':|', depth: 3, maxPrefixes: 1000, bigKeyBytes: 10 << 20, bigKeyElements: 100_000, now: Date.now() };

function rdbFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? rdbFiles(p) : n.endsWith('.rdb') ? [p] : [];
  });
}

describe('rdb-memory over the conformance corpus (Redis 2.8 to 8.0, Valkey)', () => {
  const files = [...rdbFiles(join(CORPUS, 'rdb')), ...rdbFiles(join(CORPUS, 'third-party'))];
  it('finds the corpus files', () => expect(files.length).toBeGreaterThan(40));
  for (const file of files) {
    it(file.slice(CORPUS.length), async () => {
      const keys: KeyMemory[] = [];
      const checked = await summarizeRdb(ByteSource.fromFile(file)).catch((e: Error) => e);
      const run = analyzeRdb(ByteSource.fromFile(file), { ...REPORT, onKey: (k) => keys.push(k) });
      // A file rdb-check rejects is rejected with the same one-line error.
      if (checked instanceof Error) return void (await expect(run).rejects.toThrow(checked.message));
      const r = await run;
      const s = checked;
      expect(r.keys).toBe(s.totalKeys);
      expect(keys.reduce((x, k) => x + k.bytes, 0)).toBe(r.bytes);
      for (const k of keys) {
        // Every key costs at least its dictEntry, key sds and robj, and a whole number of bytes.
        expect(k.bytes, k.key.toString()).toBeGreaterThanOrEqual(24 + 8 + 16);
        expect(Number.isInteger(k.bytes), k.key.toString()).toBe(true);
      }
      expect(r.byType.reduce((x, t) => x + t.keys, 0)).toBe(r.keys);
    });
  }
});
