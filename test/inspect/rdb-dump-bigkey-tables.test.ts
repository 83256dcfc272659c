import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpRdb } from '../../src/inspect/rdb-dump.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { collectGarbage, savedRdb } from './big-key-rdb.js';

/**
 * rdb-dump of a hash of 1M fields written by a real server (hashtable encoding: checked in steps
 * with a duplicate-field table). The key is a piece of its own, checked first, then printed in
 * chunks: the output is exact (resp: the writer's DEBUG DIGEST; jsonl: every field), and the
 * printing holds no second duplicate table (guard: the memory outside the heap, measured with
 * the garbage collected at every chunk, stays far below what that table takes).
 */

const FIELDS = 1_000_000;

afterAll(stopAllRedis);

let rdb: Buffer;
let digest: string;
beforeAll(async () => {
  ({ rdb, digest } = await savedRdb(async (c) => {
    await c.call('EVAL', `for i=0,${FIELDS / 1000 - 1} do local t={} for j=1,1000 do local n=i*1000+j t[2*j-1]='f'..n t[2*j]='v'..n end redis.call('HSET',KEYS[1],unpack(t)) end`, 1, 'h');
  }));
}, 120_000);

/** The dump, and the highest memory outside the heap (ArrayBuffers) above `base` seen at its chunks, garbage collected first. */
async function dump(format: 'jsonl' | 'resp'): Promise<{ out: Buffer; peak: number }> {
  const parts: Buffer[] = [];
  collectGarbage();
  const base = process.memoryUsage().arrayBuffers;
  const samples: Array<[number, number]> = [];
  let kept = 0;
  await dumpRdb(ByteSource.fromBuffer(rdb, 'hash.rdb'), { format, encoding: 'utf8' }, (chunk) => {
    collectGarbage();
    samples.push([process.memoryUsage().arrayBuffers - base, kept]);
    parts.push(Buffer.from(chunk));
    kept += chunk.length;
  });
  const out = Buffer.concat(parts);
  // Not the dump's: the output the test kept so far, and (printed on this thread, see PiecePool)
  // the chunks copied for the writer that it has not taken yet.
  const peak = Math.max(...samples.map(([used, before]) => used - before - (out.length - before)));
  return { out, peak };
}

describe('rdb-dump of a 1M-field hash', () => {
  // The piece's input (~15 MB), the output room and the in-process copies come to ~45 MB; a
  // duplicate table of 1M fields (their bytes, 12 bytes of index each, 2M slots of 12 bytes)
  // built while printing adds ~45 MB more (measured: 86-92 MB when the printing pass built one).
  const BOUND = 64 << 20;

  it('--format resp: redis-cli --pipe gives the same DEBUG DIGEST; no duplicate table while printing', async () => {
    const { out, peak } = await dump('resp');
    const target = await startRedis();
    const piped = spawnSync('redis-cli', ['-p', String(target.port), '--pipe'], { input: out, encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('errors: 0');
    expect(await debugDigest(target)).toBe(digest);
    await target.stop();
    // The piece's input (~17 MB) and the output room; not a table too.
    expect(peak).toBeGreaterThan(rdb.length / 2);
    expect(peak).toBeLessThan(BOUND);
  }, 120_000);

  it('--format jsonl: every field; no duplicate table while printing', async () => {
    const { out, peak } = await dump('jsonl');
    const line = JSON.parse(out.toString('utf8')) as { key: string; value: { fields: Record<string, string> } };
    expect(line.key).toBe('h');
    const fields = line.value.fields;
    let n = 0;
    let wrong = 0;
    for (const f in fields) {
      if (fields[f] !== `v${f.slice(1)}`) wrong++;
      n++;
    }
    expect(wrong).toBe(0);
    expect(n).toBe(FIELDS);
    expect(fields[`f${FIELDS}`]).toBe(`v${FIELDS}`);
    expect(peak).toBeLessThan(BOUND);
  }, 120_000);

  // The splitter reads a big value window by window (returnInSteps): cut short, it is an error
  // naming the record, never an endless wait for more bytes; nothing of the key is printed.
  it('a file cut inside the hash fails with the truncation error, from a file and from memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdb-dump-cut-'));
    try {
      const cut = rdb.subarray(0, Math.floor(rdb.length / 2));
      const file = join(dir, 'cut.rdb');
      writeFileSync(file, cut);
      const sources = [(): ByteSource => ByteSource.fromFile(file), (): ByteSource => ByteSource.fromBuffer(cut, file)];
      for (const source of sources) {
        for (const format of ['jsonl', 'resp'] as const) {
          const parts: Buffer[] = [];
          await expect(dumpRdb(source(), { format, encoding: 'utf8' }, (c) => void parts.push(Buffer.from(c)))).rejects.toThrow(
            /expected the rest of the record starting at byte \d+, found end of file/,
          );
          expect(Buffer.concat(parts).toString('latin1')).not.toContain('f1');
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
