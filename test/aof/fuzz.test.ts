import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAof } from '../../src/aof/check.js';
import { applyCut } from '../../src/aof/cut.js';
import { readAof } from '../../src/codec/aof/reader.js';
import { ToolError } from '../../src/util/errors.js';
import { rng } from '../engine/workload.js';
import { analyzedLines, redisCheckAof, sha256 } from './helpers.js';
import { CORPUS } from '../helpers/corpus.js';

// A bounded, seeded fuzz: damaged AOFs never crash us, and wherever redis-check-aof itself gives a
// verdict (it aborts on some absurd lengths) ours is the same, with the same cut.
const corpus = join(CORPUS, 'aof/');
const sources = [
  'redis-7.0.15-debian_aof_preamble-no/appendonlydir/appendonly.aof.2.incr.aof',
  'redis-6.2.16_aof_preamble-no/appendonly.aof',
  'redis-6.2.16_aof_preamble-yes/appendonly.aof',
];
const work = mkdtempSync(join(tmpdir(), 'aof-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ALPHABET = Buffer.from('*$#\r\n0123456789-+ MULTIEXECmultiexec\0\xff', 'latin1');

function mutate(data: Buffer, rnd: () => number, from: number): Buffer {
  const at = from + Math.floor(rnd() * (data.length - from));
  const some = (n: number) => Buffer.from(Array.from({ length: n }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]!));
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return data.subarray(0, at);
    case 1: {
      const b = Buffer.from(data);
      b[at] = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
      return b;
    }
    case 2:
      return Buffer.concat([data.subarray(0, at), some(1 + Math.floor(rnd() * 6)), data.subarray(at)]);
    case 3:
      return Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + Math.floor(rnd() * 20)))]);
    case 4: {
      const len = 1 + Math.floor(rnd() * 80);
      return Buffer.concat([data.subarray(0, at), data.subarray(at, at + len), data.subarray(at)]);
    }
    default:
      return Buffer.concat([data, some(1 + Math.floor(rnd() * 30))]);
  }
}

describe('fuzzed AOFs', () => {
  it('always end in a clean verdict that matches redis-check-aof (seeded, 150 mutations)', async () => {
    const rnd = rng(20261121);
    let compared = 0;
    const home = process.cwd();
    const mine = join(work, 'ours');
    const other = join(work, 'theirs');
    mkdirSync(mine);
    mkdirSync(other);
    process.chdir(mine);
    try {
      for (let i = 0; i < 150; i++) {
        const name = sources[i % sources.length]!;
        const original = readFileSync(join(corpus, name));
        // Keep RDB preambles intact: redis-check-rdb words its failures its own way.
        const from = original.subarray(0, 5).toString('latin1') === 'REDIS' ? 1300 : 0;
        const data = mutate(original, rnd, Math.min(from, original.length - 1));
        writeFileSync('f.aof', data);
        writeFileSync(join(other, 'f.aof'), data);
        const label = `mutation ${i} of ${name}`;

        let check;
        try {
          check = await checkAof('f.aof');
        } catch (e) {
          expect.fail(`${label}: ${e instanceof ToolError ? 'tool error' : 'CRASH'}: ${(e as Error).message}`);
        }
        // The reader must also stop cleanly, with a one-line FormatError at worst.
        try {
          for await (const _ of readAof('f.aof')) void _;
        } catch (e) {
          expect(e, label).toBeInstanceOf(ToolError);
        }
        const theirs = redisCheckAof(['f.aof'], other);
        if (theirs.code !== 0 && theirs.code !== 1) continue; // the C tool crashed (e.g. OOM on a huge length)
        compared++;
        expect(check.refusal ? 1 : 0, label).toBe(theirs.code);
        expect(analyzedLines(check.transcript), label).toEqual(analyzedLines(theirs.stdout));

        const fix = await checkAof('f.aof', { mode: 'fix' });
        const theirsFix = redisCheckAof(['--fix', 'f.aof'], other);
        expect(fix.refusal ? 1 : 0, label).toBe(theirsFix.code);
        if (fix.plan) await applyCut(fix.plan, { backupDir: join(work, 'bak') });
        expect(sha256('f.aof'), label).toBe(sha256(join(other, 'f.aof')));
        rmSync(join(work, 'bak'), { recursive: true, force: true });
      }
    } finally {
      process.chdir(home);
    }
    expect(compared).toBeGreaterThan(120);
  }, 180_000);

  it('a manifest naming damaged, empty and missing files gives a clean refusal', async () => {
    const dir = mkdtempSync(join(work, 'multi-'));
    copyFileSync(join(corpus, sources[0]!), join(dir, 'appendonly.aof.1.incr.aof'));
    writeFileSync(join(dir, 'appendonly.aof.2.incr.aof'), '');
    writeFileSync(join(dir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile gone.aof seq 3 type i\n');
    const r = await checkAof(dir, { mode: 'fix' });
    expect(r.refusal).toMatch(/^Cannot open file .*gone\.aof: No such file or directory, aborting\.\.\.$/);
    expect(r.files.map((f) => f.status)).toEqual(['valid', 'empty', 'missing']);
    writeFileSync(join(dir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\nfile x seq 1 type i\n');
    await expect(checkAof(dir)).rejects.toThrow(/Found a non-monotonic sequence number/);
  });
});
