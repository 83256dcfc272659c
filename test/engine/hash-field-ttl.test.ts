import { describe, expect, it } from 'vitest';
import type { RdbRecord } from '../../src/codec/rdb/model.js';
import { readRdb } from '../../src/codec/rdb/reader.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { Keyspace } from '../../src/engine/keyspace.js';
import { dumpToRdb } from '../../src/engine/dump.js';

/**
 * Hash-field TTLs (Redis 7.4+) cannot be run on the suite's redis-server 7.0, so these follow
 * the command reference: HEXPIRE family conditions per field, HPERSIST, HSET clearing a field's
 * TTL, and the dump leaving out fields (and hashes) expired at the dump time. The replicated
 * forms (HPEXPIREAT ... FIELDS n, HDEL of expired fields) are what 7.4+ AOFs hold.
 */

const b = (...xs: Array<string | number>): Buffer[] => xs.map((x) => Buffer.from(String(x)));
const T = 4102444800000;

function fieldTtls(ks: Keyspace, key: string): Record<string, number | null> {
  const e = ks.lookup(Buffer.from(key));
  if (!e || e.value.type !== 'hash') return {};
  const h = e.value.v;
  return Object.fromEntries([...h.entries()].map(([field]) => [field, h.expireAt(field)]));
}

describe('engine: hash-field TTLs', () => {
  it('HPEXPIREAT/HEXPIRE with NX/XX/GT/LT per field, HPERSIST, HSET clears, HINCRBY keeps', () => {
    const ks = new Keyspace({ clock: () => 1_000_000 });
    ks.apply(b('HSET', 'h', 'a', 1, 'b', 2, 'c', 3, 'd', 4));
    ks.apply(b('HPEXPIREAT', 'h', T, 'FIELDS', 2, 'a', 'b'));
    ks.apply(b('HPEXPIREAT', 'h', T + 5, 'NX', 'FIELDS', 2, 'a', 'c'));
    ks.apply(b('HPEXPIREAT', 'h', T + 9, 'GT', 'FIELDS', 2, 'b', 'd'));
    ks.apply(b('HEXPIRE', 'h', 100, 'FIELDS', 1, 'd'));
    ks.apply(b('HPEXPIRE', 'h', 500, 'XX', 'FIELDS', 1, 'zz'));
    expect(fieldTtls(ks, 'h')).toEqual({ a: T, b: T + 9, c: T + 5, d: 1_100_000 });
    ks.apply(b('HPEXPIREAT', 'h', T - 1, 'LT', 'FIELDS', 2, 'a', 'c'));
    ks.apply(b('HPERSIST', 'h', 'FIELDS', 1, 'b'));
    ks.apply(b('HSET', 'h', 'c', 'new'));
    ks.apply(b('HINCRBY', 'h', 'd', 1));
    expect(fieldTtls(ks, 'h')).toEqual({ a: T - 1, b: null, c: null, d: 1_100_000 });
    expect(() => ks.apply(b('HPEXPIREAT', 'h', T, 'FIELDS', 3, 'a'))).toThrow(/numfields/);
    expect(() => ks.apply(b('HPEXPIREAT', 'h', T, 'NX', 'GT', 'FIELDS', 1, 'a'))).toThrow(/NX and XX, GT or LT/);
  });

  it('a field TTL already past is kept while replaying and decided at dump time; RDB 12 keeps TTLs', async () => {
    const ks = new Keyspace();
    ks.apply(b('HSET', 'h', 'old', 1, 'live', 2, 'plain', 3));
    ks.apply(b('HPEXPIREAT', 'h', 1000, 'FIELDS', 1, 'old'));
    ks.apply(b('HPEXPIREAT', 'h', T, 'FIELDS', 1, 'live'));
    ks.apply(b('HSET', 'gone', 'x', 1));
    ks.apply(b('HPEXPIREAT', 'gone', 1000, 'FIELDS', 1, 'x'));
    expect(fieldTtls(ks, 'h').old).toBe(1000);
    const all = [...ks.keys(null)].map((k) => k.key.toString()).sort();
    expect(all).toEqual(['gone', 'h']);
    const chunks: Buffer[] = [];
    const s = await dumpToRdb(ks, (c) => void chunks.push(c), { version: 12, nowMs: 2000 });
    expect(s.keys).toBe(1);
    const records: RdbRecord[] = [];
    for await (const r of readRdb(ByteSource.fromBuffer(Buffer.concat(chunks), 'dump'))) records.push(r);
    const keys = records.flatMap((r) => (r.kind === 'key' ? [r.entry] : []));
    expect(keys.map((k) => k.key.toString())).toEqual(['h']);
    const v = keys[0]!.value!;
    expect(v.type).toBe('hash');
    if (v.type !== 'hash') return;
    expect(v.value.map(([f, x]) => [f.toString(), x.toString()]).sort()).toEqual([
      ['live', '2'],
      ['plain', '3'],
    ]);
    expect([...(v.expires ?? new Map())]).toEqual([['live', T]]);
  });
});
