import { describe, expect, it } from 'vitest';
import { decodeDump, encodeDump } from '../../../src/codec/rdb/dump.js';
import { lenBytes, strBytes } from '../../../src/codec/rdb/encoding.js';
import { lzfCompress } from '../../../src/codec/rdb/lzf-compress.js';
import { lzfDecompress } from '../../../src/codec/rdb/lzf.js';
import type { RedisValue, StreamValue } from '../../../src/codec/rdb/model.js';
import { RdbWriter } from '../../../src/codec/rdb/writer.js';
import { ListpackBuilder } from '../../../src/codec/rdb/listpack-writer.js';
import { lpDecode } from '../../../src/codec/rdb/listpack.js';
import { ZiplistBuilder } from '../../../src/codec/rdb/ziplist-writer.js';
import { zlDecode } from '../../../src/codec/rdb/ziplist.js';

// Vectors from the formats digest §7 (Redis 7.0.15 output or payloads it accepted).
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const B = (s: string) => Buffer.from(s);
const cat = (parts: Buffer[]) => Buffer.concat(parts).toString('hex');
const id = (ms: number, seq: number) => ({ ms: BigInt(ms), seq: BigInt(seq) });

describe('primitives (§7.1)', () => {
  it('encodes lengths in the smallest form', () => {
    expect(lenBytes(10).toString('hex')).toBe('0a');
    expect(lenBytes(100).toString('hex')).toBe('4064');
    expect(lenBytes(16384).toString('hex')).toBe('8000004000');
    expect(lenBytes(2 ** 32).toString('hex')).toBe('810000000100000000');
    expect(lenBytes(0xffffffffffffffffn).toString('hex')).toBe('81ffffffffffffffff');
  });

  it('int-encodes canonical int32 strings and stores the rest raw', () => {
    const cases: Array<[string, string]> = [
      ['hello', '0568656c6c6f'], ['0', 'c000'], ['-1', 'c0ff'], ['127', 'c07f'], ['-128', 'c080'],
      ['128', 'c18000'], ['-129', 'c17fff'], ['32767', 'c1ff7f'], ['-32768', 'c10080'],
      ['32768', 'c200800000'], ['2147483647', 'c2ffffff7f'], ['-2147483648', 'c200000080'],
      ['12345678901', '0b3132333435363738393031'], ['007', '03303037'], ['-0', '022d30'], ['+5', '022b35'],
    ];
    for (const [s, h] of cases) expect([s, cat(strBytes(B(s)))]).toEqual([s, h]);
  });

  it('LZF-compresses 50 × "a" as the digest shows, and only when it saves 4 bytes', () => {
    expect(cat(strBytes(B('a'.repeat(50))))).toBe('c30532' + '0061e02800');
    expect(cat(strBytes(B('a'.repeat(50)), { compress: false }))).toBe('32' + '61'.repeat(50));
    const random = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7919 + 13) % 251));
    expect(cat(strBytes(random))).toBe('4064' + random.toString('hex'));
  });

  it('LZF output decompresses to the input for varied data', () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rnd() * 20000);
      const alphabet = 1 + Math.floor(rnd() * 255);
      const input = Buffer.alloc(n);
      for (let i = 0; i < n; i++) input[i] = rnd() < 0.3 && i > 10 ? input[i - 1 - Math.floor(rnd() * Math.min(i, 9000))]! : Math.floor(rnd() * alphabet);
      const c = lzfCompress(input, n + Math.ceil(n / 32) + 1);
      expect(c).not.toBeNull();
      expect(lzfDecompress(c!, n).equals(input)).toBe(true);
    }
  });

  it('listpack builder picks every integer width (§7.3 listpack vector)', () => {
    const lp = new ListpackBuilder();
    for (const [f, v] of [['a', '1'], ['b', '-1'], ['c', '300'], ['d', '-5000'], ['e', '1000000'], ['f', '-3000000000'], ['g', 'x'.repeat(70)]]) lp.add(B(f!)).add(B(v!));
    const expected = hex(`80000000 0e00 816102 0101 816202 dfff02 816302 c12c02 816402 f178ec03 816502 f240420f04 816602 f400a22f4dffffffff09 816702 e046${'78'.repeat(70)}48 ff`);
    expect(lp.finish().toString('hex')).toBe(expected.toString('hex'));
  });

  it('listpack and ziplist builders round-trip through the reader decoders', () => {
    const items = ['', '0', '-0', '12', '13', '-128', '255', '-32769', '8388608', '-2147483649', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(4095), 'w'.repeat(4096), 'v'.repeat(16384)];
    const lp = new ListpackBuilder();
    const zl = new ZiplistBuilder();
    for (const s of items) {
      lp.add(B(s));
      zl.add(B(s));
    }
    const back = (e: Buffer | number | bigint) => (Buffer.isBuffer(e) ? e.toString() : String(e));
    expect(lpDecode(lp.finish()).map(back)).toEqual(items);
    expect(zlDecode(zl.finish()).map(back)).toEqual(items);
    expect(cat([new ZiplistBuilder().add(B('2')).add(B('5')).finish()])).toBe('0f0000000c000000020000f302f6ff');
  });
});

describe('whole files (§7.2)', () => {
  it('writes the minimal RDB 10 byte for byte, with its CRC', async () => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter((c) => void chunks.push(c), { version: 10 });
    await w.start();
    await w.selectDb(0, { keys: 1, expires: 0 });
    await w.writeKey({ db: 0, key: B('foo'), expireAtMs: null, rdbType: 0, value: { type: 'string', value: B('bar') }, offset: 0 });
    const { checksum } = await w.finish();
    expect(Buffer.concat(chunks).toString('hex')).toBe('524544495330303130fe00fb010000036f6f6f03626172ffa125e41c1ad07c4c'.replace('036f6f6f', '03666f6f'));
    expect(checksum).toBe(0x4c7cd01a1ce425a1n);
  });

  it('writes AUX, expiry and int-encoded values as Redis 7.0 does', async () => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter((c) => void chunks.push(c), { version: 10 });
    await w.start([['redis-ver', '7.0.15']]);
    await w.selectDb(0, { keys: 2, expires: 1 });
    await w.writeKey({ db: 0, key: B('k1'), expireAtMs: 1700000000000, rdbType: 0, value: { type: 'string', value: B('v1') }, offset: 0 });
    await w.writeKey({ db: 0, key: B('k2'), expireAtMs: null, rdbType: 0, value: { type: 'string', value: B('123') }, offset: 0 });
    await w.finish();
    expect(Buffer.concat(chunks).toString('hex')).toBe(
      '524544495330303130fa0972656469732d76657206372e302e3135fe00fb0201fc0068e5cf8b01000000026b3102763100026b32c07bff6b4c18d7a5b9b33e',
    );
  });
});

describe('string keys from text', () => {
  /** The whole file a writer makes for one key, written one way or the other. */
  async function fileOf(write: (w: RdbWriter) => Promise<void> | undefined): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const w = new RdbWriter((c) => void chunks.push(c), { version: 10 });
    await w.start([]);
    await w.selectDb(0);
    await write(w);
    await w.finish();
    return Buffer.concat(chunks);
  }

  it('writes every kind of string byte for byte as writeKey does (int forms, raw, LZF, TTL, binary bytes, db switch)', async () => {
    const texts = [
      '', 'a', 'xxx', '0', '-0', '007', '+5', '-1', '127', '-128', '128', '32767', '32768', '2147483647', '2147483648',
      '-2147483648', '-2147483649', '12345678901', '123456789012', '1e3', ' 1', 'key:000000123456', 'counter:000000123456',
      'exactly-twenty-chars', 'twenty-one characters', 'x'.repeat(20), 'a'.repeat(21), 'a'.repeat(64), 'ab'.repeat(300), '\xff\x00\x80 binary',
      String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)),
    ];
    for (const key of texts.slice(0, 8)) {
      for (const value of texts) {
        for (const ttl of [null, 4102444800000]) {
          for (const db of [0, 2]) {
            const viaKey = await fileOf((w) => w.writeKey({ db, key: Buffer.from(key, 'latin1'), expireAtMs: ttl, rdbType: 0, value: { type: 'string', value: Buffer.from(value, 'latin1') }, offset: 0 }));
            const viaText = await fileOf((w) => w.writeTextStringKey(db, key, value, ttl));
            expect([key, value, ttl, db, viaText.toString('hex')]).toEqual([key, value, ttl, db, viaKey.toString('hex')]);
          }
        }
      }
    }
  });
});

describe('DUMP payloads (§7.3)', () => {
  const stream1: StreamValue = {
    entries: [{ id: id(1, 1), fields: [B('f'), B('v')] }],
    length: 1, lastId: id(1, 1), firstId: id(1, 1), maxDeletedId: id(0, 0), entriesAdded: 1n, groups: [],
  };
  const groupStream = (delivery: number): StreamValue => ({
    entries: [{ id: id(5, 1), fields: [B('f'), B('v')] }, { id: id(5, 2), fields: [B('f'), B('w')] }],
    length: 2, lastId: id(5, 2), firstId: id(5, 1), maxDeletedId: id(0, 0), entriesAdded: 2n,
    groups: [{
      name: B('g'), lastDeliveredId: id(5, 1), entriesRead: 1n,
      pel: [{ id: id(5, 1), deliveryTimeMs: delivery, deliveryCount: 1, consumer: B('alice') }],
      consumers: [{ name: B('alice'), seenTimeMs: delivery, activeTimeMs: delivery, pending: [id(5, 1)] }],
    }],
  });
  const t = Number(Buffer.from('489287ffa1010000', 'hex').readBigInt64LE(0));
  const cases: Array<[string, RedisValue, number, string]> = [
    ['string', { type: 'string', value: B('hello') }, 10, '000568656c6c6f0a006372df766534200a'],
    ['int16 string', { type: 'string', value: B('12345') }, 10, '00c139300a009d94ea2793fc08b9'],
    ['int8 string', { type: 'string', value: B('-2') }, 10, '00c0fe0a00b2ab3eeaac598f31'],
    ['raw 3.14', { type: 'string', value: B('3.14') }, 10, '0004332e31340a008c75407d2acce82c'],
    ['quicklist 2', { type: 'list', value: [B('a'), B('1'), B('bb')] }, 10, '12010210100000000300816102010182626203ff0a00df0af310be9d9e9d'],
    ['intset', { type: 'set', value: [B('1'), B('2'), B('3')] }, 10, '0b0e0200000003000000010002000300' + '0a00a5025ce26d6e4d1b'],
    ['set', { type: 'set', value: [B('y'), B('x')] }, 10, '0202017901780a000cdf6b3db330bcf0'],
    ['zset listpack', { type: 'zset', value: [[B('a'), 1.5], [B('b'), 2]] }, 10, '111414000000040081610283312e350481620202' + '01ff0a00fa02b425af188763'],
    ['hash listpack', { type: 'hash', value: [[B('f1'), B('v1')], [B('f2'), B('2')]] }, 10, '1015150000000400826631038276310382663203020' + '1ff0a005c5ea813feec1ff5'],
    ['stream v2', { type: 'stream', value: stream1 }, 10, '1301100000000000000001000000000000000' + '11d1d0000000a00010100010101816602000102010001000181760204' + '01ff010101010100000100' + '0a00ff55ab626ac035db'],
    ['stream v2 with group', { type: 'stream', value: groupStream(t) }, 10, '1301100000000000000005000000000000000128280000000f00020100010101816602000102010001000181760204010201000101018177020401ff02050205010000020101670501010100000000000000050000000000000001489287ffa1010000010105616c696365489287ffa101000001000000000000000500000000000000010a000ea4e9955525fbff'],
    ['stream v3', { type: 'stream', value: groupStream(t) }, 11, '1501100000000000000005000000000000000128280000000f00020100010101816602000102010001000181760204010201000101018177020401ff02050205010000020101670501010100000000000000050000000000000001489287ffa1010000010105616c696365489287ffa1010000489287ffa101000001000000000000000500000000000000010b00b93d7b7557aa74c8'],
    ['list ziplist quicklist (RDB 9)', { type: 'list', value: [B('2'), B('5')] }, 9, '0e010f0f0000000c000000020000f302f6ff09001c687b94728c8d5a'],
    ['set listpack (RDB 11)', { type: 'set', value: [B('a'), B('b'), B('3')] }, 11, '140f0f00000003008161028162020301ff0b0012019276c04c040e'],
    ['hash listpack-ex (RDB 12)', { type: 'hash', value: [[B('f1'), B('v1')], [B('f2'), B('v2')]], expires: new Map([['f1', 1700000000000]]) }, 12, '190068e5cf8b010000232300000006008266310382763103f40068e5cf8b0100000982663203827632030001ff0c006518cad392221799'],
    ['hash ziplist (RDB 9)', { type: 'hash', value: [[B('f1'), B('v1')]] }, 9, '0d13130000000e00000002000002663104027631ff09006375eee8a0e9485a'],
  ];
  for (const [name, value, version, payload] of cases) {
    it(`encodes ${name}`, async () => {
      expect(encodeDump(value, version).toString('hex')).toBe(payload.replace(/\s+/g, ''));
      const back = await decodeDump(hex(payload));
      expect(back.version).toBe(version);
      expect(back.rdbType).toBe(hex(payload)[0]);
      if (value.type !== 'set') expect(back.value).toEqual(value);
    });
  }

  it('decodes payloads of legacy encodings Redis 7.0 accepted', async () => {
    const zipmap = await decodeDump(hex('09 18 0203666f6f03006261720568656c6c6f0500776f726c64ff 0900 61a9eeca284bdc97'));
    expect(zipmap.value).toEqual({ type: 'hash', value: [[B('foo'), B('bar')], [B('hello'), B('world')]] });
    const zset2 = await decodeDump(hex('05020161000000000000f83f016200000000000000c00900e3ca491c6e1fb062'));
    expect(zset2.value).toEqual({ type: 'zset', value: [[B('b'), -2], [B('a'), 1.5]] });
  });

  it('rejects damaged payloads with the offset', async () => {
    const good = hex('000568656c6c6f0a006372df766534200a');
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 1;
    await expect(decodeDump(badCrc, 'p')).rejects.toThrow(/^p: at byte 9: expected CRC-64/);
    await expect(decodeDump(Buffer.alloc(5), 'p')).rejects.toThrow(/at least 10 bytes/);
    // A string declared 6 bytes long inside a 5-byte value.
    const short = Buffer.from(good.subarray(0, 7));
    short[1] = 6;
    const body = Buffer.concat([short, hex('0a00')]);
    const { crc64 } = await import('../../../src/codec/rdb/crc64.js');
    const tr = Buffer.alloc(8);
    tr.writeBigUInt64LE(crc64(body));
    await expect(decodeDump(Buffer.concat([body, tr]), 'p')).rejects.toThrow(/^p: at byte \d+: expected/);
  });

  it('refuses RDB 13 data (KEY_META, stream IDMP state) for the versions it writes', async () => {
    const w = new RdbWriter(() => {}, { version: 12 });
    await w.start();
    const key = { db: 0, key: B('k'), expireAtMs: null, rdbType: 0, value: { type: 'string' as const, value: B('v') }, keyMeta: Buffer.from([1]), offset: 0 };
    await expect(w.writeKey(key)).rejects.toThrow('key "k" (db 0): RDB 12 cannot represent per-key module metadata (KEY_META, RDB 13); use --lossy to drop it');
    const lossy = new RdbWriter(() => {}, { version: 12, lossy: true });
    await lossy.start();
    await lossy.writeKey(key);
    expect(lossy.dropped).toEqual([{ db: 0, key: 'k', what: 'per-key module metadata (KEY_META, RDB 13)' }]);
    const s: StreamValue = { entries: [], length: 0, lastId: id(0, 0), firstId: id(0, 0), maxDeletedId: id(0, 0), entriesAdded: 0n, groups: [], idmpRaw: Buffer.from([0, 0]) };
    expect(() => encodeDump({ type: 'stream', value: s }, 12)).toThrow(/IDMP/);
  });

  it('refuses what the target version cannot hold', () => {
    const h: RedisValue = { type: 'hash', value: [[B('f'), B('v')]], expires: new Map([['f', 1700000000000]]) };
    expect(() => encodeDump(h, 10)).toThrow(/cannot represent 1 hash-field TTL/);
    expect(() => encodeDump({ type: 'list', value: [] }, 10)).toThrow(/empty list/);
  });
});
