import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_RDB, cli } from './cli-helper.js';

// Issue 13, item 15: restore --from checks what verify --deep checks, the key count included.

let work: string;
let store: string;
let manifestPath: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-restore-manifest-'));
  store = join(work, 'store');
  const b = await cli(['backup', '--from', DEMO_RDB, '--to', store, '--no-encrypt', '--name', 'demo']);
  if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
  manifestPath = join(store, readdirSync(store).find((f) => f.endsWith('.manifest.json'))!);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('restore --from and a manifest whose key count was edited', { timeout: 60_000 }, () => {
  it('restores with the true manifest (and says it checked the key count)', async () => {
    const r = await cli(['restore', '--from', store, '--latest', '--to-dir', join(work, 'good'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).checked).toContain('key count');
  });

  it('fails with exit 1 like verify --deep once keys.total says 12345, writing nothing', async () => {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const real = m.keys.total as number;
    expect(real).not.toBe(12345);
    m.keys.total = 12345;
    writeFileSync(manifestPath, JSON.stringify(m, null, 2));
    const v = await cli(['verify', '--target', store, '--deep']);
    expect(v.code).toBe(1);
    const dir = join(work, 'tampered');
    const r = await cli(['restore', '--from', store, '--latest', '--to-dir', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`RDB holds ${real} keys, manifest says 12345`);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
