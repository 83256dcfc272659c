import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../backup/s3-server.js';
import { cli, isEmpty, keyCounts, populate, saveRdb, tempDir } from './helpers.js';

let s3: TestS3;
let rdb: string;
let older: string;
let sourceDigest: string;
let olderDigest: string;
let pass: string;
let work: string;

beforeAll(async () => {
  s3 = await startS3();
  work = tempDir();
  pass = join(work, 'pass');
  writeFileSync(pass, 'restore test passphrase\n');
  const source = await startRedis();
  const c = await source.client();
  await c.call('SET', 'only-in-older', '1');
  older = await saveRdb(source, join(work, 'older.rdb'));
  olderDigest = await debugDigest(source);
  await c.call('DEL', 'only-in-older');
  await populate(c);
  c.close();
  rdb = await saveRdb(source, join(work, 'dump.rdb'));
  sourceDigest = await debugDigest(source);
  const s3args = ['--s3-endpoint', s3.endpoint, '--s3-path-style'];
  for (const [file, at] of [
    [older, '2026-01-01T00:00:00Z'],
    [rdb, '2026-02-01T00:00:00Z'],
  ] as const) {
    const b = cli(['backup', '--from', file, '--to', 's3://backups/prod', '--to', join(work, 'store'), '--name', 'prod', '--taken-at', at, '--passphrase-file', pass, ...s3args], s3.env);
    if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
  }
}, 120_000);
afterAll(async () => {
  await stopAllRedis();
  await s3?.destroy();
});

const s3args = (): string[] => ['--s3-endpoint', s3.endpoint, '--s3-path-style'];

describe('restore --from a backup store', () => {
  it('the latest encrypted, compressed backup on S3 → --to-dir → redis-server: equal DEBUG DIGEST', async () => {
    const dir = tempDir();
    const r = cli(['restore', '--from', 's3://backups/prod', '--latest', '--passphrase-file', pass, '--to-dir', dir, '--json', ...s3args()], s3.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { backup: string; checked: string[]; layers: string[] };
    expect(rep.backup).toBe('prod-20260201T000000Z.rdb.gz.gpg');
    expect(rep.checked).toEqual(['stored size', 'stored sha256', 'decrypted', 'decompressed', 'plain size', 'plain sha256', 'RDB parsed (CRC-64 ok)', 'key count']);
    const node = await startRedis({ dir });
    expect(await debugDigest(node)).toBe(sourceDigest);
  });

  it('--before picks the older backup; online restore from S3 with --verify', async () => {
    const target = await startRedis();
    const r = cli(['restore', '--from', 's3://backups/prod', '--latest', '--before', '2026-01-15T00:00:00Z', '--to', target.url, '--verify', '--json', ...s3args()], { ...s3.env, TSREDIS_PASSPHRASE: 'restore test passphrase' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { backup: string }).backup).toBe('prod-20260101T000000Z.rdb.gz.gpg');
    expect(await debugDigest(target)).toBe(olderDigest);
  });

  it('--backup NAME from a directory store', async () => {
    const target = await startRedis();
    const r = cli(['restore', '--from', join(work, 'store'), '--backup', 'prod-20260201T000000Z', '--passphrase-file', pass, '--to', target.url]);
    expect(r.code).toBe(0);
    expect(await debugDigest(target)).toBe(sourceDigest);
  });

  it('a tampered stored object (one flipped byte) is refused before anything is written', async () => {
    const bucketDir = join(s3.dir, 'backups', 'prod');
    const obj = readdirSync(bucketDir).find((f) => f.startsWith('prod-20260201T000000Z.rdb.gz.gpg') && f.endsWith('._S3rver_object'));
    expect(obj).toBeDefined();
    const path = join(bucketDir, obj!);
    const original = readFileSync(path);
    const bad = Buffer.from(original);
    bad[Math.floor(bad.length / 2)]! ^= 0x01;
    writeFileSync(path, bad);
    try {
      const target = await startRedis();
      const dir = join(tempDir(), 'node');
      for (const args of [['--to', target.url], ['--to-dir', dir]]) {
        const r = cli(['restore', '--from', 's3://backups/prod', '--latest', '--passphrase-file', pass, ...args, ...s3args()], s3.env);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/stored sha256 [0-9a-f]{64}, manifest says/);
      }
      expect(await isEmpty(target)).toBe(true);
      expect(existsSync(dir)).toBe(false);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('a wrong passphrase is refused (exit 4) before anything is written', async () => {
    const wrong = join(work, 'wrong');
    writeFileSync(wrong, 'nope\n');
    const target = await startRedis();
    const r = cli(['restore', '--from', 's3://backups/prod', '--latest', '--passphrase-file', wrong, '--to', target.url, ...s3args()], s3.env);
    expect(r.code).toBe(4);
    expect(await isEmpty(target)).toBe(true);
  });

  it('names a missing backup and demands a choice', () => {
    expect(cli(['restore', '--from', join(work, 'store'), '--backup', 'nosuch', '--to-dir', tempDir()]).stderr).toMatch(/no backup "nosuch"/);
    expect(cli(['restore', '--from', join(work, 'store'), '--to-dir', tempDir()]).code).toBe(2);
  });
});
