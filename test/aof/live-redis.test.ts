import { copyFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAof } from '../../src/aof/check.js';
import { applyCut } from '../../src/aof/cut.js';
import { parseManifest } from '../../src/codec/aof/manifest.js';
import { readAof } from '../../src/codec/aof/reader.js';
import { shutdownRedis, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { analyzedLines, dirHashes, redisCheckAof, writeWorkload } from './helpers.js';

// AOFs written by the live Debian redis-server 7.0 must check valid, and on damaged copies our
// verdict and repair must agree with the real redis-check-aof.
const root = mkdtempSync(join(tmpdir(), 'aof-live-'));

afterAll(async () => {
  await stopAllRedis();
  rmSync(root, { recursive: true, force: true });
});

/** Runs the workload on a fresh server and returns its stopped data directory. */
async function makeAof(name: string, config: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  cpSync(mkdtempSync(join(root, 'seed-')), dir, { recursive: true });
  const server = await startRedis({ dir, config: { appendonly: 'yes', appendfsync: 'always', ...config } });
  const c = await server.client();
  await writeWorkload(c, { rewrite: true });
  c.close();
  await shutdownRedis(server);
  return dir;
}

const variants = [
  { name: 'preamble-yes-ts', config: { 'aof-use-rdb-preamble': 'yes', 'aof-timestamp-enabled': 'yes' } },
  { name: 'preamble-no-ts', config: { 'aof-use-rdb-preamble': 'no', 'aof-timestamp-enabled': 'yes' } },
  { name: 'preamble-no', config: { 'aof-use-rdb-preamble': 'no', 'aof-timestamp-enabled': 'no' } },
];
const dirs: Record<string, string> = {};

beforeAll(async () => {
  for (const v of variants) dirs[v.name] = await makeAof(v.name, v.config);
}, 120_000);

describe('AOFs written by the live redis-server', () => {
  for (const v of variants) {
    it(`${v.name}: valid for us and for redis-check-aof, and fully readable`, async () => {
      const aofDir = join(dirs[v.name]!, 'appendonlydir');
      const manifest = parseManifest(readFileSync(join(aofDir, 'appendonly.aof.manifest')), 'm');
      const base = manifest.entries.find((e) => e.type === 'b')!;
      expect(base.file.endsWith(v.config['aof-use-rdb-preamble'] === 'yes' ? '.rdb' : '.aof')).toBe(true);

      const ours = await checkAof(aofDir);
      expect(ours.valid).toBe(true);
      expect(ours.refusal).toBeNull();
      const theirs = redisCheckAof(['appendonlydir/appendonly.aof.manifest'], dirs[v.name]!);
      expect(theirs.code).toBe(0);
      expect(analyzedLines(ours.transcript)).toEqual(analyzedLines(theirs.stdout));

      let commands = 0;
      let annotations = 0;
      let sawDb3 = false;
      let lastTs: number | null = null;
      for await (const it of readAof(aofDir)) {
        if (it.kind === 'command') {
          commands++;
          if (it.db === 3) sawDb3 = true;
          lastTs = it.timestampS;
        }
        if (it.kind === 'annotation') annotations++;
      }
      expect(commands).toBeGreaterThanOrEqual(21); // at least the writes after the rewrite
      expect(sawDb3 || v.config['aof-use-rdb-preamble'] === 'yes').toBe(true);
      if (v.config['aof-timestamp-enabled'] === 'yes') {
        expect(annotations).toBeGreaterThan(0);
        expect(lastTs).not.toBeNull();
      } else expect(annotations).toBe(0);
    });
  }

  it('an RDB base followed by its incr, as one old-style RDB-preamble file, is valid for both tools', async () => {
    const aofDir = join(dirs['preamble-yes-ts']!, 'appendonlydir');
    const names = readdirSync(aofDir);
    const base = names.find((n) => n.endsWith('.base.rdb'))!;
    const incr = names.find((n) => n.endsWith('.incr.aof'))!;
    const work = mkdtempSync(join(root, 'oldstyle-'));
    writeFileSync(join(work, 'appendonly.aof'), Buffer.concat([readFileSync(join(aofDir, base)), readFileSync(join(aofDir, incr))]));
    const ours = await checkAof(join(work, 'appendonly.aof'));
    expect(ours.valid).toBe(true);
    expect(ours.files[0]!.rdb?.ok).toBe(true);
    const theirs = redisCheckAof(['appendonly.aof'], work);
    expect(theirs.code).toBe(0);
    expect(analyzedLines(ours.transcript).map((l) => l.replace(`${work}/`, ''))).toEqual(analyzedLines(theirs.stdout));
  });
});

describe('mutations of a live AOF: same verdict and same repair as redis-check-aof', () => {
  type Mutation = { name: string; apply: (file: string) => void };
  const insert = (at: number, bytes: Buffer) => (file: string) => {
    const b = readFileSync(file);
    writeFileSync(file, Buffer.concat([b.subarray(0, at), bytes, b.subarray(at)]));
  };
  const mutations = (incrSize: number, incr: Buffer): Mutation[] => {
    const crlfs: number[] = [];
    for (let i = incr.indexOf('\r\n'); i >= 0; i = incr.indexOf('\r\n', i + 2)) crlfs.push(i);
    const mid = crlfs[Math.floor(crlfs.length / 2)]!;
    return [
      { name: 'cut 1 byte', apply: (f) => truncateSync(f, incrSize - 1) },
      { name: 'cut mid-file', apply: (f) => truncateSync(f, Math.floor(incrSize * 0.6)) },
      { name: 'cut after a CRLF', apply: (f) => truncateSync(f, crlfs[crlfs.length - 3]! + 2) },
      { name: 'garbage in the middle', apply: insert(mid + 2, Buffer.from('garbage!')) },
      { name: 'CRLF removed', apply: (f) => writeFileSync(f, Buffer.concat([incr.subarray(0, mid), incr.subarray(mid + 2)])) },
      { name: 'unterminated MULTI appended', apply: insert(incrSize, Buffer.from('*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n')) },
      { name: 'EXEC without MULTI', apply: insert(incrSize, Buffer.from('*1\r\n$4\r\nEXEC\r\n')) },
      { name: 'negative bulk length', apply: insert(incrSize, Buffer.from('*2\r\n$-3\r\nab\r\n')) },
    ];
  };

  for (const variant of ['preamble-yes-ts', 'preamble-no']) {
    it(variant, async () => {
      const src = dirs[variant]!;
      const incrName = readdirSync(join(src, 'appendonlydir')).find((n) => n.endsWith('.incr.aof'))!;
      const incr = readFileSync(join(src, 'appendonlydir', incrName));
      for (const m of mutations(incr.length, incr)) {
        const a = mkdtempSync(join(root, 'mut-c-'));
        const b = mkdtempSync(join(root, 'mut-ts-'));
        cpSync(join(src, 'appendonlydir'), join(a, 'appendonlydir'), { recursive: true });
        m.apply(join(a, 'appendonlydir', incrName));
        cpSync(join(a, 'appendonlydir'), join(b, 'appendonlydir'), { recursive: true });

        const theirsCheck = redisCheckAof(['appendonlydir/appendonly.aof.manifest'], a);
        const theirsFix = redisCheckAof(['--fix', 'appendonlydir/appendonly.aof.manifest'], a);
        const home = process.cwd();
        process.chdir(b);
        try {
          const check = await checkAof('appendonlydir');
          expect(check.refusal ? 1 : 0, m.name).toBe(theirsCheck.code);
          expect(check.transcript, m.name).toEqual(
            theirsCheck.stdout.split('\n').filter((l) => l && !/^\[(offset \d+|info|additional info)\]|^--- RDB ERROR/.test(l)),
          );
          const fix = await checkAof('appendonlydir', { mode: 'fix' });
          expect(fix.refusal ? 1 : 0, m.name).toBe(theirsFix.code);
          if (fix.plan) await applyCut(fix.plan, { backupDir: join(b, 'bak') });
        } finally {
          process.chdir(home);
        }
        expect(dirHashes(join(b, 'appendonlydir')), m.name).toEqual(dirHashes(join(a, 'appendonlydir')));
        expect(statSync(join(b, 'appendonlydir', incrName)).size, m.name).toBe(statSync(join(a, 'appendonlydir', incrName)).size);
      }
    });
  }

  it('a copy of the valid base is never modified by a fix of the incr', async () => {
    const src = join(dirs['preamble-no']!, 'appendonlydir');
    const work = mkdtempSync(join(root, 'keep-'));
    for (const n of readdirSync(src)) copyFileSync(join(src, n), join(work, n));
    const incrName = readdirSync(work).find((n) => n.endsWith('.incr.aof'))!;
    const before = dirHashes(work);
    truncateSync(join(work, incrName), statSync(join(work, incrName)).size - 3);
    const fix = await checkAof(work, { mode: 'fix' });
    expect(fix.plan?.name).toBe(incrName);
    await applyCut(fix.plan!);
    const after = dirHashes(work);
    for (const [n, h] of Object.entries(before)) if (n !== incrName) expect(after[n]).toBe(h);
  });
});
