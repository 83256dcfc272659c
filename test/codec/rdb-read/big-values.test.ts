import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../src/codec/rdb/crc64.js';
import { RdbDecoder, type ReadRdbOptions } from '../../../src/codec/rdb/reader.js';
import type { ValueSink } from '../../../src/codec/rdb/value-sink.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { CORPUS, keysOf, readAll, walk } from './corpus-helpers.js';

/**
 * Big values are checked step by step in validate-only mode: a window that ends inside one keeps
 * the whole elements/nodes and goes on from there (reader.ts, Steps). Whatever the chunk split
 * and whether the source is bounded or live, the outcome must be the one of a whole-buffer read:
 * the same records, the same sink events, the same error at the same offset.
 */

function chunks(data: Buffer, size: number, name: string, bounded: boolean): ByteSource {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  }
  return ByteSource.fromStream(gen(), name, bounded);
}

/** Every record (keys by their place and type) and notice, or the error message. */
async function outcome(src: ByteSource, opts: ReadRdbOptions): Promise<string[]> {
  const notices: string[] = [];
  try {
    const recs = await readAll(src, { ...opts, onNotice: (m, at) => notices.push(`${at} ${m}`) });
    return [...recs.map((r) => (r.kind === 'key' ? `key ${r.entry.db} ${r.entry.rdbType} ${r.entry.offset} ${r.entry.expireAtMs}` : r.kind)), ...notices];
  } catch (e) {
    return [...notices, `error ${(e as Error).message}`];
  }
}

/** Records what a sink is told, per key; a discarded key's events are dropped (they come again). */
class RecordingSink implements ValueSink {
  keys: string[] = [];
  /** Keys discarded after some of their elements were given: a streaming sink cannot take those back. */
  lateDiscards = 0;
  private cur: string[] | null = null;
  key(db: number, b: Buffer, s: number, e: number, t: number, exp: number | null): boolean {
    this.cur = [`${db} ${b.toString('hex', s, e)} ${t} ${exp}`];
    return true;
  }
  str(b: Buffer, s: number, e: number): void {
    this.cur!.push(b.toString('hex', s, e));
  }
  int(v: number | bigint): void {
    this.cur!.push(`i${v}`);
  }
  score(x: number): void {
    this.cur!.push(`s${x}`);
  }
  scoreText(b: Buffer, s: number, e: number): void {
    this.cur!.push(`s${b.toString('latin1', s, e)}`);
  }
  value(v: { type: string }): void {
    this.cur!.push(`v${v.type}`);
  }
  end(): void {
    this.keys.push(this.cur!.join(','));
    this.cur = null;
  }
  discard(): void {
    if (this.cur && this.cur.length > 1) this.lateDiscards++;
    this.cur = null;
  }
  func(code: Buffer): void {
    this.keys.push(`f${code.length}`);
  }
}

async function sinkEvents(src: ByteSource): Promise<string[]> {
  const sink = new RecordingSink();
  const dec = new RdbDecoder(src, { sink });
  while (await dec.nextBatch()) {
    // records are stand-ins; the sink has the content
  }
  expect(sink.lateDiscards).toBe(0);
  return sink.keys;
}

function rdbLen(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}
const rdbStr = (s: string): Buffer => Buffer.concat([rdbLen(s.length), Buffer.from(s, 'latin1')]);

/** A file (version 10 unless `magic` says otherwise): `records` in db 0, EOF, CRC. */
function rdbFile(...records: Array<Buffer | string>): Buffer {
  const magic = typeof records[0] === 'string' ? (records.shift() as string) : 'REDIS0010';
  const body = Buffer.concat([Buffer.from(magic), Buffer.from([0xfe, 0]), ...(records as Buffer[]), Buffer.from([0xff])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}

/** A hashtable-encoded hash (type 4) of n fields; `dup` repeats the first field at the end. */
function bigHash(n: number, dup: boolean): Buffer {
  const parts = [Buffer.from([4]), rdbStr('bighash'), rdbLen(n + (dup ? 1 : 0))];
  for (let i = 0; i < n; i++) parts.push(rdbStr(`field:${i}`), rdbStr(`value:${i}`));
  if (dup) parts.push(rdbStr('field:0'), rdbStr('again'));
  return Buffer.concat(parts);
}

/** A plain list (type 1) of n elements. */
function bigList(n: number): Buffer {
  const parts = [Buffer.from([1]), rdbStr('biglist'), rdbLen(n)];
  for (let i = 0; i < n; i++) parts.push(rdbStr(`e${i}`));
  return Buffer.concat(parts);
}

/** A hash with field TTLs of n fields (the last repeats the first): Redis 7.4 HASH_METADATA (24) or Valkey HASH_2 (22). */
function ttlHash(n: number, valkey: boolean): Buffer {
  const parts = [Buffer.from([valkey ? 22 : 24]), rdbStr('ttlhash')];
  if (!valkey) parts.push(Buffer.alloc(8)); // min expire
  parts.push(rdbLen(n));
  const ttl = Buffer.alloc(8, 0xff); // Valkey: -1, no TTL
  for (let i = 0; i < n; i++) {
    const f = rdbStr(`field:${i === n - 1 ? 0 : i}`);
    const v = rdbStr(`value:${i}`);
    parts.push(...(valkey ? [f, v, ttl] : [rdbLen(i % 2), f, v]));
  }
  return Buffer.concat(parts);
}

const modes: Array<[number, boolean]> = [
  [7, false],
  [4096, false],
  [4096, true],
];

describe('validate-only big values survive any chunk split', () => {
  const corrupt = readdirSync(join(CORPUS, 'rdb-corrupt')).sort();
  it('every rdb-corrupt case: same outcome in 7-byte chunks (live and bounded) as whole', async () => {
    expect(corrupt.length).toBeGreaterThanOrEqual(10);
    for (const name of corrupt) {
      const data = readFileSync(join(CORPUS, 'rdb-corrupt', name, 'input.rdb'));
      const whole = await outcome(ByteSource.fromBuffer(data, name), { validateOnly: true });
      for (const bounded of [false, true]) {
        expect(await outcome(chunks(data, 7, name, bounded), { validateOnly: true }), `${name} bounded=${bounded}`).toEqual(whole);
      }
    }
  });

  it('every corpus dataset: same keys, notices and sink events in small chunks as whole', async () => {
    const files = walk(join(CORPUS, 'rdb'), '.rdb');
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const data = readFileSync(f);
      const whole = await outcome(ByteSource.fromBuffer(data, f), { validateOnly: true });
      const events = await sinkEvents(ByteSource.fromBuffer(data, f));
      expect(whole.at(-1)).not.toMatch(/^error/);
      for (const [size, bounded] of modes) {
        expect(await outcome(chunks(data, size, f, bounded), { validateOnly: true }), `${f} ${size}`).toEqual(whole);
        expect(await sinkEvents(chunks(data, size, f, bounded)), `${f} ${size} sink`).toEqual(events);
      }
      // skim mode (rdb-dump's splitter) takes the same records whatever the split
      const skim = (await readAll(ByteSource.fromBuffer(data, f), { skim: true })).length;
      expect((await readAll(chunks(data, 7, f, false), { skim: true })).length).toBe(skim);
    }
  });

  it('a 100k-field hash and a 100k-element list: keys checked, a late duplicate reported at the first field', async () => {
    const good = rdbFile(bigHash(100_000, false), bigList(100_000));
    const whole = await outcome(ByteSource.fromBuffer(good, 'f'), { validateOnly: true });
    expect(whole).toEqual(['header', 'selectdb', 'key 0 4 11 null', `key 0 1 ${11 + bigHash(100_000, false).length} null`, 'eof']);
    const full = keysOf(await readAll(ByteSource.fromBuffer(good, 'f')));
    expect(full.map((k) => (k.value!.value as unknown[]).length)).toEqual([100_000, 100_000]);
    const bad = rdbFile(bigHash(100_000, true));
    const firstField = 11 + 1 + rdbStr('bighash').length + rdbLen(100_001).length;
    const expected = [`error f: at byte ${firstField}: expected unique hash fields, found a duplicate`];
    expect(await outcome(ByteSource.fromBuffer(bad, 'f'), { validateOnly: true })).toEqual(expected);
    for (const [size, bounded] of modes) {
      expect(await outcome(chunks(good, size, 'f', bounded), { validateOnly: true })).toEqual(whole);
      expect(await outcome(chunks(bad, size, 'f', bounded), { validateOnly: true })).toEqual(expected);
    }
  });

  it('hashes with field TTLs (Redis HASH_METADATA, Valkey HASH_2): a late duplicate field found in any split', async () => {
    for (const [valkey, magic] of [
      [false, 'REDIS0012'],
      [true, 'VALKEY080'],
    ] as const) {
      const file = rdbFile(magic, ttlHash(50_000, valkey));
      const firstField = 11 + 1 + rdbStr('ttlhash').length + (valkey ? 0 : 8) + rdbLen(50_000).length;
      const expected = [`error f: at byte ${firstField}: expected unique hash fields, found a duplicate`];
      expect(await outcome(ByteSource.fromBuffer(file, 'f'), { validateOnly: true }), magic).toEqual(expected);
      for (const [size, bounded] of modes) expect(await outcome(chunks(file, size, 'f', bounded), { validateOnly: true }), `${magic} ${size}`).toEqual(expected);
      // the full decoder agrees there is a duplicate
      await expect(readAll(ByteSource.fromBuffer(file, 'f'))).rejects.toThrow(/unique hash fields/);
    }
  });

  it('a 3 MB string value is stepped over as it arrives, with the CRC checked and cuts reported', async () => {
    const str = Buffer.concat([Buffer.from([0]), rdbStr('bigstring'), rdbStr('x'.repeat(3 << 20)), Buffer.from([0]), rdbStr('k'), rdbStr('v')]);
    const file = rdbFile(str);
    const whole = await outcome(ByteSource.fromBuffer(file, 'f'), { validateOnly: true });
    expect(whole).toEqual(['header', 'selectdb', 'key 0 0 11 null', `key 0 0 ${11 + str.length - 5} null`, 'eof']);
    const damaged = Buffer.from(file);
    damaged[2 << 20] ^= 1; // inside the string: only the CRC can tell
    const crcError = await outcome(ByteSource.fromBuffer(damaged, 'f'), { validateOnly: true });
    expect(crcError.at(-1)).toMatch(/^error f: at byte \d+: expected RDB checksum/);
    const cut = file.subarray(0, 1 << 20);
    const cutError = [`error f: at byte ${1 << 20}: expected the rest of the record starting at byte 11, found end of file (truncated, or no EOF marker)`];
    for (const [size, bounded] of modes) {
      expect(await outcome(chunks(file, size, 'f', bounded), { validateOnly: true })).toEqual(whole);
      expect(await outcome(chunks(damaged, size, 'f', bounded), { validateOnly: true })).toEqual(crcError);
      expect(await outcome(chunks(cut, size, 'f', bounded), { validateOnly: true })).toEqual(cutError);
      expect(await sinkEvents(chunks(file, size, 'f', bounded))).toEqual(await sinkEvents(ByteSource.fromBuffer(file, 'f')));
    }
  });

  it('a file cut inside a big value names the start of its record', async () => {
    const file = rdbFile(bigList(50_000));
    const cut = file.subarray(0, 200_000);
    const expected = [`error f: at byte 200000: expected the rest of the record starting at byte 11, found end of file (truncated, or no EOF marker)`];
    expect(await outcome(ByteSource.fromBuffer(cut, 'f'), { validateOnly: true })).toEqual(expected);
    expect(await outcome(chunks(cut, 4096, 'f', false), { validateOnly: true })).toEqual(expected);
  });
});
