import { afterAll, describe, expect, it } from 'vitest';
import { functionToCommand, valueToCommands } from '../../../src/codec/rdb/to-commands.js';
import { formatScore } from '../../../src/codec/rdb/encoding.js';
import type { RedisValue, StreamValue } from '../../../src/codec/rdb/model.js';
import { RespError } from '../../../src/codec/resp/types.js';
import { startRedis, stopAllRedis } from '../../helpers/redis-server.js';

const B = (s: string) => Buffer.from(s);
const text = (argv: Buffer[]) => argv.map((a) => a.toString('latin1'));
const id = (ms: number, seq: number) => ({ ms: BigInt(ms), seq: BigInt(seq) });

afterAll(stopAllRedis);

describe('valueToCommands (AOF rewrite form)', () => {
  it('batches variadic commands by 64 and appends PEXPIREAT', () => {
    const list = Array.from({ length: 130 }, (_, i) => B(`e${i}`));
    const cmds = valueToCommands(B('l'), { type: 'list', value: list }, 4102444800000);
    expect(cmds.map((c) => c.length)).toEqual([66, 66, 4, 3]);
    expect(text(cmds[0]!).slice(0, 3)).toEqual(['RPUSH', 'l', 'e0']);
    expect(text(cmds[2]!)).toEqual(['RPUSH', 'l', 'e128', 'e129']);
    expect(text(cmds[3]!)).toEqual(['PEXPIREAT', 'l', '4102444800000']);
    const hash = Array.from({ length: 65 }, (_, i): [Buffer, Buffer] => [B(`f${i}`), B(`v${i}`)]);
    const h = valueToCommands(B('h'), { type: 'hash', value: hash }, null);
    expect(h.map((c) => c.length)).toEqual([2 + 128, 4]);
    expect(text(h[1]!)).toEqual(['HMSET', 'h', 'f64', 'v64']);
  });

  it('writes hashes with field TTLs as HMSET + HPEXPIREAT per field', () => {
    const v: RedisValue = { type: 'hash', value: [[B('a'), B('1')], [B('b'), B('2')]], expires: new Map([['a', 4102444800123]]) };
    expect(valueToCommands(B('h'), v, null).map(text)).toEqual([
      ['HMSET', 'h', 'a', '1'],
      ['HPEXPIREAT', 'h', '4102444800123', 'FIELDS', '1', 'a'],
      ['HMSET', 'h', 'b', '2'],
    ]);
  });

  it('formats scores so they parse back to the same double', () => {
    expect(formatScore(1.5)).toBe('1.5');
    expect(formatScore(-0)).toBe('-0');
    expect(formatScore(Infinity)).toBe('inf');
    expect(formatScore(-Infinity)).toBe('-inf');
    expect(formatScore(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatScore(NaN)).toBe('nan');
    for (const x of [0.1 + 0.2, 1e21, -5e-324, 2 ** 53 + 2, 1 / 3]) expect(Number(formatScore(x))).toBe(x);
  });

  it('rejects module values (no command form exists)', () => {
    expect(() => valueToCommands(B('m'), { type: 'module', value: { id: 1n, name: 'ReJSON-RL', encver: 3, raw: Buffer.alloc(1) } }, null)).toThrow(/module type ReJSON-RL/);
  });

  it('recreates every type, including stream groups, in a real Redis 7.0', async () => {
    const srv = await startRedis();
    const c = await srv.client();
    const stream: StreamValue = {
      entries: [
        { id: id(5, 1), fields: [B('f'), B('v')] },
        { id: id(5, 2), fields: [B('f'), B('w'), B('g'), B('x')] },
        { id: id(7, 0), fields: [B('f'), B('z')] },
      ],
      length: 3,
      lastId: id(9, 9),
      firstId: id(5, 1),
      maxDeletedId: id(6, 0),
      entriesAdded: 4n,
      groups: [
        {
          name: B('g1'),
          lastDeliveredId: id(5, 2),
          entriesRead: 2n,
          pel: [
            { id: id(5, 1), deliveryTimeMs: 1700000000000, deliveryCount: 3, consumer: B('alice') },
            { id: id(5, 2), deliveryTimeMs: 1700000000500, deliveryCount: 1, consumer: B('bob') },
          ],
          consumers: [
            { name: B('alice'), seenTimeMs: 1, activeTimeMs: 1, pending: [id(5, 1)] },
            { name: B('bob'), seenTimeMs: 1, activeTimeMs: 1, pending: [id(5, 2)] },
            { name: B('carol'), seenTimeMs: 1, activeTimeMs: 1, pending: [] },
          ],
        },
        { name: B('g2'), lastDeliveredId: id(0, 0), entriesRead: null, pel: [], consumers: [] },
      ],
    };
    const emptyStream: StreamValue = { ...stream, entries: [], length: 0, firstId: id(0, 0), maxDeletedId: id(0, 0), entriesAdded: 0n, lastId: id(0, 0), groups: [] };
    const scores = [1.5, -0, 0.1 + 0.2, 1e21, -Infinity, 2 ** 53 + 2, 1 / 3];
    const keys: Array<[string, RedisValue, number | null]> = [
      ['s', { type: 'string', value: B('hello') }, 4102444800000],
      ['l', { type: 'list', value: Array.from({ length: 100 }, (_, i) => B(String(i))) }, null],
      ['set', { type: 'set', value: [B('a'), B('1'), B('\x00\xff')] }, null],
      ['z', { type: 'zset', value: scores.map((s, i): [Buffer, number] => [B(`m${i}`), s]) }, null],
      ['h', { type: 'hash', value: [[B('f'), B('v')]] }, null],
      ['st', { type: 'stream', value: stream }, null],
      ['empty', { type: 'stream', value: emptyStream }, null],
    ];
    for (const [k, v, exp] of keys) {
      for (const argv of valueToCommands(B(k), v, exp)) {
        const r = await c.send(...argv);
        expect(r instanceof RespError ? `${text(argv).join(' ')}: ${r.message}` : 'ok').toBe('ok');
      }
    }
    expect(await c.send(...functionToCommand(B("#!lua name=lib1\nredis.register_function('f1', function() return 1 end)")))).toEqual(B('lib1'));
    expect(Number(await c.send('PEXPIRETIME', 's'))).toBe(4102444800000);
    expect(await c.send('LLEN', 'l')).toBe(100);
    for (let i = 0; i < scores.length; i++) {
      const got = (await c.send('ZSCORE', 'z', `m${i}`)) as Buffer;
      // Numeric comparison: a listpack-encoded zset itself stores -0 as 0.
      expect(Number(got.toString().replace('inf', 'Infinity'))).toBe(scores[i]! === 0 ? 0 : scores[i]);
    }
    const info = (await c.send('XINFO', 'STREAM', 'st', 'FULL')) as unknown[];
    const get = (arr: unknown[], name: string) => arr[arr.findIndex((x) => Buffer.isBuffer(x) && x.toString() === name) + 1];
    expect(String(get(info, 'last-generated-id'))).toBe('9-9');
    expect(String(get(info, 'max-deleted-entry-id'))).toBe('6-0');
    expect(get(info, 'entries-added')).toBe(4);
    const groups = get(info, 'groups') as unknown[][];
    expect(groups.length).toBe(2);
    const g1 = groups[0]!;
    expect(get(g1, 'entries-read')).toBe(2);
    const pel = get(g1, 'pending') as unknown[][];
    expect(pel.map((p) => [String(p[0]), String(p[1]), p[2], p[3]])).toEqual([
      ['5-1', 'alice', 1700000000000, 3],
      ['5-2', 'bob', 1700000000500, 1],
    ]);
    expect((get(g1, 'consumers') as unknown[][]).map((x) => String(get(x, 'name')))).toEqual(['alice', 'bob', 'carol']);
    const e = (await c.send('XINFO', 'STREAM', 'empty')) as unknown[];
    expect([get(e, 'length'), String(get(e, 'last-generated-id'))]).toEqual([0, '0-0']);
    c.close();
  });
});
