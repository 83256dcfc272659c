import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyJsonLine } from '../../src/inspect/key-json.js';
import { loadAof, rewriteAof, type RewriteFormat } from '../../src/engine/rewrite.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { CORPUS as CORPUS_ROOT } from '../helpers/corpus.js';
import type { RdbKey } from '../../src/codec/rdb/model.js';
import { readRdb } from '../../src/codec/rdb/reader.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { Keyspace } from '../../src/engine/keyspace.js';
import { dumpToRdb } from '../../src/engine/dump.js';

/**
 * Every AOF of the corpus: the engine's replay matches the ground truth key by key, and our
 * rewrite of it, loaded into a fresh redis-server 7.0, gives the DEBUG DIGEST (and per-key
 * DEBUG DIGEST-VALUE) the producer's server reported. DEBUG DIGEST is computed differently from
 * 7.2 on, so newer producers are checked key by key only.
 */

type Json = Record<string, unknown>;
const CORPUS = join(CORPUS_ROOT, 'aof/');
const dirs = readdirSync(CORPUS).filter((n) => statSync(join(CORPUS, n)).isDirectory());
const work = mkdtempSync(join(tmpdir(), 'tsredis-engine-corpus-'));
const THIRD = join(CORPUS_ROOT, 'third-party/redis-tests-assets/');
const thirdPartyAofs = readdirSync(THIRD).filter((n) => n.endsWith('.aof'));

afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

function aofPath(dir: string): string {
  const d = join(CORPUS, dir);
  return readdirSync(d).includes('appendonlydir') ? join(d, 'appendonlydir') : join(d, 'appendonly.aof');
}

const sortKey = (k: Json): string => `${String(k.db).padStart(3, '0')}:${Buffer.from(String(k.key), k.key_base64 ? 'base64' : 'utf8').toString('hex')}`;
const byKey = (a: Json, b: Json): number => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0);
const num = (s: unknown): number => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));

/** The parts of a stream the replay determines (consumer times are those of whoever loaded it). */
function streamShape(v: Json): unknown {
  return {
    entries: v.entries,
    length: v.length,
    last_id: v.last_id,
    max_deleted_entry_id: v.max_deleted_entry_id,
    entries_added: v.entries_added,
    recorded_first_entry_id: v.recorded_first_entry_id,
    groups: (v.groups as Json[]).map((g) => ({
      name: g.name,
      last_delivered_id: g.last_delivered_id,
      entries_read: g.entries_read,
      pel: (g.pel as unknown[][]).map(([id, consumer, time, count]) => [id, consumer, time, count]),
      consumers: (g.consumers as Json[]).map((c) => [c.name, (c.pel as unknown[][]).map((p) => p[0])]),
    })),
  };
}

function valueShape(type: unknown, v: unknown, producer: string): unknown {
  if (type === 'zset') return (v as [string, string][]).map(([m, s]) => [m, num(s)]);
  if (type === 'hash') return { fields: (v as Json).fields, ttl: (v as Json).field_expire_at_ms ?? {} };
  if (type === 'stream') {
    const s = streamShape(v as Json) as Json;
    // Servers before 7.0 have no stream counters; their ground truth lacks them.
    if (producer.startsWith('redis-6') || producer.startsWith('redis-5')) {
      for (const f of ['max_deleted_entry_id', 'entries_added', 'recorded_first_entry_id']) delete s[f];
      for (const g of s.groups as Json[]) delete g.entries_read;
    }
    return s;
  }
  return v;
}

describe('engine replay and aof-rewrite of every corpus AOF', () => {
  it('finds the corpus', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(4);
  });

  for (const file of thirdPartyAofs) {
    it(`third-party ${file}: replay equals the ground truth key by key`, async () => {
      const gt = JSON.parse(readFileSync(join(THIRD, file.replace(/\.aof$/, '.json')), 'utf8')) as Json;
      // The ground truth was taken under a clock set to 2000-01-01 so past TTLs were kept.
      const { ks } = await loadAof(join(THIRD, file), { format: 'resp', base: 'rdb', nowMs: Date.now() });
      const ours = [...ks.keys(Date.parse('2000-01-01T00:00:00Z'))].map((k) => JSON.parse(keyJsonLine(k, 'base64')) as Json).sort(byKey);
      const theirs = [...(gt.keys as Json[])].sort(byKey);
      expect(ours.map(sortKey)).toEqual(theirs.map(sortKey));
      theirs.forEach((t, i) => expect(valueShape(ours[i]!.type, ours[i]!.value, 'third-party'), sortKey(t)).toEqual(valueShape(t.type, t.value, 'third-party')));
    });
  }

  it('carries module values through untouched (RDB with a module key: load, dump, read back)', async () => {
    const ks = new Keyspace();
    const src: RdbKey[] = [];
    for await (const r of readRdb(ByteSource.fromFile(join(CORPUS, '../third-party/rdb-tools-dumps/redis_40_with_module.rdb')))) {
      if (r.kind === 'key') {
        ks.loadKey(r.entry);
        src.push(r.entry);
      }
    }
    expect(src.some((k) => k.value?.type === 'module')).toBe(true);
    const chunks: Buffer[] = [];
    await dumpToRdb(ks, (c) => void chunks.push(c), { version: 9, nowMs: null });
    const back: RdbKey[] = [];
    for await (const r of readRdb(ByteSource.fromBuffer(Buffer.concat(chunks), 'dump'))) if (r.kind === 'key') back.push(r.entry);
    const mod = (ks2: RdbKey[]): unknown => ks2.filter((k) => k.value?.type === 'module').map((k) => [k.key.toString(), k.value]);
    expect(mod(back)).toEqual(mod(src));
    expect(() => ks.apply([Buffer.from('MODULE.CMD'), Buffer.from('k')])).toThrow(/MODULE\.CMD/);
  });

  for (const dir of dirs) {
    const gt = JSON.parse(readFileSync(join(CORPUS, `${dir}.json`), 'utf8')) as Json;
    const producer = String((gt.producer as Json).label);
    const version = String((gt.producer as Json).version);
    const digestComparable = /^(redis-)?[2-6]\.|^7\.0\./.test(version) && (gt.producer as Json).server === 'redis';

    it(`${dir}: replay equals the ground truth key by key`, async () => {
      const { ks, stats } = await loadAof(aofPath(dir), { format: 'multipart', base: 'rdb', nowMs: Date.now() });
      expect(stats.errors, String(stats.firstError)).toBe(0);
      const ours = [...ks.keys(null)].map((k) => JSON.parse(keyJsonLine(k, 'base64')) as Json).sort(byKey);
      const theirs = [...(gt.keys as Json[])].sort(byKey);
      expect(ours.map(sortKey)).toEqual(theirs.map(sortKey));
      theirs.forEach((t, i) => {
        const o = ours[i]!;
        const where = `db ${String(t.db)} key ${String(t.key)}`;
        expect(o.type, where).toEqual(t.type);
        if (t.expire_approx === true && typeof t.expire_at_ms === 'number') {
          // Before 7.0 the ground truth could only read TIME + PTTL.
          expect(Math.abs(Number(o.expire_at_ms) - t.expire_at_ms), `${where} expiry`).toBeLessThan(5000);
        } else expect(o.expire_at_ms, `${where} expiry`).toEqual(t.expire_at_ms);
        expect(valueShape(o.type, o.value, producer), where).toEqual(valueShape(t.type, t.value, producer));
      });
      const fns = [...ks.functions.values()].map((c) => c.toString('utf8')).sort();
      expect(fns).toEqual((((gt.functions as Json[] | null) ?? []).map((f) => f.code) as string[]).sort());
    });

    if (!digestComparable) continue;
    for (const format of ['multipart', 'preamble', 'resp'] as RewriteFormat[]) {
      it(`${dir}: --format ${format} output loads into redis 7.0 with the producer's DEBUG DIGEST`, async () => {
        const home = mkdtempSync(join(work, `${format}-`));
        const name = format === 'multipart' ? 'appendonlydir' : 'appendonly.aof';
        const s = await rewriteAof(aofPath(dir), join(home, name), { format, base: 'rdb', nowMs: Date.now() });
        expect(s.keys).toBe((gt.keys as Json[]).length);
        const server = await startRedis({ dir: home, config: { appendonly: 'yes', appenddirname: 'appendonlydir' } });
        const c = await server.client();
        try {
          expect(await c.text('DEBUG', 'DIGEST')).toBe(gt.debug_digest);
          for (const k of gt.keys as Json[]) {
            await c.call('SELECT', Number(k.db));
            const key = Buffer.from(String(k.key), k.key_base64 ? 'base64' : 'utf8');
            expect(await c.text('DEBUG', 'DIGEST-VALUE', key), `db ${String(k.db)} key ${String(k.key)}`).toBe(k.digest_value);
          }
        } finally {
          c.close();
          await server.stop();
        }
      });
    }
  }
});
