import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../helpers/redis-server.js';

/**
 * A real S3 HTTP endpoint on loopback: s3rver in its own process (so a test can kill it in the
 * middle of an upload and start it again on the same port and directory).
 */
export interface TestS3 {
  port: number;
  endpoint: string;
  dir: string;
  env: Record<string, string>;
  client(): S3Client;
  /** Multipart uploads s3rver still holds (it has no ListMultipartUploads; read its directory). */
  pendingUploads(bucket?: string): string[];
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const SERVER = `
import S3rver from 's3rver';
const [port, dir, bucket] = process.argv.slice(1);
const s = new S3rver({ port: Number(port), address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
await s.run();
process.stdout.write('ready\\n');
`;

export async function startS3(bucket = 'backups'): Promise<TestS3> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsredis-s3-'));
  let child: ChildProcess | null = null;
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  const s3: TestS3 = {
    port,
    dir,
    endpoint: `http://127.0.0.1:${port}`,
    env,
    client: () =>
      new S3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    pendingUploads(b = bucket) {
      try {
        return readdirSync(join(dir, b, '._S3rver_uploads'));
      } catch {
        return [];
      }
    },
    async start() {
      const c = spawn(process.execPath, ['--input-type=module', '-e', SERVER, String(port), dir, bucket], {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child = c;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('s3rver did not start (is the s3rver devDependency installed?)')), 20_000);
        c.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`s3rver exited with ${code} at start (is the s3rver devDependency installed?)`));
        });
      });
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      process.kill(c.pid!, 'SIGKILL');
      await gone;
    },
    async destroy() {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await s3.start();
  return s3;
}
