import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/util/errors.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { DEMO_RDB, ROOT, cli, gpg } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
let work: string;
let passFile: string;
const s3Env = () => ({ ...s3.env, AWS_ENDPOINT_URL: s3.endpoint });
const S3T = 's3://backups/redis';

beforeAll(async () => {
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'tsredis-backup-'));
  passFile = join(work, 'pass');
  writeFileSync(passFile, 'a good long passphrase\n');
});
afterAll(async () => {
  await stopAllRedis();
  await s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

async function s3Get(key: string): Promise<Buffer> {
  const r = await s3.client().send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
  return buffer(r.Body as Readable);
}

function gpgHome(): string {
  const h = mkdtempSync(join(work, 'gnupg-'));
  return h;
}

// Each case runs the CLI several times; on a loaded 2-core machine that takes a while.
describe('backup to a directory and S3 in one pass', { timeout: 180_000 }, () => {
  it('backs up a real redis-server RDB; the stored bytes round-trip exactly and gpg -d restores it', async () => {
    const redis = await startRedis();
    const c = await redis.client();
    for (let i = 0; i < 500; i++) await c.call('SET', `k${i}`, `value-${i}`.repeat(20));
    await c.call('SELECT', 2);
    await c.call('RPUSH', 'list', 'a', 'b', 'c');
    await c.call('SAVE');
    c.close();
    const rdb = join(redis.dir, 'dump.rdb');
    const dir = join(work, 'one');
    const r = await cli(['backup', '--from', rdb, '--to', dir, '--to', S3T, '--s3-path-style', '--passphrase-file', passFile, '--name', 'main', '--json'], {
      env: s3Env(),
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const m = out.manifest;
    expect(out.object).toMatch(/^main-\d{8}T\d{6}Z\.rdb\.gz\.gpg$/);
    expect(m.keys).toEqual({ total: 501, perDb: { '0': 500, '2': 1 } });
    expect(m.redisVersion).toMatch(/^7\./);
    expect(m.rdbVersion).toBeGreaterThanOrEqual(9);
    expect(m.encryption).toEqual({ mode: 'passphrase', cipher: 'aes256' });
    expect(out.targets.map((t: { verifiedBy: string }) => t.verifiedBy)).toEqual(['read-back sha256', 'size + ETag md5']);

    const plain = readFileSync(rdb);
    const local = readFileSync(join(dir, out.object));
    const remote = await s3Get(`redis/${out.object}`);
    expect(remote.equals(local)).toBe(true);
    expect(remote.length).toBe(m.stored.size);
    const home = gpgHome();
    expect(gunzipSync(gpg(home, ['--passphrase-file', passFile, '-d'], remote)).equals(plain)).toBe(true);
    const manifestKey = out.object.replace(/\.rdb\.gz\.gpg$/, '.manifest.json');
    expect(JSON.parse((await s3Get(`redis/${manifestKey}`)).toString())).toEqual(m);
    expect(readFileSync(join(dir, manifestKey), 'utf8')).not.toContain('a good long passphrase');
    const marker = JSON.parse(readFileSync(join(dir, 'main.last-success.json'), 'utf8'));
    expect(marker.object).toBe(out.object);
    expect(JSON.parse((await s3Get('redis/main.last-success.json')).toString()).object).toBe(out.object);

    for (const target of [dir, S3T]) {
      const v = await cli(['verify', '--target', target, '--s3-path-style', '--latest', '--deep', '--passphrase-file', passFile, '--json'], { env: s3Env() });
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout).results[0].checked).toContain('plain sha256');
      const l = await cli(['list', '--target', target, '--s3-path-style', '--json'], { env: s3Env() });
      expect(JSON.parse(l.stdout).backups.map((b: { object: string }) => b.object)).toContain(out.object);
    }
  });

  it('bgsave: and redis:// sources (with a password from a file)', async () => {
    const redis = await startRedis({ config: { requirepass: 'sesame', dbfilename: 'node.rdb' } });
    const c = await redis.client();
    await c.call('HSET', 'h', 'f', 'v');
    await c.call('SET', 's', 'x');
    c.close();
    const pw = join(work, 'redis-pass');
    writeFileSync(pw, 'sesame\n');
    const dir = join(work, 'sources');
    const url = `redis://127.0.0.1:${redis.port}`;
    const b = await cli(['backup', '--from', `bgsave:${url}`, '--to', dir, '--password-file', pw, '--no-encrypt', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const bo = JSON.parse(b.stdout);
    expect(bo.manifest.source.kind).toBe('bgsave');
    expect(bo.manifest.keys.total).toBe(2);
    expect(bo.object).toMatch(/^127\.0\.0\.1-\d+-.*\.rdb\.gz$/);
    expect(gunzipSync(readFileSync(join(dir, bo.object))).equals(readFileSync(join(redis.dir, 'node.rdb')))).toBe(true);

    const rep = await cli(['backup', '--from', url, '--to', dir, '--name', 'viarepl', '--no-encrypt', '--json'], { env: { REDISCLI_AUTH: 'sesame' } });
    expect(rep.code, rep.stderr).toBe(0);
    const ro = JSON.parse(rep.stdout);
    expect(ro.manifest.source).toEqual({ kind: 'replication', location: url });
    expect(ro.manifest.keys.total).toBe(2);
    expect(rep.stdout + rep.stderr).not.toContain('sesame');

    const wrong = await cli(['backup', '--from', url, '--to', dir, '--name', 'nopass', '--no-encrypt']);
    // No password: the node refuses the replica; a missing secret is exit 4.
    expect(wrong.code, wrong.stderr).toBe(ExitCode.CRYPTO);
    expect(wrong.stderr).toMatch(/NOAUTH|auth/i);
  });

  it('a damaged RDB fails with exit 1 and leaves nothing on any target', async () => {
    const good = readFileSync(DEMO_RDB);
    const bad = Buffer.from(good);
    bad[bad.length - 3]! ^= 0x40; // inside the CRC-64 trailer
    const file = join(work, 'damaged.rdb');
    writeFileSync(file, bad);
    const dir = join(work, 'damaged');
    const hook = join(work, 'hook-damaged');
    const r = await cli(['backup', '--from', file, '--to', dir, '--to', 's3://backups/damaged', '--s3-path-style', '--no-encrypt', '--on-failure', `echo "$TSREDIS_EXIT_CODE $TSREDIS_MESSAGE" > ${hook}`], {
      env: s3Env(),
    });
    expect(r.code).toBe(ExitCode.DATA);
    expect(r.stderr).toMatch(/damaged\.rdb: at byte \d+: expected RDB checksum/);
    expect(readFileSync(hook, 'utf8')).toMatch(/^1 .*checksum/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    const l = await cli(['list', '--target', 's3://backups/damaged', '--s3-path-style', '--json'], { env: s3Env() });
    expect(JSON.parse(l.stdout)).toEqual({ target: expect.any(String), backups: [], incomplete: [] });
    expect(s3.pendingUploads()).toEqual([]);
  });

  it('a stored object with one flipped byte fails verify and verify --deep (directory and S3)', async () => {
    const dir = join(work, 'flip');
    const r = await cli(['backup', '--from', DEMO_RDB, '--to', dir, '--to', 's3://backups/flip', '--s3-path-style', '--passphrase-file', passFile, '--json'], {
      env: s3Env(),
    });
    expect(r.code, r.stderr).toBe(0);
    const object = JSON.parse(r.stdout).object as string;
    const data = readFileSync(join(dir, object));
    data[Math.floor(data.length / 2)]! ^= 0x01;
    writeFileSync(join(dir, object), data);
    await s3.client().send(new PutObjectCommand({ Bucket: 'backups', Key: `flip/${object}`, Body: data }));
    for (const target of [dir, 's3://backups/flip']) {
      for (const deep of [[], ['--deep']]) {
        const v = await cli(['verify', '--target', target, '--s3-path-style', object, ...deep, '--passphrase-file', passFile], { env: s3Env() });
        expect(v.code, `${target} ${deep}`).toBe(ExitCode.DATA);
        expect(v.stderr).toMatch(/stored sha256 [0-9a-f]{64} .* manifest says/);
      }
    }
  });

  it('refuses to overwrite a backup with the same name and time (exit 5); --taken-at needs a zone', async () => {
    const dir = join(work, 'dup');
    const args = ['backup', '--from', DEMO_RDB, '--to', dir, '--no-encrypt', '--taken-at', '2026-01-02T03:04:05Z'];
    expect((await cli(args)).code).toBe(0);
    const again = await cli(args);
    expect(again.code).toBe(ExitCode.REFUSED);
    expect(again.stderr).toMatch(/already exists/);
    expect(readdirSync(dir).sort()).toEqual(['demo-20260102T030405Z.manifest.json', 'demo-20260102T030405Z.rdb.gz', 'demo.last-success.json']);
    const noZone = await cli(['backup', '--from', DEMO_RDB, '--to', dir, '--no-encrypt', '--taken-at', '2026-01-02T03:04:05']);
    expect(noZone.code).toBe(ExitCode.USAGE);
  });

  it('runs from a config file (sources, targets, encryption, retention)', async () => {
    const cfgFile = join(work, 'cfg.json');
    const dir = join(work, 'cfg');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        sources: [{ name: 'alpha', from: DEMO_RDB }, { name: 'beta', from: DEMO_RDB }],
        to: [dir],
        encryption: { passphraseFile: passFile },
        retention: { keepLast: 1 },
      }),
    );
    expect((await cli(['backup', '--config', cfgFile, '--taken-at', '2026-01-01T00:00:00Z'])).code).toBe(0);
    const r = await cli(['backup', '--config', cfgFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const names = readdirSync(dir).filter((f) => f.endsWith('.manifest.json'));
    expect(names).toHaveLength(2); // keep-last 1 per backup name removed the 2026-01-01 pair
    expect(names.every((n) => !n.includes('20260101T000000Z'))).toBe(true);
    expect(JSON.parse(r.stdout).backups).toHaveLength(2);
    expect(ROOT).toBeTruthy();
  });
});
