import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RdbKey, StreamEntry } from '../../../src/codec/rdb/model.js';
import { RdbDecoder, type ReadRdbOptions } from '../../../src/codec/rdb/reader.js';
import type { ValueSink } from '../../../src/codec/rdb/value-sink.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { startRedis, stopAllRedis } from '../../helpers/redis-server.js';

/**
 * Raw mode with a sink (online restore's one read): big records cut by many small windows come
 * with the same raw bytes as from one window (resumed in place, never parsed again), the sink sees
 * every element exactly once, and with rawUpTo the longer records go to the sink only (streamed).
 */

afterAll(stopAllRedis);

/** Counts each key's elements; a discarded key counts nothing. */
class CountingSink implements ValueSink {
  readonly keys = new Map<string, { elements: number; streamed: boolean }>();
  /** Elements handed over in all, discarded keys' included (a record parsed again counts twice). */
  delivered = 0;
  private open: { name: string; elements: number; streamed: boolean } | null = null;
  key(_db: number, b: Buffer, start: number, end: number, _type: number, _exp: number | null, _valkey: boolean, streamed?: boolean): boolean {
    this.open = { name: b.toString('latin1', start, end), elements: 0, streamed: streamed === true };
    return true;
  }
  str(): void {
    this.open!.elements++;
    this.delivered++;
  }
  int(): void {
    this.str();
  }
  score(): void {}
  scoreText(): void {}
  value(): void {
    this.str();
  }
  streamNode(entries: readonly StreamEntry[]): void {
    this.open!.elements += entries.length;
    this.delivered += entries.length;
  }
  streamEnd(): void {}
  readonly nodesInFileOrder = true;
  end(): void {
    const o = this.open!;
    expect(this.keys.has(o.name), `${o.name} ended twice`).toBe(false);
    this.keys.set(o.name, { elements: o.elements, streamed: o.streamed });
    this.open = null;
  }
  discard(): void {
    this.open = null;
  }
  func(): void {}
}

/** The file through windows of at most `chunk` bytes. */
function chunked(data: Buffer, chunk: number): ByteSource {
  async function* parts(): AsyncGenerator<Buffer> {
    for (let p = 0; p < data.length; p += chunk) yield data.subarray(p, p + chunk);
  }
  return ByteSource.fromStream(parts(), 'raw-sink.rdb', true);
}

async function keysOf(src: ByteSource, opts: ReadRdbOptions): Promise<Map<string, RdbKey>> {
  const dec = new RdbDecoder(src, opts);
  const out = new Map<string, RdbKey>();
  for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) for (const r of b) if (r.kind === 'key') out.set(r.entry.key.toString('latin1'), r.entry);
  return out;
}

describe('raw mode with a sink', () => {
  let rdb: Buffer;
  let whole: Map<string, RdbKey>;
  let counts: Map<string, { elements: number; streamed: boolean }>;
  beforeAll(async () => {
    const server = await startRedis({ config: { rdbcompression: 'no' } });
    const c = await server.client();
    await c.call('EVAL', "for i=0,299 do local t={} for j=1,1000 do t[j]=tostring(i*1000+j) end redis.call('RPUSH','biglist',unpack(t)) end", 0);
    await c.call('EVAL', "for i=0,99 do local t={} for j=1,1000 do local n=i*1000+j t[#t+1]='f'..n t[#t+1]='v'..n end redis.call('HSET','bighash',unpack(t)) end", 0);
    await c.call('EVAL', "for n=1,30000 do redis.call('XADD','bigstream',n..'-1','f',n) end", 0);
    await c.call('SET', 'small', 'v');
    await c.call('SET', 'ttl', 'w', 'PXAT', Date.now() + 3_600_000);
    await c.call('RPUSH', 'list', 'a', 'b', 'c');
    await c.call('SAVE');
    c.close();
    rdb = readFileSync(join(server.dir, 'dump.rdb'));
    whole = await keysOf(ByteSource.fromBuffer(rdb, 'raw-sink.rdb'), { raw: true });
    const sink = new CountingSink();
    await keysOf(ByteSource.fromBuffer(rdb, 'raw-sink.rdb'), { sink });
    counts = sink.keys;
    expect(counts.get('biglist')!.elements).toBe(300_000);
    expect(counts.get('bigstream')!.elements).toBe(30_000);
  }, 120_000);

  it('gives through 4 KiB windows the raw bytes one window gives, and the sink every element once', async () => {
    const sink = new CountingSink();
    const got = await keysOf(chunked(rdb, 4096), { raw: true, sink });
    expect([...got.keys()].sort()).toEqual([...whole.keys()].sort());
    for (const [name, k] of got) {
      expect(k.streamed, name).toBeUndefined();
      expect(k.raw!.equals(whole.get(name)!.raw!), name).toBe(true);
      expect(k.expireAtMs, name).toBe(whole.get(name)!.expireAtMs);
    }
    expect(sink.keys).toEqual(counts);
    // Big records are resumed in place, not parsed again: only small records cut by a window are.
    const elements = [...counts.values()].reduce((a, c) => a + c.elements, 0);
    expect(sink.delivered - elements).toBeLessThan(100);
  }, 60_000);

  it('with rawUpTo: longer records go to the sink only (streamed, no raw bytes), once; the rest come raw', async () => {
    const sink = new CountingSink();
    const got = await keysOf(chunked(rdb, 4096), { raw: true, sink, rawUpTo: 100_000 });
    const big = [...whole].filter(([, k]) => k.raw!.length > 100_000).map(([n]) => n).sort();
    expect(big).toEqual(['bighash', 'biglist', 'bigstream']);
    for (const [name, k] of got) {
      if (big.includes(name)) {
        expect([k.streamed, k.raw], name).toEqual([true, undefined]);
        expect(sink.keys.get(name), name).toEqual({ ...counts.get(name), streamed: true });
      } else {
        expect(k.raw!.equals(whole.get(name)!.raw!), name).toBe(true);
        expect(sink.keys.get(name), name).toEqual(counts.get(name));
      }
    }
    expect(got.size).toBe(whole.size);
    // Each big record is parsed again once, streamed, after at most rawUpTo bytes of it were.
    const elements = [...counts.values()].reduce((a, c) => a + c.elements, 0);
    expect(sink.delivered - elements).toBeLessThan(3 * 30_000);
  }, 60_000);
});
