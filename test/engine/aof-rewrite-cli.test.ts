import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/codec/resp/encoder.js';
import { shutdownRedis, startRedis, stopAllRedis } from '../helpers/redis-server.js';

/** The aof-rewrite command as an operator runs it (built CLI, real redis-server to load results). */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tsredis-aof-rewrite-'));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), 'aof-rewrite', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function digestOf(dir: string, config: Record<string, string> = { appendonly: 'yes' }): Promise<{ digest: string; dbsize: number }> {
  const s = await startRedis({ dir, config });
  const c = await s.client();
  try {
    return { digest: await c.text('DEBUG', 'DIGEST'), dbsize: Number(await c.call('DBSIZE')) };
  } finally {
    c.close();
    await s.stop();
  }
}

let liveDir: string;
let liveDigest: string;

beforeAll(async () => {
  // A real Redis 7 multi-part AOF: writes, a rewrite (RDB base), more writes, then a clean stop.
  liveDir = mkdtempSync(join(work, 'live-'));
  const s = await startRedis({ dir: liveDir, config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes' } });
  const c = await s.client();
  for (let i = 0; i < 200; i++) await c.call('SET', `k${i}`, `v${i}`);
  await c.call('RPUSH', 'list', 'a', 'b', 'c');
  await c.call('BGREWRITEAOF');
  while ((await c.info('persistence')).aof_rewrite_in_progress !== '0') await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  await c.call('HSET', 'h', 'f', 'v');
  await c.call('SET', 'ttl', 'x', 'PXAT', 4102444800000);
  await c.call('ZADD', 'z', 1, 'a');
  liveDigest = await c.text('DEBUG', 'DIGEST');
  c.close();
  await shutdownRedis(s);
}, 60_000);

afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('tsredis-ops aof-rewrite', () => {
  it('rewrites a live multi-part AOF into a new directory that loads with the same digest (--json summary)', async () => {
    const out = join(work, 'out1', 'appendonlydir');
    const r = cli(join(liveDir, 'appendonlydir'), '-o', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { keys: number; input: { commands: number }; output: { rdbVersion: number } };
    expect(s.keys).toBe(204);
    expect(s.output.rdbVersion).toBe(10);
    expect(readdirSync(out).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
    expect(readFileSync(join(out, 'appendonly.aof.manifest'), 'utf8')).toBe('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
    expect((await digestOf(join(work, 'out1'))).digest).toBe(liveDigest);
  });

  it('refuses an existing output and an output equal to the input', () => {
    const out = join(work, 'exists.aof');
    writeFileSync(out, 'x');
    const r = cli(join(liveDir, 'appendonlydir'), '-o', out, '--format', 'resp');
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli(join(liveDir, 'appendonlydir'), '-o', join(liveDir, 'appendonlydir')).code).toBe(2);
  });

  it('leaves out keys already expired at --now (the replay itself keeps them, as a loading Redis does)', async () => {
    const aof = join(work, 'ttl.aof');
    const cmds = [
      ['SET', 'gone', '1'],
      ['PEXPIREAT', 'gone', '1000000000000'], // 2001
      ['SET', 'kept', '1'],
      ['PEXPIREAT', 'kept', '4102444800000'], // 2100
      ['INCR', 'gone'], // applied to the not-yet-expired key while replaying
      ['HSET', 'h', 'a', '1'],
    ];
    writeFileSync(aof, Buffer.concat(cmds.map((c) => encodeCommand(c))));
    const home = mkdtempSync(join(work, 'ttl-'));
    const r = cli(aof, '-o', join(home, 'appendonly.aof'), '--format', 'resp', '--now', '2026-01-01T00:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/keys: 2 written, 1 expired at --now left out/);
    const text = readFileSync(join(home, 'appendonly.aof'), 'latin1');
    expect(text).not.toContain('gone');
    expect((await digestOf(home)).dbsize).toBe(2);
    const old = cli(aof, '-o', join(work, 'ttl-old.aof'), '--format', 'resp', '--now', '946684800000');
    expect(old.stdout).toMatch(/keys: 3 written, 0 expired/);
  });

  it('stops at a command it cannot replay, naming it with file and offset; --skip-unsupported counts it', () => {
    const aof = join(work, 'old-scripts.aof');
    const head = encodeCommand(['SET', 'a', '1']);
    writeFileSync(aof, Buffer.concat([head, encodeCommand(['EVAL', "redis.call('set','b','2')", '0']), encodeCommand(['SET', 'c', '3'])]));
    const r = cli(aof, '-o', join(work, 'scripts-out.aof'), '--format', 'resp');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${aof}: at byte ${head.length}: cannot apply EVAL`);
    expect(existsSync(join(work, 'scripts-out.aof'))).toBe(false);
    const s = cli(aof, '-o', join(work, 'scripts-out.aof'), '--format', 'resp', '--skip-unsupported');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('skipped unsupported: EVAL x1');
    expect(s.stdout).toContain('keys: 2 written');
  });

  it('--in-place does what BGREWRITEAOF does: new base and incr, old files retired, same data', async () => {
    const home = mkdtempSync(join(work, 'inplace-'));
    cpSync(join(liveDir, 'appendonlydir'), join(home, 'appendonlydir'), { recursive: true });
    const dir = join(home, 'appendonlydir');
    const before = readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8');
    expect(before).toContain('seq 2 type b');
    const keep = cli(dir, '--in-place', '--keep-history');
    expect(keep.code).toBe(0);
    const m1 = readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8').trim().split('\n');
    expect(m1[0]).toBe('file appendonly.aof.3.base.rdb seq 3 type b');
    expect(m1.at(-1)).toBe('file appendonly.aof.3.incr.aof seq 3 type i');
    expect(m1.slice(1, -1)).toEqual(['file appendonly.aof.2.incr.aof seq 2 type h', 'file appendonly.aof.2.base.rdb seq 2 type h']);
    for (const f of ['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof']) expect(existsSync(join(dir, f))).toBe(true);
    const copy = mkdtempSync(join(work, 'inplace-history-'));
    cpSync(dir, join(copy, 'appendonlydir'), { recursive: true });
    expect((await digestOf(copy)).digest).toBe(liveDigest);
    const again = cli(dir, '--in-place');
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8')).toBe('file appendonly.aof.4.base.rdb seq 4 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n');
    expect(readdirSync(dir).sort()).toEqual(['appendonly.aof.4.base.rdb', 'appendonly.aof.4.incr.aof', 'appendonly.aof.manifest']);
    expect((await digestOf(home)).digest).toBe(liveDigest);
  });
});
