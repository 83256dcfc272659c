import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RdbKey } from '../../src/codec/rdb/model.js';
import { parseFrameAt } from '../../src/codec/resp/parser.js';
import { JsonOut } from '../../src/inspect/json-out.js';
import { writeKeyJson } from '../../src/inspect/key-json.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { keysOf, readAll } from '../codec/rdb-read/corpus-helpers.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { collectGarbage, dumpWithHeapPeak, savedRdb } from './big-key-rdb.js';

/**
 * rdb-dump of one big stream written by a real server (ENTRIES entries, a few deleted, a group
 * with pending entries over two consumers and an idle consumer): the RESP piped into an empty
 * server gives the writer's DEBUG DIGEST, the jsonl is the model's bytes, and neither format
 * decodes the stream whole (heap guard: the entries reach the sink node by node).
 */

const ENTRIES = 300_000;

afterAll(stopAllRedis);

let rdb: Buffer;
let digest: string;
beforeAll(async () => {
  ({ rdb, digest } = await savedRdb(async (c) => {
    await c.call('EVAL', `for i=1,${ENTRIES} do redis.call('XADD',KEYS[1],'*','f',tostring(i)) end`, 1, 's');
    await c.call('XGROUP', 'CREATE', 's', 'g', '0');
    await c.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 40, 'STREAMS', 's', '>');
    await c.call('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', 25, 'STREAMS', 's', '>');
    await c.call('XGROUP', 'CREATECONSUMER', 's', 'g', 'idle');
    // Deleted entries stay in their nodes (flagged) and set max_deleted_entry_id.
    const ids = (await c.call('XRANGE', 's', '-', '+', 'COUNT', 1000)) as Array<[Buffer | string, unknown]>;
    await c.call('XDEL', 's', String(ids[500]![0]), String(ids[999]![0]));
  }));
}, 120_000);

const dump = (format: 'jsonl' | 'resp'): Promise<{ out: Buffer; heapPeak: number }> => dumpWithHeapPeak(rdb, format);

describe('rdb-dump of a big stream', () => {
  it('--format resp | redis-cli --pipe gives the same DEBUG DIGEST: an XADD per entry, then the group state', async () => {
    const { out } = await dump('resp');
    const names = new Map<string, number>();
    let commands = 0;
    for (let pos = 0; pos < out.length; commands++) {
      const [argv, next] = parseFrameAt(out, pos);
      const name = (argv as Buffer[])[0]!.toString();
      names.set(name, (names.get(name) ?? 0) + 1);
      pos = next;
    }
    expect(names.get('XADD')).toBe(ENTRIES - 2);
    expect(names.get('XCLAIM')).toBe(65);
    expect(names.get('XGROUP')).toBe(2); // CREATE, CREATECONSUMER idle
    expect(names.get('XSETID')).toBe(1);
    const target = await startRedis();
    const piped = spawnSync('redis-cli', ['-p', String(target.port), '--pipe'], { input: out, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(`errors: 0, replies: ${commands}`);
    expect(await debugDigest(target)).toBe(digest);
    await target.stop();
  }, 120_000);

  it('--format jsonl is the model presentation byte for byte', async () => {
    const { out } = await dump('jsonl');
    const keys = keysOf(await readAll(ByteSource.fromBuffer(rdb, 'stream.rdb')));
    expect(keys.length).toBe(1);
    const w = new JsonOut(1 << 24);
    writeKeyJson(w, keys[0] as RdbKey, 'utf8');
    expect(out.equals(w.written())).toBe(true);
    const v = (JSON.parse(out.toString('utf8')) as { value: { entries: Array<[string, string[]]>; length: number; groups: Array<{ pel: unknown[]; consumers: unknown[] }> } }).value;
    expect(v.entries.length).toBe(ENTRIES - 2);
    expect(v.length).toBe(ENTRIES - 2);
    expect(v.entries[ENTRIES - 3]![1]).toEqual(['f', String(ENTRIES)]);
    expect(v.groups[0]!.pel.length).toBe(65);
    expect(v.groups[0]!.consumers.length).toBe(3);
  }, 120_000);

  for (const format of ['resp', 'jsonl'] as const) {
    it(`--format ${format} does not decode the stream: heap growth far below what the decoded value takes`, async () => {
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const records = await readAll(ByteSource.fromBuffer(rdb, 'stream.rdb'));
      const model = process.memoryUsage().heapUsed - before;
      expect(keysOf(records).length).toBe(1);
      records.length = 0;
      const bound = 24 << 20;
      expect(model).toBeGreaterThan(2 * bound);
      collectGarbage();
      const start = process.memoryUsage().heapUsed;
      const { heapPeak } = await dump(format);
      expect(heapPeak - start).toBeLessThan(bound);
    }, 120_000);
  }
});
