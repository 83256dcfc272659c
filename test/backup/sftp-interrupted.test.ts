import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/util/errors.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { DEMO_RDB, ROOT, cli } from './cli-helper.js';

// Issue 17: a cut connection resumes, a stopped server fails that target alone (exit 3), and a
// backup killed during an SFTP upload never leaves a file at a final name.

let sshd: TestSshd;
let work: string;
let rdb: Buffer;
/** A smaller RDB for the ten killed runs. */
let smallPath: string;
let small: Buffer;
const env = { SSH_AUTH_SOCK: undefined };
const ssh = (): string[] => ['--ssh-key', sshd.clientKey, '--ssh-known-hosts', sshd.knownHosts];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  sshd = await startSshd();
  work = mkdtempSync(join(tmpdir(), 'tsredis-sftpkill-'));
  // A 40 MB RDB from the real server (incompressible values), fed through stdin where a test sets the pace.
  const redis = await startRedis();
  const c = await redis.client();
  for (let i = 0; i < 40; i++) await c.call('SET', `blob:${i}`, randomBytes(1 << 20));
  await c.call('SAVE');
  rdb = readFileSync(join(redis.dir, 'dump.rdb'));
  for (let i = 12; i < 40; i++) await c.call('DEL', `blob:${i}`);
  await c.call('SAVE');
  c.close();
  smallPath = join(work, 'small.rdb');
  small = readFileSync(join(redis.dir, 'dump.rdb'));
  writeFileSync(smallPath, small);
  await stopAllRedis();
}, 120_000);
/** Runs this file started: one that hangs must not outlive the suite. */
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  await stopAllRedis();
  await sshd?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Temp files (dot-files) of uploads in a directory the SSH server holds. */
const temps = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.')) : []);

/** A backup reading the RDB from stdin, so the test decides when the server goes away. */
function pacedBackup(args: string[]): { child: ChildProcess; stderr: () => string; write: (b: Buffer) => Promise<void>; exited: Promise<number> } {
  const child = spawn(process.execPath, [`${ROOT}bin/tsredis-ops.js`, 'backup', '--from', '-', ...args], {
    cwd: ROOT,
    env: { ...process.env, TSREDIS_PASSPHRASE: '', SSH_AUTH_SOCK: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on('error', () => {});
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  // Resolves on drain, or when the run gave up and the pipe closed (no drain will come then).
  const write = (buf: Buffer) =>
    new Promise<void>((r) => {
      const stdin = child.stdin!;
      if (stdin.destroyed || child.exitCode !== null || stdin.write(buf)) return r();
      const done = (): void => {
        for (const ev of ['drain', 'close', 'error']) stdin.off(ev, done);
        child.off('exit', done);
        r();
      };
      for (const ev of ['drain', 'close', 'error']) stdin.once(ev, done);
      child.once('exit', done);
    });
  return { child, stderr: () => stderr, write, exited };
}

/** Feeds `upTo` bytes, then waits until the server holds part of the upload under its temp name. */
async function feedUntilUploading(run: ReturnType<typeof pacedBackup>, dir: string, upTo: number): Promise<void> {
  for (let off = 0; off < upTo; off += 1 << 20) await run.write(rdb.subarray(off, Math.min(off + (1 << 20), upTo)));
  for (let i = 0; i < 200; i++) {
    const t = temps(dir);
    if (t.length && statSync(join(dir, t[0]!)).size > 4 << 20) return;
    await sleep(50);
  }
  throw new Error(`no upload under way in ${dir}: ${run.stderr()}`);
}

async function feedRest(run: ReturnType<typeof pacedBackup>, from: number): Promise<void> {
  for (let off = from; off < rdb.length && !run.child.stdin!.destroyed && run.child.exitCode === null; off += 1 << 20) await run.write(rdb.subarray(off, off + (1 << 20)));
  run.child.stdin!.end();
}

describe('SFTP uploads interrupted', { timeout: 300_000 }, () => {
  it('a connection cut in the middle of an upload is reopened and the upload resumes', async () => {
    const url = sshd.url('resume');
    const run = pacedBackup(['--to', url, ...ssh(), '--no-encrypt', '--compress', 'none', '--name', 'big']);
    await feedUntilUploading(run, join(sshd.root, 'resume'), 20 << 20);
    expect(await sshd.dropConnections()).toBeGreaterThan(0);
    await feedRest(run, 20 << 20);
    expect(await run.exited, run.stderr()).toBe(0);
    const object = readdirSync(join(sshd.root, 'resume')).find((f) => f.endsWith('.rdb'))!;
    expect(sha(readFileSync(join(sshd.root, 'resume', object)))).toBe(sha(rdb));
    expect(temps(join(sshd.root, 'resume'))).toEqual([]);
  });

  it('the SSH server stopped mid-upload: exit 3 naming the target, the directory target completes, the SFTP marker does not move', async () => {
    const url = sshd.url('stopped');
    const dirTarget = join(work, 'stopped-dir');
    const sftpDir = join(sshd.root, 'stopped');
    const first = await cli(['backup', '--from', DEMO_RDB, '--to', dirTarget, '--to', url, ...ssh(), '--no-encrypt', '--name', 'big', '--taken-at', '2026-01-01T00:00:00Z'], { env });
    expect(first.code, first.stderr).toBe(0);
    const marker = readFileSync(join(sftpDir, 'big.last-success.json'), 'utf8');

    const run = pacedBackup(['--to', dirTarget, '--to', url, ...ssh(), '--no-encrypt', '--compress', 'none', '--name', 'big']);
    await feedUntilUploading(run, sftpDir, 20 << 20);
    await sshd.stop();
    try {
      await feedRest(run, 20 << 20);
      expect(await run.exited, run.stderr()).toBe(ExitCode.IO);
      // Named twice: the failed target, and the object whose upload failed.
      expect(run.stderr()).toContain(`backup big: ${url}: SFTP upload ${url}/big-`);
      expect(run.stderr()).toMatch(/\.rdb failed: cannot connect to 127\.0\.0\.1:\d+ \(4 attempts\): connect ECONNREFUSED/);
    } finally {
      await sshd.start();
    }
    // The directory target has the new backup; the SFTP target has its old state only.
    expect(readdirSync(dirTarget).filter((f) => f.endsWith('.manifest.json'))).toHaveLength(2);
    expect(readFileSync(join(sftpDir, 'big.last-success.json'), 'utf8')).toBe(marker);
    expect(readdirSync(sftpDir).filter((f) => !f.startsWith('.')).sort()).toEqual(['big-20260101T000000Z.manifest.json', 'big-20260101T000000Z.rdb.gz', 'big.last-success.json']);
    const v = await cli(['verify', '--target', url, ...ssh(), '--all', '--deep'], { env });
    expect(v.code, v.stderr + v.stdout).toBe(0);
  });

  it('kill -9 at random points of an SFTP upload (10 times): nothing at a final name fails verify, a rerun succeeds and cleans up', async () => {
    const url = sshd.url('killed');
    const dir = join(sshd.root, 'killed');
    let killedDuringUpload = 0;
    for (let i = 0; i < 10; i++) {
      const takenAt = `2026-02-01T00:00:${String(i).padStart(2, '0')}Z`;
      const child = spawn(process.execPath, [`${ROOT}bin/tsredis-ops.js`, 'backup', '--from', smallPath, '--to', url, ...ssh(), '--no-encrypt', '--compress', 'none', '--name', 'big', '--taken-at', takenAt, '--quiet'], {
        cwd: ROOT,
        env: { ...process.env, SSH_AUTH_SOCK: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.add(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      // A random point of the upload: a random share of the bytes at the temp name (or after it).
      const at = Math.random() * small.length * 1.05;
      // Temp files the runs killed before left: not this run's upload.
      const earlier = new Set(temps(dir));
      for (;;) {
        if (child.exitCode !== null) break;
        const t = temps(dir).filter((f) => !earlier.has(f) && f.includes('.rdb.tmp-'));
        const size = t.length ? (statSync(join(dir, t[0]!), { throwIfNoEntry: false })?.size ?? 0) : 0;
        if (size >= Math.min(at, small.length)) {
          if (size < small.length) killedDuringUpload++;
          child.kill('SIGKILL');
          break;
        }
        await sleep(5);
      }
      const code = await exited;
      // Killed, or it finished first: never a failure of its own.
      expect(code === null || code === 0, `${code}: ${stderr}`).toBe(true);
      // Whatever is at a final name is a complete, verified backup (or nothing is there yet).
      const finals = existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.') && f.endsWith('.rdb')) : [];
      for (const f of finals) expect(sha(readFileSync(join(dir, f))), f).toBe(sha(small));
      if (finals.length) {
        const v = await cli(['verify', '--target', url, ...ssh(), '--all'], { env });
        expect(v.code, v.stderr + v.stdout).toBe(0);
      }
    }
    expect(killedDuringUpload).toBeGreaterThan(0);
    const rerun = await cli(['backup', '--from', smallPath, '--to', url, ...ssh(), '--no-encrypt', '--compress', 'none', '--name', 'big', '--stale-after', '0h'], { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(temps(dir)).toEqual([]);
    const v = await cli(['verify', '--target', url, ...ssh(), '--all', '--deep'], { env });
    expect(v.code, v.stderr + v.stdout).toBe(0);
  });
});
