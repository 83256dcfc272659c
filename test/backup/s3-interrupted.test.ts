import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/util/errors.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { DEMO_RDB, ROOT, cli } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
let work: string;
beforeAll(async () => {
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'tsredis-s3kill-'));
});
afterAll(async () => {
  await stopAllRedis();
  await s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

it('S3 stopped in the middle of an upload: retries, exit 3, hook runs, nothing of it visible, earlier backups intact', { timeout: 180_000 }, async () => {
  const env = { ...s3.env, AWS_ENDPOINT_URL: s3.endpoint };
  const target = 's3://backups/prod';
  const first = await cli(['backup', '--from', DEMO_RDB, '--to', target, '--s3-path-style', '--no-encrypt', '--name', 'prod', '--taken-at', '2026-01-01T00:00:00Z'], { env });
  expect(first.code, first.stderr).toBe(0);

  // A 50 MB RDB from the real server, fed through stdin so the test controls the pace.
  const redis = await startRedis();
  const c = await redis.client();
  for (let i = 0; i < 50; i++) await c.call('SET', `blob:${i}`, randomBytes(1 << 20)); // incompressible
  await c.call('SAVE');
  c.close();
  const rdb = readFileSync(join(redis.dir, 'dump.rdb'));
  expect(rdb.length).toBeGreaterThan(40 << 20);

  const hook = join(work, 'hook.out');
  const child = spawn(
    process.execPath,
    [`${ROOT}bin/tsredis-ops.js`, 'backup', '--from', '-', '--to', target, '--s3-path-style', '--no-encrypt', '--compress', 'none', '--name', 'prod',
      '--on-failure', `echo "exit=$TSREDIS_EXIT_CODE targets=$TSREDIS_FAILED_TARGETS" > ${hook}; cat >> ${hook}`],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {}); // EPIPE once the run gives up
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));

  // Resolves on drain, or when the run gave up and the pipe closed (no drain will come then).
  const write = (buf: Buffer) =>
    new Promise<void>((r) => {
      if (child.stdin.destroyed || child.exitCode !== null || child.stdin.write(buf)) return r();
      for (const ev of ['drain', 'close', 'error']) child.stdin.once(ev, () => r());
      child.once('exit', () => r());
    });
  const firstPart = 36 << 20; // past the first 16 MiB part
  for (let off = 0; off < firstPart; off += 1 << 20) await write(rdb.subarray(off, Math.min(off + (1 << 20), firstPart)));
  for (let i = 0; i < 200 && s3.pendingUploads().length === 0; i++) await sleep(50);
  expect(s3.pendingUploads().length).toBe(1); // the multipart upload is under way
  await s3.stop();
  for (let off = firstPart; off < rdb.length && !child.stdin.destroyed && child.exitCode === null; off += 1 << 20) await write(rdb.subarray(off, off + (1 << 20)));
  child.stdin.end();

  const code = await exited;
  expect(code, stderr).toBe(ExitCode.IO);
  expect(stderr).toMatch(/S3 upload s3:\/\/backups\/prod\/prod-\d{8}T\d{6}Z\.rdb failed after \d+ attempts/);
  const hookOut = readFileSync(hook, 'utf8');
  expect(hookOut).toMatch(/^exit=3 targets=s3:\/\/backups\/prod\n/);
  expect(JSON.parse(hookOut.split('\n')[1]!)).toMatchObject({ event: 'backup-failed', name: 'prod', exitCode: 3 });

  // Start the same server again: only the first backup is there, and it still verifies.
  await s3.start();
  const list = await cli(['list', '--target', target, '--s3-path-style', '--json'], { env });
  const listed = JSON.parse(list.stdout);
  expect(listed.backups.map((b: { object: string }) => b.object)).toEqual(['prod-20260101T000000Z.rdb.gz']);
  expect(listed.incomplete).toEqual([]);
  const v = await cli(['verify', '--target', target, '--s3-path-style', '--all', '--deep'], { env });
  expect(v.code, v.stderr).toBe(0);
});
