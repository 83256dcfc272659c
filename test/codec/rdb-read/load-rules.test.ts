import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc64 } from '../../../src/codec/rdb/crc64.js';
import { lenBytes, strBytes } from '../../../src/codec/rdb/encoding.js';
import { ListpackBuilder } from '../../../src/codec/rdb/listpack-writer.js';
import type { RedisValue, StreamGroup, StreamValue } from '../../../src/codec/rdb/model.js';
import { RdbDecoder } from '../../../src/codec/rdb/reader.js';
import { encodeStream } from '../../../src/codec/rdb/stream-writer.js';
import { JsonOut } from '../../../src/inspect/json-out.js';
import { writeKeyJson } from '../../../src/inspect/key-json.js';
import { KeyRespSink } from '../../../src/inspect/key-resp-sink.js';
import { dumpRdb } from '../../../src/inspect/rdb-dump.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { keysOf, readAll } from './corpus-helpers.js';

/**
 * What Redis checks when it loads a stream or a zset score, and what it lets through
 * (rdbLoadObject, streamValidateListpackIntegrity, rdbLoadDoubleValue's sscanf, zzlGetScore's
 * strtod, as redis-check-rdb runs them): each case is a hand-made RDB 10 file, and our reader must
 * accept or reject it as the rule says and as the real redis-check-rdb does. Most came out of a
 * differential fuzz (bench/rdb-check-vs-c.mjs) where we were stricter than the server.
 */

const dir = mkdtempSync(join(tmpdir(), 'load-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const id = (ms: number, seq = 0): { ms: bigint; seq: bigint } => ({ ms: BigInt(ms), seq: BigInt(seq) });
const b = (s: string): Buffer => Buffer.from(s);

/** 150 entries: two listpack nodes of 100 and 50 (the writer's node size). */
function stream(groups: StreamGroup[] = []): StreamValue {
  const entries = Array.from({ length: 150 }, (_, i) => ({ id: id(1000 + i), fields: [b('f'), b(`v${i}`)] }));
  return { entries, length: 150, lastId: id(1149), firstId: id(1000), maxDeletedId: id(0), entriesAdded: 150n, groups };
}

const group = (name: string, consumers: Array<[string, number[]]>, pel = [1000, 1001]): StreamGroup => ({
  name: b(name),
  lastDeliveredId: id(1001),
  entriesRead: 2n,
  pel: pel.map((ms) => ({ id: id(ms), deliveryTimeMs: 1, deliveryCount: 1, consumer: Buffer.alloc(0) })),
  consumers: consumers.map(([c, ids]) => ({ name: b(c), seenTimeMs: 1, activeTimeMs: 1, pending: ids.map((ms) => id(ms)) })),
});

/** The value's parts, uncompressed: [node count, key1 len, key1, lp1 len, lp1, key2 len, key2, lp2 len, lp2, rest...]. */
const parts = (s: StreamValue): Buffer[] => encodeStream(s, 2, { compress: false });

/** An RDB 10 file with one key `k` of RDB type `type` (default 19, stream v2) made of these value bytes. */
function rdb(value: Buffer[], type = 19): Buffer {
  const body = Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xfe, 0, type]), ...strBytes(b('k')), ...value, Buffer.from([0xff])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}

/** A type-3 zset: member, then the score as rdbSaveDoubleValue writes it (length byte + text). */
const textZset = (score: string): Buffer[] => [lenBytes(1), ...strBytes(b('m')), Buffer.from([score.length]), b(score)];
/** A listpack zset (type 17) of one member with this score text. */
const listpackZset = (score: string): Buffer[] => strBytes(new ListpackBuilder().add(b('m')).add(b(score)).finish(), { compress: false });

async function ours(file: Buffer): Promise<{ error: string | null; value: RedisValue | null }> {
  const dec = new RdbDecoder(ByteSource.fromBuffer(file, 'input.rdb'));
  let value: RedisValue | null = null;
  try {
    for (let batch = await dec.nextBatch(); batch; batch = await dec.nextBatch()) {
      for (const r of batch) if (r.kind === 'key') value = r.entry.value ?? null;
    }
    return { error: null, value };
  } catch (e) {
    return { error: (e as Error).message, value: null };
  }
}

function redisCheckRdbAccepts(file: Buffer, name: string): boolean {
  const path = join(dir, `${name}.rdb`);
  writeFileSync(path, file);
  const r = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status === 0;
}

const cases: Array<{ name: string; file: () => Buffer; accepted: boolean; message?: RegExp; check?: (v: StreamValue) => void }> = [
  { name: 'the writer output as is', file: () => rdb(parts(stream())), accepted: true },
  {
    name: 'nodes out of order (the radix tree orders them)',
    file: () => {
      const p = parts(stream());
      return rdb([p[0]!, ...p.slice(5, 9), ...p.slice(1, 5), ...p.slice(9)]);
    },
    accepted: true,
    check: (v) => expect(v.entries.map((e) => Number(e.id.ms))).toEqual(Array.from({ length: 150 }, (_, i) => 1000 + i)),
  },
  {
    name: 'the same node key twice',
    file: () => {
      const p = parts(stream());
      return rdb([...p.slice(0, 5), p[5]!, p[2]!, ...p.slice(7)]);
    },
    accepted: false,
    message: /unique stream node keys, found 1000-0 twice/,
  },
  {
    name: "a node listpack whose header count is wrong (Redis's stream walk never reads it)",
    file: () => {
      const p = parts(stream());
      const lp = Buffer.from(p[4]!);
      lp.writeUInt16LE(lp.readUInt16LE(4) + 7, 4);
      return rdb([...p.slice(0, 4), lp, ...p.slice(5)]);
    },
    accepted: true,
  },
  {
    name: 'entry IDs out of order inside a node (kept as stored)',
    file: () => {
      const s = stream();
      [s.entries[3], s.entries[4]] = [s.entries[4]!, s.entries[3]!];
      return rdb(parts(s));
    },
    accepted: true,
    check: (v) => expect(Number(v.entries[3]!.id.ms)).toBe(1004),
  },
  {
    name: 'a stored length other than the live entries (XLEN answers it)',
    file: () => rdb(parts({ ...stream(), length: 7 })),
    accepted: true,
    check: (v) => expect(v.length).toBe(7),
  },
  {
    name: 'a length with no nodes',
    file: () => rdb(parts({ ...stream(), entries: [], length: 3 })),
    accepted: false,
    message: /stream length 0 \(the stream has no nodes\), found 3/,
  },
  {
    name: 'a node whose live and deleted counts are split otherwise than its flags',
    file: () => {
      const p = parts(stream());
      const lp = Buffer.from(p[4]!);
      // Master entry: count 100 (1-byte int at 6, back-length at 7), deleted 0 (at 8): make it 99 and 1.
      expect([lp[6], lp[8]]).toEqual([100, 0]);
      lp[6] = 99;
      lp[8] = 1;
      return rdb([...p.slice(0, 4), lp, ...p.slice(5)]);
    },
    accepted: true,
  },
  { name: 'two groups of one name', file: () => rdb(parts(stream([group('g', [['c', [1000, 1001]]]), group('g', [['c', [1000, 1001]]])]))), accepted: false, message: /unique consumer group names, found "g" twice/ },
  { name: 'two consumers of one name', file: () => rdb(parts(stream([group('g', [['c', [1000]], ['c', [1001]]])]))), accepted: false, message: /unique consumer names in a group, found "c" twice/ },
  { name: 'a pending entry in two consumers', file: () => rdb(parts(stream([group('g', [['a', [1000, 1001]], ['b', [1001]]])]))), accepted: false, message: /PEL entry 1001-0 owned by one consumer only/ },
  { name: 'a pending entry twice in one consumer', file: () => rdb(parts(stream([group('g', [['a', [1000, 1001, 1000]]])]))), accepted: false, message: /PEL entry 1000-0 owned by one consumer only/ },
];

/** Our verdict and redis-check-rdb's on `file`, which must both be `accepted`; returns our value. */
async function agree(name: string, file: Buffer, accepted: boolean, message?: RegExp): Promise<RedisValue | null> {
  const got = await ours(file);
  expect(got.error === null, got.error ?? 'accepted').toBe(accepted);
  if (message) expect(got.error).toMatch(message);
  expect(redisCheckRdbAccepts(file, name.replace(/\W+/g, '-')), 'redis-check-rdb').toBe(accepted);
  return got.value;
}

describe('stream rules agree with redis-check-rdb', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const v = await agree(c.name, c.file(), c.accepted, c.message);
      if (c.check) {
        expect(v?.type).toBe('stream');
        if (v?.type === 'stream') c.check(v.value);
      }
    });
  }
});

describe('rdb-dump prints an accepted stream as the model does (node by node, or sorted when its nodes are out of order)', () => {
  for (const c of cases.filter((x) => x.accepted)) {
    it(c.name, async () => {
      const file = c.file();
      const [k] = keysOf(await readAll(ByteSource.fromBuffer(file, 'input.rdb')));
      const json = new JsonOut(1 << 16);
      writeKeyJson(json, k!, 'utf8');
      const resp = new KeyRespSink({}, new JsonOut(1 << 16));
      resp.key(k!.db, k!.key, 0, k!.key.length, k!.rdbType, k!.expireAtMs);
      resp.value(k!.value!);
      resp.end();
      // Tiny pieces make the stream a big key's piece: checked first, then printed in chunks
      // (node by node only when the check found its nodes in key order).
      for (const pieceBytes of [undefined, 64]) {
        for (const [format, want] of [['jsonl', json.written()], ['resp', resp.out.written()]] as const) {
          const parts: Buffer[] = [];
          await dumpRdb(ByteSource.fromBuffer(file, 'input.rdb'), { format, encoding: 'utf8', pieceBytes }, (chunk) => {
            parts.push(Buffer.from(chunk));
          });
          expect(Buffer.concat(parts).toString('latin1'), `${format}, pieces of ${pieceBytes ?? 'default'}`).toBe(want.toString('latin1'));
        }
      }
    });
  }
});

describe('zset score text rules agree with redis-check-rdb', () => {
  // [stored text, the score Redis reads, or null when it refuses the file]
  const textScores: Array<[string, number | null]> = [['1.5', 1.5], ['12abc', 12], [' -3e2x', -300], ['0x10', 16], ['inf', Infinity], ['abc', null], ['', null], ['nan', null]];
  for (const [text, score] of textScores) {
    it(`type-3 zset score ${JSON.stringify(text)} (sscanf %lg)`, async () => {
      const v = await agree(`t3-${text}`, rdb(textZset(text), 3), score !== null, score === null ? /score/ : undefined);
      if (score !== null) expect(v).toEqual({ type: 'zset', value: [[b('m'), score]] });
    });
  }
  const packedScores: Array<[string, number]> = [['2.25', 2.25], ['7up', 7], ['abc', 0], ['-inf', -Infinity], ['nan', NaN]];
  for (const [text, score] of packedScores) {
    it(`listpack zset score ${JSON.stringify(text)} (strtod, unchecked)`, async () => {
      const v = await agree(`lp-${text}`, rdb(listpackZset(text), 17), true);
      expect(v).toEqual({ type: 'zset', value: [[b('m'), score]] });
    });
  }
});

describe('length rules agree with redis-check-rdb', () => {
  // rdbLoadLen reads a special string-encoding byte (11xxxxxx) where a plain length is expected
  // as its low 6 bits; other 10xxxxxx bytes than 0x80/0x81 are corrupt.
  it('a list count written as 0xC2 is 2', async () => {
    const v = await agree('len-c2', rdb([Buffer.from([0xc2]), ...strBytes(b('a')), ...strBytes(b('b'))], 1), true);
    expect(v).toEqual({ type: 'list', value: [b('a'), b('b')] });
  });
  it('a list count written as 0x9e is corrupt', async () => {
    await agree('len-9e', rdb([Buffer.from([0x9e]), ...strBytes(b('a'))], 1), false, /a length encoding, found 0x9e/);
  });
});
