import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { gpg } from '../backup/cli-helper.js';
import { CORPUS, cli, isEmpty, keyCounts, populate, saveRdb, tempDir } from './helpers.js';

let rdb: string;
let sourceDigest: string;
let work: string;
let passFile: string;

function gpgEncrypt(input: string, output: string, passphraseFile: string): void {
  gpg(tempDir(), ['--passphrase-file', passphraseFile, '-c', '-o', output, input]);
}

beforeAll(async () => {
  const source = await startRedis();
  const c = await source.client();
  await populate(c);
  c.close();
  work = tempDir();
  rdb = await saveRdb(source, join(work, 'dump.rdb'));
  sourceDigest = await debugDigest(source);
  passFile = join(work, 'pass');
  writeFileSync(passFile, 'correct horse battery staple\n');
});
afterAll(stopAllRedis);

describe('restore sources', () => {
  it('gzip then gpg -c, detected from content whatever the name, restores with an equal digest', async () => {
    execFileSync('sh', ['-c', `gzip -c '${rdb}' > '${work}/d.gz'`]);
    gpgEncrypt(join(work, 'd.gz'), join(work, 'backup.bin'), passFile);
    const target = await startRedis();
    const r = cli(['restore', join(work, 'backup.bin'), '--to', target.url, '--passphrase-file', passFile, '--verify', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { layers: string[] }).layers).toEqual(['gpg', 'gzip']);
    expect(await debugDigest(target)).toBe(sourceDigest);
  });

  it('gpg inside gzip, passphrase from the environment', async () => {
    gpgEncrypt(rdb, join(work, 'p.gpg'), passFile);
    execFileSync('sh', ['-c', `gzip -c '${work}/p.gpg' > '${work}/p.gpg.gz'`]);
    const target = await startRedis();
    const r = cli(['restore', join(work, 'p.gpg.gz'), '--to', target.url, '--json'], { TSREDIS_PASSPHRASE: 'correct horse battery staple' });
    expect(r.code).toBe(0);
    expect(await debugDigest(target)).toBe(sourceDigest);
  });

  it('wrong passphrase: exit 4, nothing written, no secret in the output', async () => {
    const wrong = join(work, 'wrong');
    writeFileSync(wrong, 'not the passphrase\n');
    const target = await startRedis();
    const r = cli(['restore', join(work, 'backup.bin'), '--to', target.url, '--passphrase-file', wrong]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/wrong passphrase/);
    expect(r.stderr).not.toMatch(/not the passphrase/);
    expect(await isEmpty(target)).toBe(true);
  });

  it('one flipped byte in an encrypted backup: refused before anything is written', async () => {
    const data = readFileSync(join(work, 'backup.bin'));
    data[data.length - 30]! ^= 0x40;
    writeFileSync(join(work, 'tampered.bin'), data);
    const target = await startRedis();
    const dir = join(tempDir(), 'node');
    for (const args of [['--to', target.url], ['--to-dir', dir]]) {
      const r = cli(['restore', join(work, 'tampered.bin'), ...args, '--passphrase-file', passFile]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/tampered\.bin/);
    }
    expect(await isEmpty(target)).toBe(true);
    expect(() => readFileSync(join(dir, 'dump.rdb'))).toThrow();
  });

  it('a file that is neither RDB, gzip nor OpenPGP gets a one-line error naming it', () => {
    writeFileSync(join(work, 'junk'), 'hello, not a backup');
    const r = cli(['restore', join(work, 'junk'), '--to-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/junk: at byte 0: an RDB file/);
  });

  it('a Redis 7.4 backup onto the running 7.0 node: refused without --lossy, restored and verified with it', async () => {
    const base = join(CORPUS, 'rdb/redis-7.4.1/redis-7.4.1_s1_low');
    const truth = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { key_counts: Record<string, number>; keys: Array<{ key: string; type: string; value: { field_expire_at_ms?: object } }> };
    const hfe = truth.keys.filter((k) => k.type === 'hash' && k.value.field_expire_at_ms && Object.keys(k.value.field_expire_at_ms).length).map((k) => k.key);
    const target = await startRedis();
    const refused = cli(['restore', `${base}.rdb`, '--to', target.url]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/cannot be represented.*--lossy/);
    expect(await isEmpty(target)).toBe(true);
    const r = cli(['restore', `${base}.rdb`, '--to', target.url, '--lossy', '--verify', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { plan: { lossy: Array<{ key: string }> }; verify: { ok: boolean } };
    expect(rep.plan.lossy.map((l) => l.key).sort()).toEqual([...hfe].sort());
    expect(rep.verify.ok).toBe(true);
    const c = await target.client();
    expect(await keyCounts(c)).toEqual(Object.fromEntries(Object.entries(truth.key_counts).map(([db, n]) => [Number(db), n])));
    c.close();
  });
});

describe('restore from a replicate directory', () => {
  for (const label of ['redis-7.0.15-debian_aof_preamble-yes', 'redis-7.0.15-debian_aof_preamble-no']) {
    it(`${label}: base + incr replayed and restored, equal to what Redis loaded`, async () => {
      const truth = JSON.parse(readFileSync(join(CORPUS, 'aof', `${label}.json`), 'utf8')) as { debug_digest: string; key_counts: Record<string, number> };
      // The layout `tsredis-ops replicate --dir` keeps: DIR/appendonlydir/...
      const dir = tempDir();
      execFileSync('cp', ['-a', join(CORPUS, 'aof', label, 'appendonlydir'), dir]);
      const target = await startRedis();
      const r = cli(['restore', dir, '--to', target.url, '--verify', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rep = JSON.parse(r.stdout) as { replayed: { commands: number }; verify: { ok: boolean } };
      expect(rep.replayed.commands).toBeGreaterThan(0);
      expect(rep.verify.ok).toBe(true);
      const c = await target.client();
      expect(await keyCounts(c)).toEqual(Object.fromEntries(Object.entries(truth.key_counts).map(([db, n]) => [Number(db), n])));
      c.close();
      expect(await debugDigest(target)).toBe(truth.debug_digest);
    });
  }
});
