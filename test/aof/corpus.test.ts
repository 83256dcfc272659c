import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAof, type CheckMode } from '../../src/aof/check.js';
import { applyCut } from '../../src/aof/cut.js';
import { readAof } from '../../src/codec/aof/reader.js';
import { CORPUS } from '../helpers/corpus.js';

// Every corrupted-AOF case of the corpus: same verdict, same report lines and, after the repair,
// byte-identical files as Debian's redis-check-aof 7.0.15 (expected.json).
const corpus = CORPUS;
const casesDir = join(corpus, 'aof-corrupt');
const cases = readdirSync(casesDir).filter((c) => existsSync(join(casesDir, c, 'expected.json')));
// redis-check-rdb's own lines inside redis-check-aof's output: we report the RDB part our way.
const rdbLine = /^\[(offset \d+|info|additional info)\]|^--- RDB ERROR/;
const work = mkdtempSync(join(tmpdir(), 'aof-corpus-'));
const home = process.cwd();

interface Run {
  argv: string[];
  stdout: string;
  exit_code: number;
  after?: Record<string, unknown> & { size?: number; sha256?: string };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function run(mode: CheckMode, argv: string[]) {
  const T = mode === 'timestamp' ? Number(argv[argv.indexOf('--truncate-to-timestamp') + 1]) : undefined;
  const report = await checkAof(argv[argv.length - 1]!, { mode, toTimestamp: T });
  return report;
}

function expectedLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '' && !rdbLine.test(l));
}

afterAll(() => {
  process.chdir(home);
  rmSync(work, { recursive: true, force: true });
});

describe('aof-corrupt corpus, against redis-check-aof 7.0.15', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(10));

  for (const name of cases) {
    it(name, async () => {
      const exp = JSON.parse(readFileSync(join(casesDir, name, 'expected.json'), 'utf8')) as {
        check: Run;
        fix: Run;
        check_after_fix: Run;
      };
      // Work on a copy: the tools ran with the case folder as working directory.
      const dir = join(work, name);
      cpSync(join(casesDir, name), dir, { recursive: true });
      for (const f of ['fixed.aof', 'expected.json']) rmSync(join(dir, f), { force: true });
      process.chdir(dir);
      // The corpus files are read-only; the copy must be writable to be cut.
      const copies = existsSync(join(dir, 'appendonlydir')) ? readdirSync(join(dir, 'appendonlydir')).map((n) => join(dir, 'appendonlydir', n)) : [];
      for (const p of [dir, join(dir, 'input.aof'), join(dir, 'appendonlydir'), ...copies]) {
        if (existsSync(p)) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
      }

      const check = await run('check', exp.check.argv);
      expect(check.transcript).toEqual(expectedLines(exp.check.stdout));
      expect(check.refusal ? 1 : 0).toBe(exp.check.exit_code);
      expect(check.valid).toBe(exp.check.exit_code === 0);

      const fixMode: CheckMode = exp.fix.argv.includes('--fix') ? 'fix' : 'timestamp';
      const fix = await run(fixMode, exp.fix.argv);
      expect(fix.transcript).toEqual(expectedLines(exp.fix.stdout));
      expect(fix.refusal ? 1 : 0).toBe(exp.fix.exit_code);
      if (fix.plan) {
        const res = await applyCut(fix.plan, { backupDir: join(work, `${name}-backup`) });
        expect(statSync(res.backup).size).toBe(fix.plan.fromSize);
      }
      const after = exp.fix.after!;
      if (typeof after.size === 'number') {
        expect(statSync('input.aof').size).toBe(after.size);
        expect(sha256('input.aof')).toBe(after.sha256);
      } else {
        for (const [file, want] of Object.entries(after) as Array<[string, { size: number; sha256: string }]>) {
          expect(statSync(join('appendonlydir', file)).size, file).toBe(want.size);
          expect(sha256(join('appendonlydir', file)), file).toBe(want.sha256);
        }
      }

      const again = await run('check', exp.check_after_fix.argv);
      expect(again.transcript).toEqual(expectedLines(exp.check_after_fix.stdout));
      expect(again.refusal ? 1 : 0).toBe(exp.check_after_fix.exit_code);
    });
  }
});

describe('valid AOFs of the corpus (every producer and form)', () => {
  const aofRoot = join(corpus, 'aof');
  const forms = readdirSync(aofRoot).filter((n) => statSync(join(aofRoot, n)).isDirectory());

  it('has AOFs', () => expect(forms.length).toBeGreaterThanOrEqual(4));

  for (const form of forms) {
    it(`${form}: valid, every file complete, fully readable`, async () => {
      const dir = join(aofRoot, form);
      const path = existsSync(join(dir, 'appendonlydir')) ? join(dir, 'appendonlydir') : join(dir, 'appendonly.aof');
      const r = await checkAof(path);
      expect(r.valid, r.refusal ?? '').toBe(true);
      expect(r.refusal).toBeNull();
      for (const f of r.files) expect(['valid', 'empty']).toContain(f.status);
      let commands = 0;
      for await (const it of readAof(path)) if (it.kind === 'command') commands++;
      expect(commands).toBeGreaterThan(0);
    });
  }
});
