import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from '../helpers/corpus.js';
import { DEMO_RDB, ROOT, cli } from '../backup/cli-helper.js';

/**
 * ora progress as an operator sees it: commands run under a real pseudo-terminal (`script` from
 * util-linux/bsdutils). On a terminal every long command shows a spinner on stderr; piped, or
 * with --json, nothing extra; a terminal that reports 0 columns costs nothing (it once made ora
 * write escapes without end).
 */

if (spawnSync('script', ['--version']).status !== 0) throw new Error('`script` is missing: install the bsdutils (util-linux) package');

// Progress is off under CI=true (logs); these tests are about the terminal, so they unset it.
const env: NodeJS.ProcessEnv = { ...process.env, TSREDIS_PASSPHRASE: '' };
delete env.CI;
const TOOL = join(ROOT, 'bin/tsredis-ops.js');
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface PtyRun {
  code: number | null;
  /** What the command wrote on the terminal (stdout goes to /dev/null, so this is stderr). */
  tty: string;
  bytes: number;
  ms: number;
}

/**
 * Runs the tool under `script` with the terminal's size set by stty (cols 0 = what `script`
 * gives without a controlling terminal); stdout is discarded so the captured bytes are stderr.
 * Killed after `timeoutMs`, so a runaway spinner fails instead of hanging.
 */
function underPty(args: string[], cols: number | null, timeoutMs = 60_000): Promise<PtyRun> {
  const stty = cols === null ? '' : `stty cols ${cols} rows 40; `;
  // `script` gives the command its own session, so the time limit is enforced inside it too.
  const cmd = `${stty}exec timeout -s KILL ${Math.ceil(timeoutMs / 1000)} ${sh(process.execPath)} ${sh(TOOL)} ${args.map(sh).join(' ')} >/dev/null`;
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes < 1 << 20) chunks.push(d);
    });
    child.stderr.resume();
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs + 5000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, tty: Buffer.concat(chunks).toString('utf8'), bytes, ms: Date.now() - t0 });
    });
  });
}

/** ora wraps each frame in synchronized-output escapes: one per rendered frame. */
const frames = (s: string) => s.split('\x1b[?2026h').length - 1;

let work: string;
let aofDir: string;
let backups: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-progress-'));
  aofDir = join(work, 'appendonlydir');
  cpSync(join(CORPUS, 'aof/redis-7.0.15-debian_aof_preamble-no/appendonlydir'), aofDir, { recursive: true });
  backups = join(work, 'backups');
  const b = await cli(['backup', '--from', DEMO_RDB, '--to', backups, '--name', 'demo', '--no-encrypt']);
  expect(b.code, b.stderr).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('progress on a terminal, and only there', { timeout: 180_000 }, () => {
  const commands = (): Array<{ args: string[]; text: string }> => [
    { args: ['rdb-check', DEMO_RDB], text: 'checking' },
    { args: ['rdb-dump', DEMO_RDB], text: 'reading' },
    { args: ['rdb-memory', DEMO_RDB], text: 'reading' },
    { args: ['aof-check', aofDir], text: 'checking' },
    { args: ['aof-rewrite', aofDir, '-o', join(work, `rewritten-${Math.random().toString(36).slice(2)}`)], text: 'rewriting' },
    { args: ['verify', '--target', backups, '--deep'], text: 'verify' },
    { args: ['restore', '--from', backups, '--latest', '--to-dir', join(work, `restored-${Math.random().toString(36).slice(2)}`)], text: 'reading' },
  ];

  it('each long command shows an ora spinner on a terminal stderr', async () => {
    for (const { args, text } of commands()) {
      const r = await underPty(args, 100);
      expect(r.code, `${args[0]}: ${r.tty}`).toBe(0);
      expect(frames(r.tty), `${args[0]} drew no spinner frame: ${JSON.stringify(r.tty)}`).toBeGreaterThan(0);
      expect(r.tty, args[0]).toContain(text);
    }
  });

  it('piped: no spinner; the commands whose result is stdout add nothing at all to stderr', async () => {
    for (const { args } of commands()) {
      const r = await cli(args, { env: { CI: undefined } });
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args[0]).not.toContain('\x1b[');
      if (['rdb-check', 'rdb-dump', 'rdb-memory', 'aof-check'].includes(args[0]!)) expect(r.stderr, args[0]).toBe('');
    }
  });

  it('--json on a terminal: no spinner', async () => {
    for (const args of [['rdb-check', DEMO_RDB, '--json'], ['rdb-memory', DEMO_RDB, '--json'], ['aof-check', aofDir, '--json'], ['verify', '--target', backups, '--json']]) {
      const r = await underPty(args, 100);
      expect(r.code, `${args[0]}: ${r.tty}`).toBe(0);
      expect(frames(r.tty), args[0]).toBe(0);
    }
  });

  it('a terminal of 0 columns (script without a controlling tty) costs nothing: the backup finishes, a few hundred bytes of output', async () => {
    const r = await underPty(['backup', '--from', DEMO_RDB, '--to', join(work, 'b0'), '--no-encrypt'], null, 30_000);
    expect(r.code, r.tty.slice(0, 400)).toBe(0);
    expect(r.bytes).toBeLessThan(4096);
    expect(r.tty).toContain('verified on 1 target(s)');
  });

  it('frames are bounded by time (at most one per 100 ms), not by how often the work reports', async () => {
    // rdb-check reports progress per batch of records: thousands of updates on a big file.
    const big = join(CORPUS, 'rdb/redis-7.4.1/redis-7.4.1_s1_low.rdb');
    const r = await underPty(['rdb-check', big], 100);
    expect(r.code, r.tty.slice(0, 400)).toBe(0);
    expect(frames(r.tty)).toBeGreaterThan(0);
    expect(frames(r.tty)).toBeLessThanOrEqual(Math.ceil(r.ms / 100) + 3);
    expect(r.bytes).toBeLessThan(statSync(big).size / 10 + 4096);
  });
});
