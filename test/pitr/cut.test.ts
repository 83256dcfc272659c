import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { Keyspace } from '../../src/engine/keyspace.js';
import { replay } from '../../src/engine/replay.js';
import type { PitrManifest } from '../../src/pitr/manifest.js';
import { segmentFacts, segmentPrelude } from '../../src/pitr/pack.js';
import { cutBytes, cutItems, newCut } from '../../src/pitr/restore-pitr.js';
import { readAofBatches } from '../../src/codec/aof/reader.js';

const dir = mkdtempSync(join(tmpdir(), 'tsredis-pitr-cut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cmd = (...a: string[]) => encodeCommand(a);
const ts = (s: number) => Buffer.from(`#TS:${s}\r\n`);

/** A segment as the replica writes it: a transaction is written whole at EXEC, even when the clock ticks inside it. */
function segment(name: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    Buffer.concat([
      segmentPrelude(100, 0),
      cmd('SET', 'a', '1'),
      cmd('MULTI'),
      cmd('SET', 'b', '1'),
      ts(101),
      cmd('SET', 'c', '1'),
      cmd('EXEC'),
      cmd('SET', 'd', '1'),
      cmd('MULTI'),
      cmd('FLUSHALL'),
      cmd('EXEC'),
      ts(102),
      cmd('SET', 'e', '1'),
    ]),
  );
  return p;
}

/**
 * The keys left by replaying the cut items with the engine, after checking that the bytes the cut
 * takes (what --layout aof writes and --to sends) replay to the same keys.
 */
async function keysAfter(cut: Parameters<typeof cutItems>[1], m: Partial<PitrManifest>): Promise<string[]> {
  const segs = [{ path: segment(`${Math.random()}.aof`), m: m as PitrManifest }, { path: segment(`${Math.random()}.aof`), m: { object: 'next' } as PitrManifest }];
  const ks = new Keyspace();
  const out = newCut();
  await replay(ks, cutItems(segs, cut, out));
  const keys = [...ks.dbs[0]!.keys()].map(String).sort();
  const chunks: Buffer[] = [];
  for await (const c of cutBytes(out)) chunks.push(c);
  const incr = join(dir, `${Math.random()}.incr.aof`);
  writeFileSync(incr, Buffer.concat(chunks));
  const ks2 = new Keyspace();
  await replay(ks2, readAofBatches(incr));
  expect([...ks2.dbs[0]!.keys()].map(String).sort()).toEqual(keys);
  return keys;
}

describe('the cut rule', () => {
  it('a time cut takes a MULTI/EXEC whole by the second of its MULTI, and stops at the first later write', async () => {
    expect(await keysAfter({ kind: 'time', s: 99 }, { object: 'x' })).toEqual([]);
    // MULTI stamped 100: the whole transaction comes, c included although stamped 101 inside it.
    expect(await keysAfter({ kind: 'time', s: 100 }, { object: 'x' })).toEqual(['a', 'b', 'c']);
    // 101: d too, then the transaction holding FLUSHALL is applied whole.
    expect(await keysAfter({ kind: 'time', s: 101 }, { object: 'x' })).toEqual([]);
    // 102: the whole first segment, then the second (its own SELECT and #TS prelude) whole too.
    expect(await keysAfter({ kind: 'time', s: 102 }, { object: 'x' })).toEqual(['e']);
    expect(await keysAfter({ kind: 'none' }, { object: 'x' })).toEqual(['e']);
  });

  it('segment facts put the flush at its MULTI, and a position cut there keeps everything before it', async () => {
    const f = await segmentFacts(segment('facts.aof'));
    expect(f).toEqual({ commands: 10, firstTs: 100, lastTs: 102, flushes: [{ index: 6, ts: 101, command: 'FLUSHALL' }] });
    expect(await keysAfter({ kind: 'position', object: 'seg', index: 6, ts: 101, command: 'FLUSHALL' }, { object: 'seg' })).toEqual(['a', 'b', 'c', 'd']);
  });
});
