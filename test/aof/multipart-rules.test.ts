import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAof, type CheckMode } from '../../src/aof/check.js';
import { applyCut } from '../../src/aof/cut.js';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { dirHashes, redisCheckAof } from './helpers.js';

// Multi-part layouts the corpus does not cover, built here and judged by the real redis-check-aof:
// same report lines, same exit code, same files afterwards.
const work = mkdtempSync(join(tmpdir(), 'aof-rules-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cmd = (...a: string[]) => encodeCommand(a);
const sel = cmd('SELECT', '0');
const resp = (n: number, tag: string) => Buffer.concat([sel, ...Array.from({ length: n }, (_, i) => cmd('SET', `${tag}:${i}`, `v${i}`))]);
const ts = (t: number) => Buffer.from(`#TS:${t}\r\n`);

interface Layout {
  manifest: string;
  files: Record<string, Buffer>;
}

function build(l: Layout): { a: string; b: string } {
  const a = mkdtempSync(join(work, 'c-'));
  const b = mkdtempSync(join(work, 'ts-'));
  for (const d of [a, b]) {
    mkdirSync(join(d, 'appendonlydir'));
    writeFileSync(join(d, 'appendonlydir', 'appendonly.aof.manifest'), l.manifest);
    for (const [n, data] of Object.entries(l.files)) writeFileSync(join(d, 'appendonlydir', n), data);
  }
  return { a, b };
}

async function compare(l: Layout, mode: CheckMode, T?: number): Promise<void> {
  const { a, b } = build(l);
  const args = mode === 'fix' ? ['--fix'] : mode === 'timestamp' ? ['--truncate-to-timestamp', String(T)] : [];
  const theirs = redisCheckAof([...args, 'appendonlydir/appendonly.aof.manifest'], a);
  const home = process.cwd();
  process.chdir(b);
  try {
    const ours = await checkAof('appendonlydir/appendonly.aof.manifest', { mode, toTimestamp: T });
    expect(ours.transcript).toEqual(theirs.stdout.split('\n').filter((x) => x && !/^\[(offset \d+|info)\]/.test(x)));
    expect(ours.refusal ? 1 : 0).toBe(theirs.code);
    if (ours.plan && !ours.refusal) await applyCut(ours.plan, { backupDir: join(b, 'bak') });
  } finally {
    process.chdir(home);
  }
  expect(dirHashes(join(b, 'appendonlydir'))).toEqual(dirHashes(join(a, 'appendonlydir')));
}

const manifest = (...lines: string[]) => lines.map((x) => `${x}\n`).join('');

describe('multi-part rules, against redis-check-aof', () => {
  const twoFiles = (base: Buffer, incr: Buffer): Layout => ({
    manifest: manifest('file appendonly.aof.1.base.aof seq 1 type b', 'file appendonly.aof.1.incr.aof seq 1 type i'),
    files: { 'appendonly.aof.1.base.aof': base, 'appendonly.aof.1.incr.aof': incr },
  });

  it('damage in the base (not the last file): reported, and --fix refuses', async () => {
    const l = twoFiles(resp(5, 'b').subarray(0, 60), resp(3, 'i'));
    await compare(l, 'check');
    await compare(l, 'fix');
  });

  it('damage in the last of three incr files is cut; history entries and their missing files are ignored', async () => {
    const l: Layout = {
      manifest: manifest(
        'file appendonly.aof.3.base.aof seq 3 type b',
        'file appendonly.aof.2.base.rdb seq 2 type h',
        'file appendonly.aof.3.incr.aof seq 3 type i',
        'file appendonly.aof.4.incr.aof seq 4 type i',
        'file appendonly.aof.5.incr.aof seq 5 type i',
      ),
      files: {
        'appendonly.aof.3.base.aof': Buffer.concat([ts(100), resp(4, 'b')]),
        'appendonly.aof.3.incr.aof': resp(2, 'x'),
        'appendonly.aof.4.incr.aof': Buffer.alloc(0),
        'appendonly.aof.5.incr.aof': Buffer.concat([resp(3, 'y'), cmd('MULTI'), cmd('INCR', 'n')]),
      },
    };
    await compare(l, 'check');
    await compare(l, 'fix');
  });

  it('an empty last incr and a valid base are valid', async () => {
    await compare(twoFiles(resp(3, 'b'), Buffer.alloc(0)), 'check');
  });

  it('--truncate-to-timestamp: a newer annotation in a non-last file is refused; in the last file it cuts', async () => {
    const l = twoFiles(Buffer.concat([ts(100), resp(2, 'b'), ts(200), resp(2, 'c')]), Buffer.concat([ts(300), resp(2, 'i'), ts(400), resp(1, 'j')]));
    await compare(l, 'timestamp', 150);
    await compare(l, 'timestamp', 350);
    await compare(l, 'timestamp', 500);
    await compare(twoFiles(resp(1, 'b'), Buffer.concat([ts(300), resp(1, 'i')])), 'timestamp', 250);
  });

  it('a nested MULTI and an EXEC without MULTI in the last incr', async () => {
    await compare(twoFiles(resp(2, 'b'), Buffer.concat([resp(1, 'i'), cmd('MULTI'), cmd('SET', 'a', '1'), cmd('multi'), cmd('EXEC')])), 'fix');
    await compare(twoFiles(resp(2, 'b'), Buffer.concat([resp(1, 'i'), cmd('exec'), resp(2, 'z')])), 'fix');
  });

  it('a manifest Redis rejects is rejected, and nothing is touched', async () => {
    for (const text of [
      'file a seq 1 type b\nfile b seq 1 type b\n',
      'file a seq 2 type i\nfile b seq 1 type i\n',
      'file a seq 1 type b',
      'file dir/a seq 1 type b\n',
      'file "unterminated seq 1 type b\n',
    ]) {
      const { a, b } = build({ manifest: text, files: { a: resp(1, 'a'), b: resp(1, 'b') } });
      expect(redisCheckAof(['--fix', 'appendonlydir/appendonly.aof.manifest'], a).code, text).toBe(1);
      const before = dirHashes(join(b, 'appendonlydir'));
      await expect(checkAof(join(b, 'appendonlydir'), { mode: 'fix' }), text).rejects.toThrow(/invalid AOF manifest/);
      expect(dirHashes(join(b, 'appendonlydir'))).toEqual(before);
      expect(readFileSync(join(b, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8')).toBe(text);
    }
  });
});
