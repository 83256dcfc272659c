import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, DEMO_RDB } from './cli-helper.js';

// verify --json names why a backup failed, as rdb-check --json does: a stored RDB of a newer
// version than this tool reads is exit 6 with "reason": "newer-version", not damage.

const work = mkdtempSync(join(tmpdir(), 'tsredis-verify-reason-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A plain backup of the demo RDB whose stored bytes are then rewritten by `edit`, manifest's stored hash kept in step. */
async function editedBackup(dir: string, edit: (rdb: Buffer) => void): Promise<void> {
  const r = await cli(['backup', '--from', DEMO_RDB, '--to', dir, '--name', 'demo', '--compress', 'none', '--no-encrypt']);
  expect(r.code, r.stderr).toBe(0);
  const manifestFile = readdirSync(dir).find((n) => n.endsWith('.manifest.json'))!;
  const manifest = JSON.parse(readFileSync(join(dir, manifestFile), 'utf8'));
  const object = join(dir, manifest.object);
  const bytes = readFileSync(object);
  edit(bytes);
  writeFileSync(object, bytes);
  manifest.stored.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir, manifestFile), JSON.stringify(manifest));
}

describe('verify --json reason', { timeout: 60_000 }, () => {
  it('a stored RDB of a newer version: exit 6, "newer-version"; the shallow check still passes', async () => {
    const dir = join(work, 'newer');
    await editedBackup(dir, (b) => b.write('0099', 5, 'latin1'));
    const shallow = await cli(['verify', '--target', dir, '--json']);
    expect(shallow.code, shallow.stderr).toBe(0);
    const deep = await cli(['verify', '--target', dir, '--deep', '--json']);
    expect(deep.code, deep.stderr).toBe(6);
    const out = JSON.parse(deep.stdout);
    expect(out.ok).toBe(false);
    expect(out.results[0].reason).toBe('newer-version');
    expect(out.results[0].error).toMatch(/at byte 5: .*99/);
  });

  it('a damaged RDB: exit 1, "corrupt"; a stored hash that differs: "mismatch"', async () => {
    const dir = join(work, 'corrupt');
    await editedBackup(dir, (b) => b.writeUInt8(0xfe ^ b[b.length - 20]!, b.length - 20));
    const deep = await cli(['verify', '--target', dir, '--deep', '--json']);
    expect(deep.code, deep.stderr).toBe(1);
    expect(JSON.parse(deep.stdout).results[0].reason).toBe('corrupt');

    const manifestFile = readdirSync(dir).find((n) => n.endsWith('.manifest.json'))!;
    const manifest = JSON.parse(readFileSync(join(dir, manifestFile), 'utf8'));
    manifest.stored.sha256 = '0'.repeat(64);
    writeFileSync(join(dir, manifestFile), JSON.stringify(manifest));
    const shallow = await cli(['verify', '--target', dir, '--json']);
    expect(shallow.code).toBe(1);
    expect(JSON.parse(shallow.stdout).results[0].reason).toBe('mismatch');
  });
});
