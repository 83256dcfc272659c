import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('rdb-dump CLI with worker threads, on a dataset made by redis-server', () => {
  let rdb: Buffer;
  let dir: string;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { maxBuffer: 256 << 20 });
    return { code: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsredis-pieces-'));
    const server = await startRedis({ dir });
    const c = await server.client();
    // ~6 MB: several 1 MiB pieces of strings, then every collection type and encoding.
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

  for (const encoding of ['utf8', 'base64'] as const) {
    it(`prints the model's bytes (--encoding ${encoding})`, async () => {
      const want = await model(rdb, encoding);
      expect(want.error).toBeNull();
      const r = run('rdb-dump', join(dir, 'dump.rdb'), '--encoding', encoding);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.toString('utf8')).toBe(want.lines.map(([, l]) => l).join(''));
    });
  }

  it('stops after exactly the keys before a defect late in the file, with the reader error', async () => {
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
      const r = run('rdb-dump', file);
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(`tsredis-ops: ${want.error!.replace(/^f:/, `${file}:`)}`);
      expect(r.out.toString('utf8')).toBe(want.lines.map(([, l]) => l).join(''));
    }
  });
});
