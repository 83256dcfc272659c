import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAof } from '../../src/aof/check.js';
import { crc64 } from '../../src/codec/rdb/crc64.js';
import { strBytes } from '../../src/codec/rdb/encoding.js';
import { encodeStream } from '../../src/codec/rdb/stream-writer.js';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { redisCheckAof } from './helpers.js';

// A damaged RDB preamble ends redis-check-aof in one of two ways: redis-check-rdb returns an
// error (truncation, bad checksum) and the tool says "RDB preamble of AOF file is not sane", or
// Redis's loader meets corrupt data (an LZF string, a length encoding, a short read inside a
// stream) and exits on the spot, saying nothing more. Each case is built here and the report lines
// (redis-check-rdb's own aside) must be the real tool's. Found by bench/aof-check-vs-c.mjs.
const work = mkdtempSync(join(tmpdir(), 'aof-preamble-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rdbLine = /^\[(offset \d+|info|additional info)\]|^--- RDB ERROR|^\d+:C /;
const b = (s: string): Buffer => Buffer.from(s);

/** An RDB 9 preamble holding these key records (type byte, key, value), with its checksum, then a RESP tail. */
function aof(records: Buffer[]): Buffer {
  const body = Buffer.concat([b('REDIS0009'), Buffer.from([0xfe, 0]), ...records, Buffer.from([0xff])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc, encodeCommand([b('SET'), b('tail'), b('1')])]);
}

const stringKey = (k: string, v: Buffer): Buffer => Buffer.concat([Buffer.from([0]), ...strBytes(b(k)), ...strBytes(v)]);
const streamKey = (): Buffer => {
  const entries = Array.from({ length: 20 }, (_, i) => ({ id: { ms: BigInt(1000 + i), seq: 0n }, fields: [b('f'), b(`v${i}`)] }));
  const value = encodeStream({ entries, length: 20, lastId: entries[19]!.id, firstId: entries[0]!.id, maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: 20n, groups: [] }, 1, {
    compress: false,
  });
  return Buffer.concat([Buffer.from([15]), ...strBytes(b('s')), ...value]);
};
/** `a` with the byte at `at` set to `v`. */
const poke = (a: Buffer, at: number, v: number): Buffer => {
  const c = Buffer.from(a);
  c[at] = v;
  return c;
};

const good = aof([stringKey('k', b('x'.repeat(40))), streamKey()]);
// The LZF string of k: type 0, key "k" (2 bytes), then C3, clen, ulen, data.
const lzfAt = good.indexOf(Buffer.from([0x00, 0x01, 0x6b, 0xc3]), 9) + 3;
const streamAt = good.indexOf(Buffer.from([15, 1, 0x73]), 9);

const cases: Array<[string, Buffer, boolean]> = [
  ['valid', good, true],
  ['bad checksum', poke(good, good.indexOf(encodeCommand([b('SET'), b('tail'), b('1')])) - 1, 0), true],
  ['truncated inside a string', good.subarray(0, lzfAt + 2), true],
  ['a broken LZF string', poke(good, lzfAt + 3, 0xff), false],
  ['an unknown length encoding', poke(good, streamAt + 3, 0x9e), false],
  ['truncated inside a stream', good.subarray(0, streamAt + 40), false],
];

describe('damaged RDB preambles: report lines as redis-check-aof prints them', () => {
  it('finds the places the cases damage', () => {
    expect(lzfAt).toBeGreaterThan(9);
    expect(good[lzfAt]).toBe(0xc3);
    expect(streamAt).toBeGreaterThan(lzfAt);
  });
  for (const [name, data, notSaneLine] of cases) {
    it(name, async () => {
      const dir = mkdtempSync(join(work, 'c-'));
      writeFileSync(join(dir, 'input.aof'), data);
      const theirs = redisCheckAof(['input.aof'], dir);
      const home = process.cwd();
      process.chdir(dir);
      try {
        const ours = await checkAof('input.aof');
        expect(ours.transcript).toEqual(theirs.stdout.split('\n').filter((l) => l !== '' && !rdbLine.test(l)));
        expect(ours.refusal ? 1 : 0).toBe(theirs.code);
        if (name !== 'valid') expect(ours.transcript.includes('RDB preamble of AOF file is not sane, aborting.')).toBe(notSaneLine);
      } finally {
        process.chdir(home);
      }
    });
  }
});
