import { describe, expect, it } from 'vitest';
import { BlobError } from '../../../src/codec/rdb/blob-error.js';
import { crc64, Crc64 } from '../../../src/codec/rdb/crc64.js';
import { intsetDecode } from '../../../src/codec/rdb/intset.js';
import { lpDecode } from '../../../src/codec/rdb/listpack.js';
import { lzfDecompress, LzfError } from '../../../src/codec/rdb/lzf.js';
import { zipmapDecode } from '../../../src/codec/rdb/zipmap.js';
import { zlDecode } from '../../../src/codec/rdb/ziplist.js';

/** Test vectors of the formats digest (§2.13, §7.1, §7.3). */

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';

/** Bitwise reference CRC (slow, obviously right) to cross-check the sliced tables. */
function crcRef(data: Buffer): bigint {
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let i = 0; i < 8; i++) crc = crc & 1n ? (crc >> 1n) ^ 0x95ac9329ac4bc9b5n : crc >> 1n;
  }
  return crc;
}

describe('crc64 (Jones, start 0)', () => {
  it('matches the check values', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    const lorem = Buffer.concat([Buffer.from(LOREM), Buffer.alloc(1)]);
    expect(lorem.length).toBe(446);
    expect(crc64(lorem)).toBe(0xc7794709e69683b3n);
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });
  it('matches a bitwise reference for every length and split', () => {
    const data = Buffer.from(Array.from({ length: 67 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let n = 0; n <= data.length; n++) expect(crc64(data.subarray(0, n))).toBe(crcRef(data.subarray(0, n)));
    for (let cut = 0; cut <= data.length; cut += 5) {
      expect(crc64(data.subarray(cut), crc64(data.subarray(0, cut)))).toBe(crcRef(data));
      const c = new Crc64().update(data, 0, cut).update(data, cut);
      expect(c.value()).toBe(crcRef(data));
    }
  });
  it('checks the minimal RDB 10 file of §7.2', () => {
    const file = hex('524544495330303130 fe00 fb0100 00 03666f6f 03626172 ff');
    expect(crc64(file)).toBe(0x4c7cd01a1ce425a1n);
  });
});

describe('lzf', () => {
  it('decodes both encodings of 50 x "a"', () => {
    expect(lzfDecompress(hex('0061e02800'), 50).toString()).toBe('a'.repeat(50));
    expect(lzfDecompress(hex('016161e02500016161'), 50).toString()).toBe('a'.repeat(50));
  });
  it('rejects malformed streams', () => {
    expect(() => lzfDecompress(hex('e02800'), 50)).toThrow(LzfError); // reference before start
    expect(() => lzfDecompress(hex('0061e028'), 50)).toThrow(LzfError); // input ends in a back-reference
    expect(() => lzfDecompress(hex('05616161'), 6)).toThrow(LzfError); // literal past input
    expect(() => lzfDecompress(hex('0061e02800'), 49)).toThrow(LzfError); // output overflow
    expect(() => lzfDecompress(hex('0061e02800'), 51)).toThrow(LzfError); // short output
  });
});

describe('listpack', () => {
  it('decodes every integer width (§7.3)', () => {
    const lp = hex(`80000000 0e00 816102 0101 816202 dfff02 816302 c12c02 816402 f178ec03 816502 f240420f04
      816602 f400a22f4dffffffff09 816702 e046${'78'.repeat(70)}48 ff`);
    expect(lpDecode(lp)).toEqual([
      Buffer.from('a'), 1, Buffer.from('b'), -1, Buffer.from('c'), 300, Buffer.from('d'), -5000,
      Buffer.from('e'), 1000000, Buffer.from('f'), -3000000000, Buffer.from('g'), Buffer.from('x'.repeat(70)),
    ]);
  });
  it('decodes the RPUSH l a 1 bb payload listpack', () => {
    expect(lpDecode(hex('10000000 0300 8161 02 01 01 826262 03 ff'))).toEqual([Buffer.from('a'), 1, Buffer.from('bb')]);
  });
  it('rejects damage', () => {
    const good = hex('10000000 0300 8161 02 01 01 826262 03 ff');
    const bad = (mut: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      mut(b);
      return b;
    };
    expect(() => lpDecode(bad((b) => b.writeUInt32LE(17, 0)))).toThrow(BlobError); // total bytes
    expect(() => lpDecode(bad((b) => b.writeUInt16LE(4, 4)))).toThrow(BlobError); // count
    expect(() => lpDecode(bad((b) => (b[8] = 3)))).toThrow(BlobError); // backlen
    expect(() => lpDecode(bad((b) => (b[15] = 0xfe)))).toThrow(BlobError); // terminator
    expect(() => lpDecode(bad((b) => (b[9] = 0xf7)))).toThrow(BlobError); // bad encoding
  });
});

describe('ziplist', () => {
  it('decodes every encoding (§7.3)', () => {
    const zl = hex('380000002d000000080000f302f6020b48656c6c6f20576f726c640dc0e80304f0a0860105fefb03d0001f0afa06e00000000000010000ff');
    expect(zlDecode(zl)).toEqual([2, 5, Buffer.from('Hello World'), 1000, 100000, -5, -100000000, 2 ** 40]);
  });
  it('rejects a wrong prevlen, tail and count', () => {
    const good = hex('0f0000000c000000020000f302f6ff');
    expect(zlDecode(good)).toEqual([2, 5]);
    const b1 = Buffer.from(good);
    b1[12] = 3;
    expect(() => zlDecode(b1)).toThrow(BlobError);
    const b2 = Buffer.from(good);
    b2[4] = 10;
    expect(() => zlDecode(b2)).toThrow(BlobError);
    const b3 = Buffer.from(good);
    b3[8] = 3;
    expect(() => zlDecode(b3)).toThrow(BlobError);
  });
});

describe('intset and zipmap', () => {
  it('decodes intsets and checks order', () => {
    expect(intsetDecode(hex('02000000030000000100020003 00'))).toEqual([1, 2, 3]);
    expect(intsetDecode(hex('040000000200000090eefeff70110100'))).toEqual([-70000, 70000]);
    expect(() => intsetDecode(hex('020000000300000001000300020 0'.replace(/ /g, '')))).toThrow(BlobError);
    expect(() => intsetDecode(hex('0300000001000000010000'))).toThrow(BlobError);
    expect(() => intsetDecode(hex('02000000030000000100'))).toThrow(BlobError);
  });
  it('decodes the zipmap of the source comment', () => {
    expect(zipmapDecode(hex('0203666f6f03006261720568656c6c6f0500776f726c64ff')).map(String)).toEqual(['foo', 'bar', 'hello', 'world']);
    expect(() => zipmapDecode(hex('0203666f6f03006261720568656c6c6f0500776f726c64'))).toThrow(BlobError);
  });
});
