import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugDigest, freePort, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../backup/s3-server.js';
import { spawn } from 'node:child_process';
import { ROOT, cli, saveRdb, tempDir } from './helpers.js';

/** The CLI without blocking this process (the proxy below runs in it). */
function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { env: { ...process.env, CI: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let s3: TestS3;
let proxy: net.Server;
let proxyPort = 0;
let cuts = 0;
let rdb: string;
let digest: string;

/**
 * A loopback TCP proxy in front of S3 that cuts the first connection that has carried more than
 * 1 MB towards the client: the download breaks in the middle of the object.
 */
async function startCuttingProxy(upstreamPort: number): Promise<void> {
  proxyPort = await freePort();
  proxy = net.createServer((client) => {
    const up = net.connect(upstreamPort, '127.0.0.1');
    let down = 0;
    up.on('data', (d: Buffer) => {
      down += d.length;
      if (cuts === 0 && down > 1_000_000) {
        cuts++;
        client.destroy();
        up.destroy();
        return;
      }
      client.write(d);
    });
    client.on('data', (d: Buffer) => up.write(d));
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', () => r()));
}

beforeAll(async () => {
  s3 = await startS3();
  const source = await startRedis();
  const c = await source.client();
  // Incompressible values: the stored object stays about 3 MB.
  for (let i = 0; i < 300; i++) await c.call('SET', `blob:${i}`, randomBytes(10_000));
  c.close();
  rdb = await saveRdb(source, join(tempDir(), 'dump.rdb'));
  digest = await debugDigest(source);
  const b = cli(['backup', '--from', rdb, '--to', 's3://backups/big', '--name', 'big', '--no-encrypt', '--s3-endpoint', s3.endpoint, '--s3-path-style'], s3.env);
  if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
  await startCuttingProxy(s3.port);
}, 120_000);
afterAll(async () => {
  await stopAllRedis();
  proxy?.close();
  await s3?.destroy();
});

describe('restore --from S3 over a connection that breaks mid-download', () => {
  it('resumes with a ranged GET and restores an intact dataset', async () => {
    const target = await startRedis();
    const r = await cliAsync(['restore', '--from', 's3://backups/big', '--latest', '--to', target.url, '--verify', '--json', '--s3-endpoint', `http://127.0.0.1:${proxyPort}`, '--s3-path-style'], s3.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cuts).toBe(1);
    expect(await debugDigest(target)).toBe(digest);
  });
});
