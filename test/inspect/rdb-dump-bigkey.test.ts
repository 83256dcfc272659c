import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrameAt } from '../../src/codec/resp/parser.js';
import { readAll } from '../codec/rdb-read/corpus-helpers.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { dumpRdb } from '../../src/inspect/rdb-dump.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { BIG, bigKeyRdb, collectGarbage, dumpWithHeapPeak } from './big-key-rdb.js';

/**
 * rdb-dump of big keys (a 1M-element list, 200k-member zset/hash/set, a stream) written by a real server:
 * the RESP output piped into an empty server gives the writer's DEBUG DIGEST with no command over
 * 64 items, the jsonl is exact, and the RESP path does not build the value (heap guard).
 */

afterAll(stopAllRedis);

let rdb: Buffer;
let digest: string;
beforeAll(async () => {
  ({ rdb, digest } = await bigKeyRdb());
}, 60_000);

const dump = (format: 'jsonl' | 'resp'): Promise<{ out: Buffer; heapPeak: number }> => dumpWithHeapPeak(rdb, format);

describe('rdb-dump of big keys', () => {
  it('--format resp | redis-cli --pipe gives the same DEBUG DIGEST, in commands of at most 64 items', async () => {
    const { out } = await dump('resp');
    let commands = 0;
    let widest = 0;
    for (let pos = 0; pos < out.length; commands++) {
      const [argv, next] = parseFrameAt(out, pos);
      widest = Math.max(widest, (argv as Buffer[]).length);
      pos = next;
    }
    // RPUSH key + 64 elements; ZADD/HMSET key + 64 pairs.
    expect(widest).toBe(2 + 2 * 64);
    expect(commands).toBeGreaterThan(BIG.list / 64);
    const target = await startRedis();
    const piped = spawnSync('redis-cli', ['-p', String(target.port), '--pipe'], { input: out, encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(`errors: 0, replies: ${commands}`);
    expect(await debugDigest(target)).toBe(digest);
    await target.stop();
  }, 60_000);

  it('--format jsonl is exact', async () => {
    const lines = (await dump('jsonl')).out.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { key: string; db: number; value: unknown; expire_at_ms: number | null });
    const byKey = new Map(lines.map((l) => [l.key, l]));
    expect(lines.length).toBe(6);
    // Compared as JSON text: a deep equality of a million elements takes the matcher far longer.
    const text = (k: string): string => JSON.stringify(byKey.get(k)!.value);
    const seq = (n: number, f: (i: number) => unknown): unknown[] => Array.from({ length: n }, (_, i) => f(i + 1));
    expect(text('biglist')).toBe(JSON.stringify(seq(BIG.list, (i) => `e${i}`)));
    // zset: ascending by score; set: sorted by bytes; hash: as stored (a hashtable's order), so sorted here.
    expect(text('bigzset')).toBe(JSON.stringify(seq(BIG.zset, (i) => [`m${i}`, String(i / 2)])));
    expect(text('bigset')).toBe(JSON.stringify(seq(BIG.set, (i) => `s${i}`).sort()));
    const byField = ([a]: [string, string], [b]: [string, string]): number => (a < b ? -1 : 1);
    const fields = Object.entries((byKey.get('bighash')!.value as { fields: Record<string, string> }).fields).sort(byField);
    const want = Array.from({ length: BIG.hash }, (_, i): [string, string] => [`f${i + 1}`, `v${i + 1}`]).sort(byField);
    expect(JSON.stringify(fields)).toBe(JSON.stringify(want));
    expect(byKey.get('bighash')!.expire_at_ms).toBeGreaterThan(Date.now());
    const stream = byKey.get('bigstream')!.value as { entries: Array<[string, string[]]>; groups: Array<{ pel: unknown[] }> };
    expect(stream.entries.length).toBe(BIG.stream);
    expect(stream.entries.map(([, f]) => f.join('=')).join(',')).toBe(seq(BIG.stream, (i) => `k=v${i}`).join(','));
    expect(stream.groups[0]!.pel.length).toBe(10);
    expect(byKey.get('small')).toMatchObject({ db: 3, value: 'x' });
  }, 60_000);

  // The CLI prints in worker threads, each big key a piece of its own whose output streams to
  // stdout in chunks; the in-process dump (no compiled worker beside the sources) prints on this thread.
  for (const format of ['resp', 'jsonl'] as const) {
    it(`the CLI (--format ${format}, worker threads, big keys streamed) prints the in-process bytes`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rdb-dump-bigkey-'));
      try {
        const file = join(dir, 'big.rdb');
        writeFileSync(file, rdb);
        const bin = fileURLToPath(new URL('../../bin/tsredis-ops.js', import.meta.url));
        const r = spawnSync(process.execPath, [bin, 'rdb-dump', file, '--format', format], { maxBuffer: 512 << 20 });
        expect(r.status, r.stderr.toString('utf8')).toBe(0);
        expect(r.stdout.equals((await dump(format)).out)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);

    // Guard: a big key's text reaches the writer in chunks of about 4 pieces (plus the command of
    // up to 64 items, or the stream node, that crosses the line), never whole (the list's alone is megabytes).
    it(`--format ${format}: a big key's output reaches the writer in bounded chunks, the same bytes`, async () => {
      const pieceBytes = 64 << 10;
      const parts: Buffer[] = [];
      await dumpRdb(ByteSource.fromBuffer(rdb, 'big.rdb'), { format, encoding: 'utf8', pieceBytes }, (c) => void parts.push(Buffer.from(c)));
      const out = Buffer.concat(parts);
      expect(out.length).toBeGreaterThan(40 * 4 * pieceBytes);
      expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(5 * pieceBytes);
      expect(out.equals((await dump(format)).out)).toBe(true);
    }, 60_000);
  }

  it('--format resp does not build the values: heap growth far below what the decoded keys take', async () => {
    collectGarbage();
    // What the decoded model of these keys holds on the heap (a Buffer per element, and more).
    const before = process.memoryUsage().heapUsed;
    const records = await readAll(ByteSource.fromBuffer(rdb, 'big.rdb'));
    const model = process.memoryUsage().heapUsed - before;
    expect(records.length).toBeGreaterThan(5);
    records.length = 0;
    const bound = 48 << 20;
    expect(model).toBeGreaterThan(2 * bound);
    collectGarbage();
    const start = process.memoryUsage().heapUsed;
    const { heapPeak } = await dump('resp');
    expect(heapPeak - start).toBeLessThan(bound);
  }, 60_000);
});
