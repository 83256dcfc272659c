import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORPUS, walk } from './corpus-helpers.js';
import { fuzz } from './fuzz-lib.js';

/**
 * Bounded fuzz (seeded, reproducible): flips, overwrites, truncations, insertions and deletions of
 * corpus files. Every outcome is a clean parse or a one-line FormatError — never another exception
 * or a hang. A longer run: `npx tsx`-free, see bench/rdb-fuzz.sh.
 */

const small = [...walk(`${CORPUS}third-party`, '.rdb'), ...walk(`${CORPUS}rdb`, '.rdb')].filter((f) => statSync(f).size < 64 * 1024);
const large = walk(`${CORPUS}rdb`, '.rdb').filter((f) => /(7\.0\.15|7\.4\.1|2\.8\.24|6\.2\.16|valkey).*_low/.test(f));

describe('RDB reader fuzz', () => {
  it('small files: 2500 mutations', async () => {
    expect(small.length).toBeGreaterThan(20);
    const failures = await fuzz(small, 2500, 0x5eed1);
    expect(failures.slice(0, 5)).toEqual([]);
  });
  it('server datasets: 400 mutations', async () => {
    expect(large.length).toBeGreaterThanOrEqual(4);
    const failures = await fuzz(large, 400, 0x5eed2);
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
