import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteSource } from '../../src/util/byte-source.js';
import { dumpRdb } from '../../src/inspect/rdb-dump.js';
import { functionJsonLine, keyJsonLine, type ByteEncoding } from '../../src/inspect/key-json.js';
import type { RdbRecord } from '../../src/codec/rdb/model.js';
import { RdbDecoder } from '../../src/codec/rdb/reader.js';
import { CORPUS, readAll, walk } from '../codec/rdb-read/corpus-helpers.js';
import { shutdownRedis, startRedis, stopAllRedis } from '../helpers/redis-server.js';

/**
 * rdb-dump jsonl cuts the file into record-aligned pieces that worker threads print. The output
 * must be the model's presentation byte for byte whatever the cut points, and a defect must stop
 * the dump after exactly the keys before it, with the reader's one-line error.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const files = [...walk(`${CORPUS}rdb`, '.rdb'), ...walk(`${CORPUS}third-party`, '.rdb')];

/** The model's lines, each with the offset of its record, and the model reader's error if any. */
async function model(data: Buffer, encoding: ByteEncoding): Promise<{ lines: Array<[number, string]>; error: string | null }> {
  const records: RdbRecord[] = [];
  let error: string | null = null;
  // One record per batch: every record before a defect is kept.
  const dec = new RdbDecoder(ByteSource.fromBuffer(data, 'f'));
  try {
    for (let b = await dec.nextBatch(1); b; b = await dec.nextBatch(1)) records.push(...b);
  } catch (e) {
    error = (e as Error).message;
  }
  const lines: Array<[number, string]> = [];
  for (const r of records) {
    if (r.kind === 'function') lines.push([r.offset, `${functionJsonLine(r.code)}\n`]);
    else if (r.kind === 'key') lines.push([r.entry.offset, `${keyJsonLine(r.entry, encoding)}\n`]);
  }
  return { lines, error };
}

/** What rdb-check's reader (validate-only) says: the first defect, and how many keys and functions precede it. */
async function validated(data: Buffer): Promise<{ printed: number; error: string | null }> {
  const dec = new RdbDecoder(ByteSource.fromBuffer(data, 'f'), { validateOnly: true });
  let printed = 0;
  try {
    for (let b = await dec.nextBatch(1); b; b = await dec.nextBatch(1)) printed += b.filter((r) => r.kind === 'key' || r.kind === 'function').length;
  } catch (e) {
    return { printed, error: (e as Error).message };
  }
  return { printed, error: null };
}

async function pieces(data: Buffer, pieceBytes: number): Promise<{ text: string; error: string | null }> {
  const parts: Buffer[] = [];
  let error: string | null = null;
  await dumpRdb(ByteSource.fromBuffer(data, 'f'), { format: 'jsonl', encoding: 'utf8', pieceBytes }, (c) => void parts.push(Buffer.from(c))).catch(
    (e: Error) => (error = e.message),
  );
  return { text: Buffer.concat(parts).toString('utf8'), error };
}

describe('rdb-dump jsonl in pieces (on this thread, as run from the sources)', () => {
  for (const file of files) {
    const name = file.slice(CORPUS.length);
    it(`${name}: any cut points give the model's bytes`, async () => {
      const data = readFileSync(file);
      const want = await model(data, 'utf8');
      for (const size of [1, 300]) {
        const got = await pieces(data, size);
        expect(got.error, `${name} pieces of ${size}`).toBe(want.error);
        expect(got.text, `${name} pieces of ${size}`).toBe(want.lines.map(([, l]) => l).join(''));
      }
    });
  }
});

describe('rdb-dump jsonl in pieces on damaged files (seeded fuzz)', () => {
  // Flipped bytes and truncations: the pieces print exactly the model's lines before the first
  // defect and fail with the model reader's message, whichever of the skim or a piece sees it.
  const picks = files.filter((f) => /7\.0|7\.4|6\.2|valkey/i.test(f)).slice(0, 6);
  let seed = 20261121;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  it('walks damaged copies of several corpus files', async () => {
    expect(picks.length).toBeGreaterThan(2);
    let failures = 0;
    for (const file of picks) {
      const data = readFileSync(file);
      for (let n = 0; n < 60; n++) {
        const bad = Buffer.from(data);
        const flips = 1 + rnd(3);
        for (let k = 0; k < flips; k++) bad[9 + rnd(bad.length - 9)] = rnd(256);
        const cutAt = n % 5 === 0 ? 9 + rnd(bad.length - 9) : bad.length;
        const input = bad.subarray(0, cutAt);
        const want = await model(input, 'utf8');
        const check = await validated(input);
        const got = await pieces(input, 1 + rnd(400));
        if (want.error !== null) failures++;
        // Damaged or not, the model and rdb-check agree; the message is rdb-check's (it finds a
        // duplicate member as it reads, as Redis does; the model only after the whole value).
        expect(check.error === null, `${file} #${n}`).toBe(want.error === null);
        expect(got.error, `${file} #${n}`).toBe(check.error);
        expect(got.text, `${file} #${n}`).toBe(want.lines.slice(0, check.printed).map(([, l]) => l).join(''));
      }
    }
    // Most mutations must hit something, or the test shows nothing.
    expect(failures).toBeGreaterThan(picks.length * 30);
  });
});

describe('rdb-dump CLI with worker threads, on a dataset made by redis-server', () => {
  let rdb: Buffer;
  let dir: string;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { maxBuffer: 256 << 20 });
    return { code: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
  };
  /** The same with stdout redirected to a regular file (written through the thread pool, not process.stdout). */
  const runToFile = (...args: string[]) => {
    const path = join(dir, 'stdout.jsonl');
    const fd = openSync(path, 'w');
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { stdio: ['ignore', fd, 'pipe'] });
      return { code: r.status, out: readFileSync(path), err: r.stderr.toString('utf8') };
    } finally {
      closeSync(fd);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsredis-pieces-'));
    const server = await startRedis({ dir });
    const c = await server.client();
    // ~12 MB: several 1 MiB pieces of strings, every collection type and encoding, a 6 MB string.
    await c.call('DEBUG', 'POPULATE', '60000', 'str', '60');
    for (let k = 0; k < 300; k++) {
      const m = (i: number): string => `m${k}:${i}:${'x'.repeat(i % 7)}`;
      await c.call('RPUSH', `list:${k}`, ...Array.from({ length: k % 2 ? 20 : 200 }, (_, i) => m(i)));
      await c.call('HSET', `hash:${k}`, ...Array.from({ length: k % 2 ? 10 : 200 }, (_, i) => [m(i), `v${i}\u00e9\n`]).flat());
      await c.call('ZADD', `zset:${k}`, ...Array.from({ length: k % 2 ? 10 : 200 }, (_, i) => [String((i * 7919) % 1000 / 8), m(i)]).flat());
      await c.call('SADD', `set:int:${k}`, ...Array.from({ length: 50 }, (_, i) => String((i * 104729) % 100003)));
      await c.call('SADD', `set:str:${k}`, ...Array.from({ length: k % 2 ? 10 : 200 }, (_, i) => m(i)));
      await c.call('XADD', `stream:${k}`, '*', 'f', m(k));
      if (k % 3 === 0) await c.call('PEXPIREAT', `hash:${k}`, String(4102444800000 + k));
    }
    await c.call('SELECT', '3');
    await c.call('DEBUG', 'POPULATE', '20000', 'db3', '40');
    await c.call('SET', Buffer.from([0xff, 0xfe, 0x00]), Buffer.from([0x80, 0x00, 0x41]));
    // A key far above the piece size: its slot grows, and is given back after it.
    let x = 1;
    await c.call('SET', 'blob:huge', Buffer.from(Array.from({ length: 6 << 20 }, () => ((x = (x * 48271) % 2147483647) & 0x3f) + 0x30)));
    await c.call('SAVE');
    c.close();
    await shutdownRedis(server);
    rdb = readFileSync(join(dir, 'dump.rdb'));
    expect(rdb.length).toBeGreaterThan(4 << 20);
  }, 120_000);
  afterAll(async () => {
    await stopAllRedis();
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  });

  for (const [encoding, to, exec] of [['utf8', 'a pipe', run], ['base64', 'a pipe', run], ['utf8', 'a regular file', runToFile]] as const) {
    it(`prints the model's bytes (--encoding ${encoding}, stdout to ${to})`, async () => {
      const want = await model(rdb, encoding);
      expect(want.error).toBeNull();
      const r = exec('rdb-dump', join(dir, 'dump.rdb'), '--encoding', encoding);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.toString('utf8')).toBe(want.lines.map(([, l]) => l).join(''));
    });
  }

  it.each([
    ['a pipe', run],
    ['a regular file', runToFile],
  ])('stops after exactly the keys before a defect late in the file, with the reader error (stdout to %s)', async (_, exec) => {
    const { lines } = await model(rdb, 'utf8');
    // Defects in a late piece: a bad type byte (the skim finds it) and a damaged LZF/listpack
    // body (only the piece's full parse finds it).
    const late = lines.filter(([off]) => off > rdb.length * 0.7);
    const victims = [late.find(([, l]) => l.startsWith('{"db":3'))!, late.find(([, l]) => l.includes('"type":"hash"')) ?? late[5]!];
    for (const [i, [offset]] of victims.entries()) {
      const bad = Buffer.from(rdb);
      if (i === 0) bad[offset] = 0x3f;
      else bad.fill(0xee, offset + 12, offset + 20);
      const file = join(dir, `bad-${i}.rdb`);
      writeFileSync(file, bad);
      const want = await model(bad, 'utf8');
      expect(want.error).not.toBeNull();
      const r = exec('rdb-dump', file);
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(`tsredis-ops: ${want.error!.replace(/^f:/, `${file}:`)}`);
      expect(r.out.toString('utf8')).toBe(want.lines.map(([, l]) => l).join(''));
    }
  });
});
