import { randomBytes, createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/backup/store/store.js';
import { partSizeFor } from '../../src/backup/store/s3-store.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
  Object.assign(process.env, s3.env);
});
afterAll(async () => {
  await s3?.destroy();
});

const open = () => openStore('s3://backups/team/redis', { s3Endpoint: s3.endpoint, s3PathStyle: true, s3MaxAttempts: 2 });

/** Feeds a buffer in small pieces, as a pipeline would (a stream body without a known length). */
function trickle(data: Buffer, piece = 65_536): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  })());
}

describe('S3 store against a real S3 endpoint (s3rver)', () => {
  it('stores streamed bytes exactly (no aws-chunked framing), single PUT and multipart', async () => {
    const store = await open();
    for (const size of [0, 1000, 8 * 1024 * 1024 + 12345, 17 * 1024 * 1024]) {
      const data = randomBytes(size);
      const name = `obj-${size}.bin`;
      const res = await store.put(name, trickle(data));
      expect(res.size).toBe(size);
      expect(res.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(res.verifiedBy).toMatch(/ETag/);
      // Read back with a separate, plain SDK client: the bytes are exactly what was sent.
      const got = await s3.client().send(new GetObjectCommand({ Bucket: 'backups', Key: `team/redis/${name}` }));
      const back = await buffer(got.Body as Readable);
      expect(back.equals(data)).toBe(true);
      expect(await store.head(name)).toMatchObject({ size });
    }
    const names: string[] = [];
    for await (const o of store.list('obj-')) names.push(o.name);
    expect(names.sort()).toEqual(['obj-0.bin', 'obj-1000.bin', 'obj-17825792.bin', 'obj-8400953.bin']);
    expect(s3.pendingUploads()).toEqual([]);
  });

  it('an SDK client with default checksum settings stores aws-chunked framing on this server (why we set WHEN_REQUIRED)', async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const naive = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
    const data = randomBytes(5000);
    await naive.send(new PutObjectCommand({ Bucket: 'backups', Key: 'naive.bin', Body: trickle(data, 1000), ContentLength: data.length }));
    const back = await buffer((await s3.client().send(new GetObjectCommand({ Bucket: 'backups', Key: 'naive.bin' }))).Body as Readable);
    expect(back.equals(data)).toBe(false);
  });

  it('grows the part size with the input so > 50 GB fits in 10,000 parts', () => {
    expect(partSizeFor(undefined)).toBe(16 * 1024 * 1024);
    expect(partSizeFor(1e9)).toBe(5 * 1024 * 1024);
    const big = 200e9;
    expect(Math.ceil(big / partSizeFor(big))).toBeLessThanOrEqual(10_000);
    expect(Math.ceil(60e9 / partSizeFor(60e9))).toBeLessThanOrEqual(10_000);
  });

  it('a missing object gets a clear I/O error', async () => {
    const store = await open();
    await expect(store.get('nope.bin').then(buffer)).rejects.toThrow(/S3 get s3:\/\/backups\/team\/redis\/nope.bin failed: NoSuchKey/);
    expect(await store.head('nope.bin')).toBeNull();
  });
});
