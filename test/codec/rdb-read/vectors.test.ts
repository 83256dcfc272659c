import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../src/codec/rdb/crc64.js';
import type { RdbKey, RedisValue } from '../../../src/codec/rdb/model.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { FormatError } from '../../../src/util/errors.js';
import { readFileSync } from 'node:fs';
import { keyJsonLine } from '../../../src/inspect/key-json.js';
import { CORPUS, keysOf, readAll, tinyChunks } from './corpus-helpers.js';

/** Whole-file and DUMP-payload vectors of the formats digest (§7.2, §7.3), read through readRdb. */

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const s = (x: string): Buffer => Buffer.from(x);

/** An RDB file holding one key "k" whose type byte + value come from a DUMP payload. */
function fileFromPayload(payload: string, magic = 'REDIS0012'): Buffer {
  const p = hex(payload);
  const body = Buffer.concat([s(magic), hex('fe00'), p.subarray(0, 1), hex('016b'), p.subarray(1, p.length - 10), hex('ff')]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}

async function oneKey(file: Buffer): Promise<RdbKey> {
  const keys = keysOf(await readAll(ByteSource.fromBuffer(file, 'vector')));
  expect(keys).toHaveLength(1);
  return keys[0]!;
}

const cases: Array<[string, string, RedisValue, string?]> = [
  ['string', '00 05 68656c6c6f 0a00 6372df766534200a', { type: 'string', value: s('hello') }],
  ['int16 string', '00 c13930 0a00 9d94ea2793fc08b9', { type: 'string', value: s('12345') }],
  ['int8 string', '00 c0fe 0a00 b2ab3eeaac598f31', { type: 'string', value: s('-2') }],
  ['quicklist2', '12 01 02 10 10000000 0300 8161 02 01 01 826262 03 ff 0a00 df0af310be9d9e9d', { type: 'list', value: [s('a'), s('1'), s('bb')] }],
  ['intset', '0b 0e 02000000 03000000 0100 0200 0300 0a00 a5025ce26d6e4d1b', { type: 'set', value: [s('1'), s('2'), s('3')] }],
  ['set', '02 02 01 79 01 78 0a00 0cdf6b3db330bcf0', { type: 'set', value: [s('y'), s('x')] }],
  ['zset listpack', '11 14 14000000 0400 8161 02 83312e35 04 8162 02 02 01 ff 0a00 fa02b425af188763', { type: 'zset', value: [[s('a'), 1.5], [s('b'), 2]] }],
  ['hash listpack', '10 15 15000000 0400 826631 03 827631 03 826632 03 02 01 ff 0a00 5c5ea813feec1ff5', { type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('2')]] }],
  ['list ziplist', '0a 0f 0f0000000c000000020000f302f6ff 0900 0596e2a2ae7804c7', { type: 'list', value: [s('2'), s('5')] }],
  ['zipmap', '09 18 0203666f6f03006261720568656c6c6f0500776f726c64ff 0900 61a9eeca284bdc97', { type: 'hash', value: [[s('foo'), s('bar')], [s('hello'), s('world')]] }],
  ['zset ziplist', '0c18180000001500000004000001610303312e3505016203f3ff0900fe4e6c2927858ec3', { type: 'zset', value: [[s('a'), 1.5], [s('b'), 2]] }],
  ['hash ziplist', '0d13130000000e00000002000002663104027631ff09006375eee8a0e9485a', { type: 'hash', value: [[s('f1'), s('v1')]] }],
  ['quicklist', '0e010f0f0000000c000000020000f302f6ff09001c687b94728c8d5a', { type: 'list', value: [s('2'), s('5')] }],
  ['zset string doubles', '0302016103312e350162fe0900d51f56a3b0536b5b', { type: 'zset', value: [[s('a'), 1.5], [s('b'), Infinity]] }],
  ['zset2', '05020161000000000000f83f016200000000000000c00900e3ca491c6e1fb062', { type: 'zset', value: [[s('b'), -2], [s('a'), 1.5]] }],
  ['list', '01020178c00509004f93f4086c9407bd', { type: 'list', value: [s('x'), s('5')] }],
  ['hash', '04010166017609007d00129ae5006d4d', { type: 'hash', value: [[s('f'), s('v')]] }],
  ['intset32', '0b10040000000200000090eefeff701101000900d70d5563f5435ea4', { type: 'set', value: [s('-70000'), s('70000')] }],
  ['lzf string', '00c305320061e028000900da55a1f125cf7b87', { type: 'string', value: s('a'.repeat(50)) }],
  ['quicklist2 plain', '1202010f424947504c41494e454c454d454e54020d0d0000000100847461696c05ff0a00af97d2bbb2ee2ac8', { type: 'list', value: [s('BIGPLAINELEMENT'), s('tail')] }],
  ['set listpack', '140f0f00000003008161028162020301ff0b0012019276c04c040e', { type: 'set', value: [s('a'), s('b'), s('3')] }],
  ['hash listpack-ex', '190068e5cf8b010000232300000006008266310382763103f40068e5cf8b0100000982663203827632030001ff0c006518cad392221799', { type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000000000]]) }],
  ['hash metadata', '180068e5cf8b0100000201026631027631000266320276320c005283a4217f48e412', { type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000000000]]) }],
  ['hash metadata +5000', '180068e5cf8b010000025389026631027631000266320276320c00e2a37ae95a63536b', { type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000005000]]) }],
  ['valkey hash2', '16020266310276310068e5cf8b010000026632027632ffffffffffffffff50008f27e5fb4835808a', { type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000000000]]) }, 'VALKEY080'],
];

describe('DUMP payload vectors decode inside an RDB', () => {
  for (const [name, payload, value, magic] of cases) {
    it(name, async () => {
      const k = await oneKey(fileFromPayload(payload, magic));
      expect(k.value).toEqual(value);
      // Raw mode passes the value bytes through exactly.
      const raw = keysOf(await readAll(ByteSource.fromBuffer(fileFromPayload(payload, magic), 'raw'), { raw: true }))[0]!;
      const p = hex(payload);
      expect(raw.raw).toEqual(p.subarray(1, p.length - 10));
      expect(raw.value).toBeUndefined();
    });
  }

  it('stream with a consumer group (v2)', async () => {
    const k = await oneKey(
      fileFromPayload(
        '1301100000000000000005000000000000000128280000000f00020100010101816602000102010001000181760204010201000101018177020401ff02050205010000020101670501010100000000000000050000000000000001489287ffa1010000010105616c696365489287ffa101000001000000000000000500000000000000010a000ea4e9955525fbff',
      ),
    );
    const v = k.value as Extract<RedisValue, { type: 'stream' }>;
    expect(v.value.entries.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields.map(String)])).toEqual([
      ['5-1', ['f', 'v']],
      ['5-2', ['f', 'w']],
    ]);
    expect(v.value.groups).toHaveLength(1);
    const g = v.value.groups[0]!;
    expect(String(g.name)).toBe('g');
    expect(g.entriesRead).toBe(1n);
    expect(g.pel.map((p) => [`${p.id.ms}-${p.id.seq}`, String(p.consumer), p.deliveryCount])).toEqual([['5-1', 'alice', 1]]);
    expect(g.consumers[0]!.activeTimeMs).toBe(g.consumers[0]!.seenTimeMs);
  });
});

describe('constructed layouts without a server at hand (RDB 13, Redis 7.4 RCs, 7.0 RCs)', () => {
  /** An RDB of the given magic with `records` between SELECTDB 0 and EOF. */
  function file(magic: string, records: string): Buffer {
    const body = Buffer.concat([s(magic), hex('fe00'), hex(records), hex('ff')]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(body));
    return Buffer.concat([body, crc]);
  }
  const v3 =
    '01100000000000000005000000000000000128280000000f00020100010101816602000102010001000181760204010201000101018177020401ff02050205010000020101670501010100000000000000050000000000000001489287ffa1010000010105616c696365489287ffa1010000489287ffa10100000100000000000000050000000000000001';
  it('reads a type-26 stream (v3 + IDMP trailer) and keeps the trailer opaque', async () => {
    const idmp = '0a 40 64 01 027031 01 026931 05 01 01 00';
    const k = await oneKey(file('REDIS0013', `1a 016b ${v3} ${idmp}`));
    const v = k.value as Extract<RedisValue, { type: 'stream' }>;
    expect(v.value.entries).toHaveLength(2);
    expect(v.value.idmpRaw).toEqual(hex(idmp));
  });
  it('attaches a KEY_META prefix (RDB 13) to the next key', async () => {
    const recs = await readAll(ByteSource.fromBuffer(file('REDIS0013', 'f3 01 41424344 02 05 00 00 016b 0176'), 'f'));
    const [k] = keysOf(recs);
    expect(k!.keyMeta).toEqual(hex('01 41424344 02 05 00'));
    expect(k!.offset).toBe(11);
    expect(String((k!.value as { value: Buffer }).value)).toBe('v');
  });
  it('reads the Redis 7.4 RC hash types 22 and 23 (absolute TTLs, no min-expire)', async () => {
    const k22 = await oneKey(file('REDIS0012', '16 016b 02 81 0000018bcfe56800 026631 027631 00 026632 027632'));
    expect(k22.value).toEqual({ type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000000000]]) });
    const k23 = await oneKey(file('REDIS0012', '17 016b 232300000006008266310382763103f40068e5cf8b0100000982663203827632030001ff'));
    expect(k23.value).toEqual({ type: 'hash', value: [[s('f1'), s('v1')], [s('f2'), s('v2')]], expires: new Map([['f1', 1700000000000]]) });
  });
  it('reads the 7.0 RC function record (246) and skips Valkey SLOT_IMPORT', async () => {
    const notes: string[] = [];
    const recs = await readAll(
      ByteSource.fromBuffer(file('VALKEY080', 'f3 03 6a6f62 01 00 40ff 00 016b 0176'), 'f'),
      { onNotice: (m) => notes.push(m) },
    );
    expect(keysOf(recs)).toHaveLength(1);
    expect(notes[0]).toMatch(/SLOT_IMPORT/);
    const fn = await readAll(ByteSource.fromBuffer(file('REDIS0010', 'f6 056d796c6962 036c7561 00 0472657475'), 'f'));
    expect(fn.find((r) => r.kind === 'function')).toMatchObject({ kind: 'function', code: s('retu') });
  });
});

describe('whole-file vectors (§7.2)', () => {
  it('reads the RDB 10 file with AUX, an expiring key and an int value', async () => {
    const file = hex(`524544495330303130 fa 09 72656469732d766572 06 372e302e3135
      fe00 fb0201 fc 0068e5cf8b010000 00 026b31 027631 00 026b32 c07b ff 6b4c18d7a5b9b33e`);
    const recs = await readAll(ByteSource.fromBuffer(file, 'f'));
    expect(recs.map((r) => r.kind)).toEqual(['header', 'aux', 'selectdb', 'resizedb', 'key', 'key', 'eof']);
    const [k1, k2] = keysOf(recs);
    expect(k1!.expireAtMs).toBe(1700000000000);
    expect(k1!.offset).toBe(32); // the FC prefix, not the type byte
    expect(String((k2!.value as { value: Buffer }).value)).toBe('123');
    const eof = recs.at(-1) as Extract<(typeof recs)[number], { kind: 'eof' }>;
    expect(eof.checksum).toBe(eof.computed);
    expect(eof.end).toBe(file.length);
  });
  it('reads RDB 12 SLOT_INFO and Valkey 80 headers', async () => {
    const r12 = await readAll(ByteSource.fromBuffer(hex('524544495330303132 fe00 fb0100 f4 6f96 01 00 00 03666f6f 03626172 ff 5c0480d3fe50ba9d'), 'f'));
    expect(r12.find((r) => r.kind === 'slot-info')).toMatchObject({ slot: 12182, slotSize: 1, expiresSlotSize: 0 });
    const v80 = await readAll(ByteSource.fromBuffer(hex('56414c4b4559303830 fa 0a76616c6b65792d766572 05392e302e30 fe00 fb0100 00 03666f6f 03626172 ff 0f1661e9e12de743'), 'f'));
    expect(v80[0]).toMatchObject({ kind: 'header', version: 80, flavor: 'valkey' });
  });
  it('accepts a zero (disabled) checksum and reports it as null', async () => {
    const recs = await readAll(ByteSource.fromBuffer(hex('524544495330303130 fe00 fb0100 00 03666f6f 03626172 ff 0000000000000000'), 'f'));
    expect(recs.at(-1)).toMatchObject({ kind: 'eof', checksum: null });
  });
  it('reads FUNCTION2 and leaves the source right after the checksum', async () => {
    const fn = '#!lua name=mylib\nredis.register_function(\'f\', function() return 1 end)';
    const body = Buffer.concat([s('REDIS0010'), hex('f5 4046'), s(fn), hex('ff')]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(body));
    const src = ByteSource.fromBuffer(Buffer.concat([body, crc, s('*1\r\n$4\r\nPING\r\n')]), 'f');
    const recs = await readAll(src);
    expect(recs[1]).toMatchObject({ kind: 'function' });
    expect(String((recs[1] as { code: Buffer }).code)).toBe(fn);
    expect(src.offset).toBe(body.length + 8);
    expect(String(src.window())).toBe('*1\r\n$4\r\nPING\r\n');
  });
  it('rejects a wrong checksum, bad magic and a newer version with offsets', async () => {
    const good = hex('524544495330303130 fe00 fb0100 00 03666f6f 03626172 ff a125e41c1ad07c4c');
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 1;
    await expect(readAll(ByteSource.fromBuffer(bad, 'f'))).rejects.toThrow(/^f: at byte 24: expected RDB checksum/);
    const magic = Buffer.from(good);
    magic[4] = 0x58;
    await expect(readAll(ByteSource.fromBuffer(magic, 'f'))).rejects.toThrow(/^f: at byte 0: expected the RDB magic/);
    const ver = Buffer.from(good);
    ver.write('0099', 5);
    await expect(readAll(ByteSource.fromBuffer(ver, 'f'))).rejects.toThrow(/^f: at byte 5: REDIS RDB version 99 is newer than this tool reads/);
    ver.write('0000', 5);
    await expect(readAll(ByteSource.fromBuffer(ver, 'f'))).rejects.toThrow(/^f: at byte 5: expected an RDB version/);
    await expect(readAll(ByteSource.fromBuffer(Buffer.alloc(0), 'f'))).rejects.toThrow(FormatError);
  });
  it('reads a whole server dataset identically in 1-byte and 7-byte chunks', async () => {
    const data = readFileSync(`${CORPUS}rdb/redis-7.4.1/redis-7.4.1_s1_low.rdb`);
    // Compared as jsonl text: deep equality of megabyte Buffers is slow in the test runner.
    const lines = (keys: RdbKey[]): string[] => keys.map((k) => `${k.offset} ${keyJsonLine(k, 'base64')}`);
    const whole = lines(keysOf(await readAll(ByteSource.fromBuffer(data, 'whole'))));
    expect(whole.length).toBe(185);
    for (const size of [1, 7]) {
      const chunked = lines(keysOf(await readAll(tinyChunks(data, size))));
      expect(chunked).toEqual(whole);
    }
  });

  it('parses every vector identically with 1-byte chunks', async () => {
    for (const [, payload, value, magic] of cases) {
      const keys = keysOf(await readAll(tinyChunks(fileFromPayload(payload, magic))));
      expect(keys[0]!.value).toEqual(value);
    }
  });
});
