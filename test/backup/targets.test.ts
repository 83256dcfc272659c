import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_RDB, ROOT, cli } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

// Issue 13, items 3 and 6: a target is a known scheme or a local path, and a target that is not
// there is an error (exit 3), never "0 backup(s)" or a directory named after a typo.

let work: string;
let s3: TestS3;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-targets-'));
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const REMOTE_LOOKING = ['scp:user@127.0.0.1:/x', 'backuphost:/srv/backups', 'root@backuphost:backups', 'sftp:box/dir', 'ftp://host/dir', 'ftp://x', 'host:/x'];

describe('strict target parsing', { timeout: 120_000 }, () => {
  it.each(REMOTE_LOOKING)('backup --to %s is refused with exit 2 and a hint; nothing is created', async (target) => {
    const r = await cli(['backup', '--from', DEMO_RDB, '--to', target, '--no-encrypt', '--name', 'demo'], { env: {} });
    // spawned with cwd = the repository root, where the old code created the directory
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/unsupported target/);
    expect(r.stderr).toMatch(/\.\/NAME or as an absolute path/);
    expect(r.stdout).not.toMatch(/verified/);
    expect(existsSync(target.split('/')[0]!)).toBe(false);
  });

  it('list, prune, verify --target and restore --from refuse host:path the same way', async () => {
    for (const args of [
      ['list', '--target', 'host:/srv/backups'],
      ['prune', '--target', 'host:/srv/backups', '--keep-last', '1'],
      ['verify', '--target', 'user@host:backups'],
      ['restore', '--from', 'user@host:backups', '--latest', '--to-dir', join(work, 'never')],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/unsupported target/);
    }
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('a local directory with a colon in its name is accepted when written ./NAME or absolute', async () => {
    const abs = await cli(['backup', '--from', DEMO_RDB, '--to', join(work, 'abs:colon'), '--no-encrypt', '--name', 'demo']);
    expect(abs.code, abs.stderr).toBe(0);
    expect(readdirSync(join(work, 'abs:colon')).some((f) => f.endsWith('.manifest.json'))).toBe(true);
    // The CLI runs with cwd = the repository root: reach the temp dir by a ./ relative path.
    const dotted = `./${relative(ROOT, join(work, 'rel:colon'))}`;
    const rel = await cli(['backup', '--from', DEMO_RDB, '--to', dotted, '--no-encrypt', '--name', 'demo']);
    expect(rel.code, rel.stderr).toBe(0);
    expect(readdirSync(join(work, 'rel:colon')).some((f) => f.endsWith('.manifest.json'))).toBe(true);
  });
});

describe('a target that is not there is exit 3, not "0 backup(s)"', { timeout: 120_000 }, () => {
  it('list --target of a mistyped directory exits 3 and names it', async () => {
    const missing = join(work, 'mistyped', 'path');
    const r = await cli(['list', '--target', missing]);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/no such directory/);
    expect(r.stdout).not.toMatch(/0 backup/);
  });

  it('list --target of a file (not a directory) exits 3', async () => {
    const r = await cli(['list', '--target', DEMO_RDB]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not a directory/);
  });

  it('an existing empty directory is "0 backup(s)", exit 0', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const r = await cli(['list', '--target', empty]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 backup\(s\)/);
  });

  it('verify and prune of a missing directory exit 3 too', async () => {
    const missing = join(work, 'gone');
    expect((await cli(['verify', '--target', missing])).code).toBe(3);
    expect((await cli(['prune', '--target', missing, '--keep-last', '1'])).code).toBe(3);
  });

  it('list of an S3 bucket that does not exist exits 3', async () => {
    const r = await cli(['list', '--target', 's3://no-such-bucket/redis', '--s3-endpoint', s3.endpoint, '--s3-path-style'], { env: s3.env });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).toMatch(/NoSuchBucket/);
  });
});
