import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugDigest, shutdownRedis, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { dirHashes, sha256 } from './helpers.js';
import { CORPUS } from '../helpers/corpus.js';

// The commands as an operator runs them: node bin/tsredis-ops.js (built by `npx tsc -p .`).
const root = fileURLToPath(new URL('../../', import.meta.url));
const corpus = CORPUS;
const work = mkdtempSync(join(tmpdir(), 'aof-cli-'));

function cli(args: string[], opts: { cwd?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/tsredis-ops.js'), ...args], { encoding: 'utf8', cwd: opts.cwd ?? work, input: '' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A writable copy of a corpus case folder. */
function caseCopy(name: string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  cpSync(join(corpus, 'aof-corrupt', name), dir, { recursive: true });
  for (const p of [dir, ...readdirSync(dir).map((n) => join(dir, n))]) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  return dir;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli/commands/aof-check.js'))) throw new Error('build first: npx tsc -p . (npm test does it)');
});
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('aof-check CLI', () => {
  it('an RDB preamble of a newer version: exit 6 and, with --json, the same report rdb-check gives', () => {
    const rdb = readFileSync(join(root, 'fixtures/demo.rdb'));
    rdb.write('0099', 5, 'latin1');
    const file = join(work, 'newer-preamble.aof');
    writeFileSync(file, rdb);
    const plain = cli(['aof-check', file]);
    expect(plain.code).toBe(6);
    expect(plain.stderr).toMatch(/at byte 5: .*99/);
    const json = cli(['aof-check', file, '--json']);
    expect(json.code).toBe(6);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ path: file, valid: false, reason: 'newer-version', error: { offset: 5 } });
    const fix = cli(['aof-check', '--fix', '--yes', file]);
    expect(fix.code).toBe(6);
    expect(readFileSync(file).equals(rdb)).toBe(true);
  });

  it('teaches with --help and rejects bad usage with exit 2', () => {
    const help = cli(['aof-check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--undo-flush/);
    expect(cli(['aof-check', 'x.aof', '--fix', '--undo-flush']).code).toBe(2);
    expect(cli(['aof-check', 'x.aof', '--truncate-to-timestamp', 'soon']).code).toBe(2);
    expect(cli(['aof-check', 'x.aof', '--yes']).code).toBe(2);
    // A Redis data directory is enough: its appendonlydir (7.0+) or its appendonly.aof (6.2).
    expect(cli(['aof-check', join(corpus, 'aof/redis-6.2.16_aof_preamble-no')]).code).toBe(0);
    expect(cli(['aof-check', join(corpus, 'aof/redis-7.0.15-debian_aof_preamble-yes')]).code).toBe(0);
    const missing = cli(['aof-check', join(work, 'no-such.aof')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports damage with exit 1, and --dry-run or a missing --yes without a terminal change nothing', () => {
    const dir = caseCopy('aof62plain_garbage-middle');
    const before = sha256(join(dir, 'input.aof'));
    const check = cli(['aof-check', 'input.aof'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/valid up to byte 3835/);
    expect(check.stdout).toMatch(/MIDDLE/);
    const dry = cli(['aof-check', 'input.aof', '--fix', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/cut input\.aof from 7784 to 3835 bytes: 3949 bytes .* dropped/);
    expect(dry.stdout).toMatch(/Dry run: nothing was changed/);
    const noTty = cli(['aof-check', 'input.aof', '--fix'], { cwd: dir });
    expect(noTty.code).toBe(1);
    expect(noTty.stdout).toMatch(/no terminal/);
    expect(sha256(join(dir, 'input.aof'))).toBe(before);
    expect(readdirSync(dir).filter((n) => n.endsWith('.bak'))).toEqual([]);
  });

  it('on a terminal it asks before cutting: "n" keeps the file, "y" cuts it', () => {
    const dir = caseCopy('aof70incr_trunc-mid-command');
    const before = sha256(join(dir, 'input.aof'));
    // util-linux `script` gives the command a pseudo-terminal; the answer is typed into it.
    const onTty = (answer: string) =>
      spawnSync('script', ['-qec', `stty cols 100; ${process.execPath} ${join(root, 'bin/tsredis-ops.js')} aof-check input.aof --fix; echo EXIT=$?`, '/dev/null'], {
        cwd: dir,
        input: answer,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const no = onTty('n\n');
    expect(no.error).toBeUndefined();
    expect(no.stdout).toMatch(/\[y\/N\]: /);
    expect(no.stdout).toMatch(/Aborted: nothing was changed[\s\S]*EXIT=1/);
    expect(sha256(join(dir, 'input.aof'))).toBe(before);
    const yes = onTty('y\n');
    expect(yes.stdout).toMatch(/Checked again: the AOF is valid[\s\S]*EXIT=0/);
    expect(statSync(join(dir, 'input.aof')).size).toBe(4738);
  });

  it('--fix --yes keeps the original, says loudly that good commands are lost, and cuts like redis-check-aof', () => {
    const dir = caseCopy('aof62plain_garbage-middle');
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    const original = sha256(join(dir, 'input.aof'));
    const backups = join(work, 'backups-garbage');
    const r = cli(['aof-check', 'input.aof', '--fix', '--yes', '--backup-dir', backups, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/WARNING: input\.aof: the damage is in the middle/);
    const out = JSON.parse(r.stdout);
    expect(out.plan).toMatchObject({ reason: 'fix', fromSize: 7784, toSize: 3835, bytes: 3949, damage: 'middle' });
    expect(out.plan.commands).toBeGreaterThan(0);
    expect(out.validAfter).toBe(true);
    expect(out.applied.backup.startsWith(backups)).toBe(true);
    expect(sha256(out.applied.backup)).toBe(original);
    expect(statSync(join(dir, 'input.aof')).size).toBe(exp.fix.after.size);
    expect(sha256(join(dir, 'input.aof'))).toBe(exp.fix.after.sha256);
    expect(cli(['aof-check', 'input.aof'], { cwd: dir }).code).toBe(0);
  });

  it('a multi-part AOF with a truncated last incr: tail-only damage, backup beside the file', () => {
    const dir = caseCopy('multi70_trunc-last-incr');
    for (const n of readdirSync(join(dir, 'appendonlydir'))) chmodSync(join(dir, 'appendonlydir', n), 0o644);
    const r = cli(['aof-check', 'appendonlydir', '--fix', '--yes'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/damage is only at the tail/);
    expect(r.stdout).toMatch(/Kept the original as appendonlydir\/appendonly\.aof\.2\.incr\.aof\.\d{8}T\d{6}Z\.bak/);
    expect(statSync(join(dir, 'appendonlydir/appendonly.aof.2.incr.aof')).size).toBe(4738);
  });

  it('refuses what redis-check-aof refuses: a damaged RDB base, a missing incr', () => {
    for (const name of ['multi70preamble_flipped-base-rdb', 'multi70_missing-incr-file']) {
      const dir = caseCopy(name);
      const before = dirHashes(join(dir, 'appendonlydir'));
      const r = cli(['aof-check', 'appendonlydir', '--fix', '--yes', '--json'], { cwd: dir });
      expect(r.code, name).toBe(1);
      expect(JSON.parse(r.stdout).refusal, name).toMatch(/RDB preamble of AOF file is not sane|Cannot open file/);
      expect(dirHashes(join(dir, 'appendonlydir')), name).toEqual(before);
    }
  });

  it('--truncate-to-timestamp cuts where redis-check-aof does', () => {
    const dir = caseCopy('aof70incr_truncate-to-timestamp');
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    const ts = exp.fix.argv[exp.fix.argv.indexOf('--truncate-to-timestamp') + 1];
    const r = cli(['aof-check', 'input.aof', '--truncate-to-timestamp', ts, '--yes'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(sha256(join(dir, 'input.aof'))).toBe(exp.fix.after.sha256);
    // Nothing before the first annotation: refused, untouched.
    const r2 = cli(['aof-check', 'input.aof', '--truncate-to-timestamp', '1', '--yes'], { cwd: dir });
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/has nothing before timestamp 1/);
    expect(sha256(join(dir, 'input.aof'))).toBe(exp.fix.after.sha256);
  });
});

describe('aof-dump CLI', () => {
  const aofDir = join(corpus, 'aof/redis-7.0.15-debian_aof_preamble-no/appendonlydir');

  it('prints every command with file, offset, line, db and timestamp', () => {
    const r = cli(['aof-dump', aofDir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(166);
    expect(lines.at(-1)).toMatch(/appendonly\.aof\.2\.incr\.aof\t4738\t882\tdb=0\tts=1795288290\tSET final "last write"$/);
    const db1 = cli(['aof-dump', aofDir, '--db', '1']).stdout.trim().split('\n');
    expect(db1.length).toBeGreaterThan(0);
    expect(db1.every((l) => l.includes('\tdb=1\t') && !/\tSELECT /.test(l))).toBe(true);
    const matched = cli(['aof-dump', aofDir, '--match', 'fin?l']).stdout.trim().split('\n');
    expect(matched).toHaveLength(1);
  });

  it('--json is one document; --from-offset starts in the last file; damage ends with exit 1 and one line', () => {
    const j = JSON.parse(cli(['aof-dump', aofDir, '--json', '--from-offset', '4700']).stdout);
    expect(j.error).toBeNull();
    expect(j.commands).toHaveLength(1);
    expect(j.commands[0]).toMatchObject({ offset: 4738, db: 0, argv: ['SET', 'final', 'last write'] });
    const bad = cli(['aof-dump', join(corpus, 'aof-corrupt/aof70incr_missing-crlf/input.aof')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout.split('\n').length).toBeGreaterThan(10);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/input\.aof: at byte 2407: expected Expected \\r\\n, got: 2a32/);
  });
});

describe('undo an accidental FLUSHALL (real redis-server)', () => {
  it('cuts before the flush, and Redis restarted on the directory has the data back', async () => {
    const dir = mkdtempSync(join(work, 'flush-'));
    const config = { appendonly: 'yes', appendfsync: 'always', 'aof-timestamp-enabled': 'yes' };
    let server = await startRedis({ dir, config });
    let c = await server.client();
    for (let i = 0; i < 200; i++) await c.call('SET', `user:${i}`, `name ${i}`);
    await c.call('SELECT', '2');
    await c.call('HSET', 'cart', 'apples', '3', 'pears', '5');
    await c.call('RPUSH', 'queue', 'a', 'b', 'c');
    c.close();
    const digest = await debugDigest(server);
    c = await server.client();
    await c.call('FLUSHALL');
    expect(await c.call('DBSIZE')).toBe(0);
    c.close();
    await shutdownRedis(server);

    const aofDir = join(dir, 'appendonlydir');
    const before = dirHashes(aofDir);
    const dry = cli(['aof-check', aofDir, '--undo-flush', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Last flush: FLUSHALL in db 0 at byte \d+ of .*incr\.aof.*; 0 write\(s\) after it/);
    expect(dry.stdout).toMatch(/Undo flush: cut appendonly\.aof\.1\.incr\.aof from \d+ to \d+ bytes/);
    expect(dirHashes(aofDir)).toEqual(before);

    const backups = join(work, 'flush-backups');
    const r = cli(['aof-check', aofDir, '--undo-flush', '--yes', '--backup-dir', backups, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.plan.reason).toBe('undo-flush');
    expect(out.validAfter).toBe(true);
    expect(readdirSync(backups)).toHaveLength(1);

    server = await startRedis({ dir, config });
    expect(await debugDigest(server)).toBe(digest);
    c = await server.client();
    expect(await c.text('GET', 'user:199')).toBe('name 199');
    await c.call('SELECT', '2');
    expect(await c.call('LRANGE', 'queue', '0', '-1')).toEqual([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);

    // Something written after a flush: refused, explained, nothing touched.
    await c.call('FLUSHDB');
    await c.call('SET', 'new', 'data');
    c.close();
    await shutdownRedis(server);
    const kept = dirHashes(aofDir);
    const refused = cli(['aof-check', aofDir, '--undo-flush', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/1 write command\(s\) came after the last FLUSHDB .*"SET new data".*would lose them/);
    expect(dirHashes(aofDir)).toEqual(kept);
  });
});
