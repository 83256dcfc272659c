import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatG17 } from '../../src/codec/rdb/format-g17.js';
import { RdbDecoder } from '../../src/codec/rdb/reader.js';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { ContentPrint, dumpPrint } from '../../src/restore/content-print.js';
import { DigestSink, PRINT_FROM, type DigestedKey } from '../../src/restore/digest-sink.js';
import { restoreOnline } from '../../src/restore/online.js';
import { Sha1 } from '../../src/restore/sha1.js';
import { acceptableDigests, formatShortest } from '../../src/restore/value-digest.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { CORPUS, walk } from '../codec/rdb-read/corpus-helpers.js';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';

/**
 * DigestSink (restore --verify's expected DEBUG DIGEST-VALUE, element by element) against the
 * decoded-value path for every corpus key, and against a real server for keys of 1M elements; a
 * heap guard that --verify of big keys does not build their values.
 */

afterAll(stopAllRedis);

type Fmt = (x: number) => string;

/** Per key (in file order): `db key` and the digests, from the decoded values. */
async function decodedDigests(src: ByteSource, fmt: Fmt): Promise<Array<[string, string[] | null]>> {
  const dec = new RdbDecoder(src, { raw: false });
  const out: Array<[string, string[] | null]> = [];
  for (let batch = await dec.nextBatch(64); batch; batch = await dec.nextBatch(64)) {
    for (const r of batch) if (r.kind === 'key') out.push([`${r.entry.db} ${r.entry.key.toString('latin1')}`, acceptableDigests(r.entry.value!, r.entry.expireAtMs !== null, fmt)]);
  }
  return out;
}

/** Every key DigestSink gives over the file's stored elements (aggregates past `printFrom` elements get a print instead). */
async function sinkKeys(src: ByteSource, fmt: Fmt, printFrom: number): Promise<DigestedKey[]> {
  const sink = new DigestSink(fmt, undefined, undefined, printFrom);
  const dec = new RdbDecoder(src, { sink });
  const keys: DigestedKey[] = [];
  while (await dec.nextBatch(64)) keys.push(...sink.take());
  keys.push(...sink.take());
  return keys;
}

/** The digests from DigestSink, every aggregate digested whatever its size. */
async function sinkDigests(src: ByteSource, fmt: Fmt): Promise<Array<[string, string[] | null]>> {
  return (await sinkKeys(src, fmt, Infinity)).map((k) => [`${k.db} ${k.key.toString('latin1')}`, k.want]);
}

/** Per key: the content print of the decoded value (null for a string or a value without elements). */
async function decodedPrints(src: ByteSource): Promise<Array<[string, string | null]>> {
  const dec = new RdbDecoder(src, { raw: false });
  const out: Array<[string, string | null]> = [];
  const p = new ContentPrint();
  for (let batch = await dec.nextBatch(64); batch; batch = await dec.nextBatch(64)) {
    for (const r of batch) {
      if (r.kind !== 'key') continue;
      p.value(r.entry.value!);
      out.push([`${r.entry.db} ${r.entry.key.toString('latin1')}`, p.result()]);
    }
  }
  return out;
}

describe('Sha1', () => {
  it('equals node:crypto for every length across the block and padding boundaries, and a 1 MB input', () => {
    const s = new Sha1();
    const out = Buffer.alloc(20);
    const data = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 131 + (i >> 8)) & 0xff));
    for (const n of [...Array.from({ length: 300 }, (_, i) => i), 1 << 20]) {
      s.digest(data, 7, 7 + Math.min(n, data.length - 7), out, 0);
      expect(out.toString('hex'), `length ${n}`).toBe(createHash('sha1').update(data.subarray(7, 7 + Math.min(n, data.length - 7))).digest('hex'));
    }
  });
});

describe('DigestSink', () => {
  const files = [...walk(`${CORPUS}rdb`, '.rdb'), ...walk(`${CORPUS}third-party`, '.rdb')];

  it('gives the decoded-value digests for every key of every corpus RDB, in both score formats', async () => {
    let keys = 0;
    let digested = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const fmt of [formatG17, formatShortest]) {
        let want: Array<[string, string[] | null]>;
        try {
          want = await decodedDigests(ByteSource.fromBuffer(bytes, f), fmt);
        } catch {
          // Corpus files the reader refuses (damaged on purpose, newer than supported) are not
          // this test's business, but the sink must refuse them too.
          await expect(sinkDigests(ByteSource.fromBuffer(bytes, f), fmt)).rejects.toThrow();
          continue;
        }
        const got = await sinkDigests(ByteSource.fromBuffer(bytes, f), fmt);
        expect(got, f).toEqual(want);
        keys += want.length;
        digested += want.filter(([, d]) => d !== null).length;
      }
    }
    expect(files.length).toBeGreaterThan(10);
    expect(digested).toBeGreaterThan(1000);
    expect(keys).toBeGreaterThanOrEqual(digested);
  }, 300_000);

  it('prints every aggregate of every corpus RDB as its decoded value prints, from the elements as stored (printFrom 0)', async () => {
    let printed = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      let want: Array<[string, string | null]>;
      try {
        want = await decodedPrints(ByteSource.fromBuffer(bytes, f));
      } catch {
        continue; // refused by the reader: the digest test above checks the sink refuses it too
      }
      const wanted = new Map(want);
      for (const k of await sinkKeys(ByteSource.fromBuffer(bytes, f), formatG17, 0)) {
        if (k.print === null) continue; // a string, a value decoded whole, a stream out of ID order: digested, not printed
        expect(k.want, f).toBeNull();
        expect(k.print, `${f} ${k.key.toString('latin1')}`).toBe(wanted.get(`${k.db} ${k.key.toString('latin1')}`));
        printed++;
      }
    }
    expect(printed).toBeGreaterThan(500);
  }, 300_000);

  it(`digests an aggregate of ${PRINT_FROM} elements as the server does and prints one of ${PRINT_FROM + 1} as its DUMP prints, in every encoding`, async () => {
    const server = await startRedis({ config: { rdbcompression: 'no', 'set-max-intset-entries': '0', 'hash-max-listpack-entries': '0', 'zset-max-listpack-entries': '0', 'list-max-listpack-size': '4' } });
    const c = await server.client();
    const want = new Map<string, string>();
    for (const n of [PRINT_FROM, PRINT_FROM + 1]) {
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      await c.call('RPUSH', `list${n}`, ...ids.map(String));
      await c.call('SADD', `ints${n}`, ...ids.map((i) => String(i * 7)));
      await c.call('SADD', `set${n}`, ...ids.map((i) => `s${i}`));
      await c.call('HSET', `hash${n}`, ...ids.flatMap((i) => [`f${i}`, `v${i}`]));
      // Scores i/3 need all 17 digits of %.17g.
      await c.call('ZADD', `zset${n}`, ...ids.flatMap((i) => [String(i / 3), `m${i}`]));
      for (const i of ids) await c.call('XADD', `stream${n}`, `${i}-1`, 'f', String(i), 'g', 'x');
      for (const k of ['list', 'ints', 'set', 'hash', 'zset', 'stream']) {
        want.set(`${k}${n}`, n === PRINT_FROM ? String(await c.call('DEBUG', 'DIGEST-VALUE', `${k}${n}`)) : (await dumpPrint([(await c.call('DUMP', `${k}${n}`)) as Buffer], 'DUMP'))!);
      }
    }
    expect(String(await c.call('OBJECT', 'ENCODING', `zset${PRINT_FROM}`))).toBe('skiplist');
    await c.call('SAVE');
    c.close();
    const keys = await sinkKeys(ByteSource.fromBuffer(readFileSync(join(server.dir, 'dump.rdb')), 'dump.rdb'), formatG17, PRINT_FROM);
    expect(keys).toHaveLength(12);
    for (const k of keys) {
      const name = k.key.toString();
      if (name.endsWith(String(PRINT_FROM + 1))) expect([k.want, k.print], name).toEqual([null, want.get(name)]);
      else expect([k.want, k.print], name).toEqual([[want.get(name)], null]);
    }
  }, 120_000);

  describe('keys of 1M elements written by a real server', () => {
    const N = 1_000_000;
    let server: TestRedis;
    let rdb: Buffer;
    let rdbPath: string;
    const names = ['biglist', 'bigzset', 'bighash', 'bigset', 'bigints', 'bigstream'];
    beforeAll(async () => {
      server = await startRedis({ config: { rdbcompression: 'no' } });
      const c = await server.client();
      const fill = (cmd: string, key: string, item: string): Promise<unknown> =>
        c.call('EVAL', `for i=1,${N / 1000} do local t={} for j=1,1000 do local n=(i-1)*1000+j ${item} end redis.call('${cmd}',KEYS[1],unpack(t)) end`, 1, key);
      await fill('RPUSH', 'biglist', 't[j]=tostring(n)');
      // Scores n/3 need all 17 digits of %.17g; one member below has a -0 score.
      await fill('ZADD', 'bigzset', "t[2*j-1]=n/3 t[2*j]='m'..n");
      await fill('HSET', 'bighash', "t[2*j-1]='f'..n t[2*j]='v'..n");
      await fill('SADD', 'bigset', "t[j]='s'..n");
      await fill('SADD', 'bigints', 't[j]=n*7');
      await c.call('ZADD', 'bigzset', '-0', 'negzero');
      // A 1M-entry stream (Redis 7.0 digests its entries in ID order, groups not included).
      await c.call('EVAL', `for n=1,${N} do redis.call('XADD',KEYS[1],n..'-1','f',n,'g','x') end`, 1, 'bigstream');
      await c.call('PEXPIREAT', 'bighash', Date.now() + 3_600_000);
      await c.call('SAVE');
      c.close();
      rdbPath = join(server.dir, 'dump.rdb');
      rdb = readFileSync(rdbPath);
    }, 300_000);

    it("print as the server's DUMP of them prints, and a changed element changes the print", async () => {
      const keys = await sinkKeys(ByteSource.fromBuffer(rdb, 'big.rdb'), formatG17, PRINT_FROM);
      expect(keys.map((k) => [k.key.toString(), k.want === null && k.print !== null]).sort()).toEqual(names.map((k) => [k, true]).sort());
      const c = await server.client();
      try {
        for (const k of keys) {
          const dump = (await c.call('DUMP', k.key)) as Buffer;
          // In pieces, as they come off a socket.
          const pieces = [dump.subarray(0, 3), dump.subarray(3, 65_539), dump.subarray(65_539)];
          expect(await dumpPrint(pieces, 'DUMP'), k.key.toString()).toBe(k.print);
        }
        expect(keys.find((k) => k.key.toString() === 'biglist')!.print).toMatch(/^list of 1000000 elements, content [0-9a-f]{16}$/);
        // One element changed, two swapped, one score moved: each a different print.
        const changed = async (key: string, ...cmds: Array<Array<string | number>>): Promise<string | null> => {
          await c.call('COPY', key, 'probe', 'REPLACE');
          for (const cmd of cmds) await c.call(...(cmd.map((a) => (a === '$' ? 'probe' : a)) as [string]));
          const print = await dumpPrint([(await c.call('DUMP', 'probe')) as Buffer], 'DUMP');
          await c.call('DEL', 'probe');
          return print;
        };
        const want = new Map(keys.map((k) => [k.key.toString(), k.print]));
        expect(await changed('biglist')).toBe(want.get('biglist'));
        expect(await changed('biglist', ['LSET', '$', 500_000, 'x'])).not.toBe(want.get('biglist'));
        expect(await changed('biglist', ['LSET', '$', 0, '2'], ['LSET', '$', 1, '1'])).not.toBe(want.get('biglist'));
        expect(await changed('bigzset', ['ZINCRBY', '$', 1e-9, 'm5'])).not.toBe(want.get('bigzset'));
        expect(await changed('bighash', ['HSET', '$', 'f5', 'v6'])).not.toBe(want.get('bighash'));
        expect(await changed('bigset', ['SREM', '$', 's5'], ['SADD', '$', 's5x'])).not.toBe(want.get('bigset'));
        expect(await changed('bigstream', ['XDEL', '$', '5-1'])).not.toBe(want.get('bigstream'));
      } finally {
        c.close();
      }
    }, 400_000);

    it('the stream is printed node by node: heap during the read far below what its decoded entries take', async () => {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const heap = (): number => v8.getHeapStatistics().used_heap_size;
      // The decoded stream's size on the heap, from a collected heap.
      const dec = new RdbDecoder(ByteSource.fromBuffer(rdb, 'big.rdb'), { raw: false });
      let model = 0;
      for (;;) {
        gc();
        const before = heap();
        const r = (await dec.nextBatch(1))?.[0];
        if (!r) break;
        if (r.kind === 'key' && r.entry.key.toString() === 'bigstream') {
          model = heap() - before;
          break;
        }
      }
      const bound = 32 << 20;
      expect(model).toBeGreaterThan(4 * bound);
      // Sampled from inside the reader's synchronous pass: when a key ends, and when a value arrives decoded whole.
      class Sampled extends DigestSink {
        peak = 0;
        private sample(): void {
          this.peak = Math.max(this.peak, heap());
        }
        override value(v: Parameters<DigestSink['value']>[0]): void {
          this.sample();
          super.value(v);
        }
        override end(): void {
          this.sample();
          super.end();
        }
      }
      const sink = new Sampled(formatG17, (_db, key) => key.toString() === 'bigstream');
      gc();
      const start = heap();
      const d = new RdbDecoder(ByteSource.fromBuffer(rdb, 'big.rdb'), { sink });
      const keys: DigestedKey[] = [];
      while (await d.nextBatch(64)) keys.push(...sink.take());
      keys.push(...sink.take());
      const c = await server.client();
      const print = await dumpPrint([(await c.call('DUMP', 'bigstream')) as Buffer], 'DUMP');
      c.close();
      expect(keys.map((k) => [k.key.toString(), k.want, k.print])).toEqual([['bigstream', null, print]]);
      expect(sink.peak - start).toBeLessThan(bound);
    }, 400_000);

    it('restore --verify-only of them does not build the values: heap growth far below what the decoded keys take', async () => {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      // What the decoded model of the list holds on the heap, measured from a collected heap.
      const dec = new RdbDecoder(ByteSource.fromBuffer(rdb, 'big.rdb'), { raw: false });
      let model = 0;
      for (;;) {
        gc();
        const before = process.memoryUsage().heapUsed;
        const r = (await dec.nextBatch(1))?.[0];
        if (!r) break;
        if (r.kind === 'key' && r.entry.key.toString() === 'biglist') {
          model = process.memoryUsage().heapUsed - before;
          break;
        }
      }
      const bound = 32 << 20;
      expect(model).toBeGreaterThan(2 * bound);
      gc();
      const start = process.memoryUsage().heapUsed;
      let peak = start;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
      try {
        const rep = await restoreOnline({
          rdbPath,
          target: parseRedisUrl(server.url),
          replace: false,
          flush: false,
          lossy: false,
          dbMap: new Map(),
          bigKeyBytes: 1 << 30,
          parallel: 1,
          window: 64,
          dryRun: false,
          verify: true,
          verifyOnly: true,
        });
        // Every key passes 1024 elements: each is compared by the content print of its DUMP.
        expect(rep.verify).toMatchObject({ method: 'digest', ok: true, checked: 6, byContent: 6, mismatched: 0 });
      } finally {
        clearInterval(timer);
      }
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      expect(peak - start).toBeLessThan(bound);
    }, 400_000);
  });
});
