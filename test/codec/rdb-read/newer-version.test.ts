import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/util/errors.js';

/**
 * An RDB of a newer version than the tool reads is not damaged data: it gets its own message
 * (found version, versions read), exit code 6 and `"reason": "newer-version"` in --json, on every
 * command that reads an RDB, where a damaged file keeps exit 1.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { encoding: 'utf8', env: { ...process.env, TSREDIS_PASSPHRASE: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const work = mkdtempSync(join(tmpdir(), 'tsredis-newer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The demo fixture (a real Redis 7.0 SAVE) with its magic replaced: only the header says newer. */
function withMagic(magic: string): string {
  const demo = readFileSync(join(ROOT, 'fixtures/demo.rdb'));
  const f = join(work, `${magic}.rdb`);
  writeFileSync(f, Buffer.concat([Buffer.from(magic, 'latin1'), demo.subarray(9)]));
  return f;
}

describe('RDB newer than the tool reads', () => {
  it('rdb-check: a distinct message and exit code, and reason "newer-version" in --json', () => {
    const f = withMagic('REDIS0016');
    const r = run('rdb-check', f);
    expect(r.code).toBe(ExitCode.NEWER_FORMAT);
    expect(r.code).not.toBe(ExitCode.DATA);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`${f}: at byte 5: REDIS RDB version 16 is newer than this tool reads (REDIS RDB 1-15)`);
    const j = run('rdb-check', f, '--json');
    expect(j.code).toBe(ExitCode.NEWER_FORMAT);
    const doc = JSON.parse(j.out) as { valid: boolean; reason: string; error: { offset: number; found: string; supported: string } };
    expect(doc).toMatchObject({ valid: false, reason: 'newer-version', error: { offset: 5, found: 'REDIS RDB version 16', supported: 'REDIS RDB 1-15' } });
  });

  it('Valkey magic, rdb-dump and restore --to-dir say the same; a damaged version field stays exit 1', () => {
    const v = run('rdb-check', withMagic('VALKEY082'));
    expect(v.code).toBe(ExitCode.NEWER_FORMAT);
    expect(v.err).toContain('VALKEY RDB version 82 is newer than this tool reads (VALKEY RDB 80-81)');
    const f = withMagic('REDIS0099');
    for (const args of [['rdb-dump', f], ['restore', f, '--to-dir', join(work, 'out')]]) {
      const r = run(...args);
      expect(r.code, `${args[0]}: ${r.err}`).toBe(ExitCode.NEWER_FORMAT);
      expect(r.err).toContain('REDIS RDB version 99 is newer than this tool reads');
    }
    const bad = run('rdb-check', withMagic('REDIS00x9'), '--json');
    expect(bad.code).toBe(ExitCode.DATA);
    expect(JSON.parse(bad.out)).toMatchObject({ valid: false, reason: 'corrupt' });
  });
});
