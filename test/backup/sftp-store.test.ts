import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/backup/store/store.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

// The SFTP store's ranged, resumable download (restore and verify --deep read through it).

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.destroy();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

it('a download cut in the middle reconnects and goes on at the byte it reached; ranges are exact', { timeout: 120_000 }, async () => {
  const body = randomBytes(24 << 20);
  mkdirSync(join(sshd.root, 'dl'));
  writeFileSync(join(sshd.root, 'dl', 'obj.bin'), body);
  const store = await openStore(sshd.url('dl'), { sshKey: sshd.clientKey, sshKnownHosts: sshd.knownHosts });

  const stream = await store.get('obj.bin');
  const parts: Buffer[] = [];
  let got = 0;
  const it = stream[Symbol.asyncIterator]();
  // Read a few MiB, cut every SSH session while the stream is paused, then read the rest.
  while (got < 4 << 20) {
    const r = await it.next();
    parts.push(r.value as Buffer);
    got += (r.value as Buffer).length;
  }
  expect(await sshd.dropConnections()).toBeGreaterThan(0);
  for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value as Buffer);
  const whole = Buffer.concat(parts);
  expect(whole.length).toBe(body.length);
  expect(sha(whole)).toBe(sha(body));

  // An inclusive range, as the S3 store takes it.
  const chunks: Buffer[] = [];
  for await (const c of await store.get('obj.bin', { start: 1000, end: 3_000_999 })) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).equals(body.subarray(1000, 3_001_000))).toBe(true);

  // put, head, list and delete on the same store; a missing object is null / a clear error.
  const put = await store.put('small.json', Readable.from([Buffer.from('{"a":1}\n')]));
  expect(put).toEqual({ size: 8, sha256: sha(Buffer.from('{"a":1}\n')), verifiedBy: 'size + read-back sha256 over SFTP' });
  expect(await store.head('small.json')).toEqual({ size: 8 });
  const names: string[] = [];
  for await (const o of store.list()) names.push(o.name);
  expect(names).toEqual(['obj.bin', 'small.json']);
  await store.delete('small.json');
  expect(await store.head('small.json')).toBeNull();
  await expect(store.get('small.json')).rejects.toThrow(/no such file/);
});
