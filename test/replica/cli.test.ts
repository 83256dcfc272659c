import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/codec/aof/manifest.js';
import { debugDigest, freePort, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { checkRdb, digestOfRdb, loadDir, masterOffset, runWorkload, settleExpiries, stats, waitFor } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/tsredis-ops.js');
const children = new Set<ChildProcess>();

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli/commands/replicate.js'))) throw new Error('build first: npx tsc -p . (npm test does it)');
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stopAllRedis();
});

function spawnCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => (children.delete(child), r(code))));
  return { child, stderr: () => err, exit };
}

function status(dir: string): { link: string; offset: number } | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'replica-status.json'), 'utf8'));
  } catch {
    return null;
  }
}

const PASSWORD = 's3cret-master-pw';

describe('tsredis-ops replicate (CLI)', () => {
  it('kill -9 mid-stream, restart: partial resync, no half-written file, digest matches', async () => {
    const master = await startRedis({
      config: { requirepass: PASSWORD, 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1, 'repl-backlog-size': '64mb' },
    });
    const c = await master.client();
    const w = await runWorkload(c, 71, 1500);
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-cli-'));
    const args = ['replicate', '--master', master.url, '--dir', dir, '--timeout', '5'];
    const env = { REDISCLI_AUTH: PASSWORD };

    const first = spawnCli(args, env);
    await waitFor('first run streaming', async () => status(dir)?.link === 'up' && status(dir)!.offset === (await masterOffset(c)));
    const writing = runWorkload(c, 72, 3000, w);
    await new Promise((r) => setTimeout(r, 150));
    first.child.kill('SIGKILL');
    await first.exit;
    await writing;

    // Whatever the moment of the kill, every file at a final name is whole.
    const aofDir = join(dir, 'appendonlydir');
    const manifest = parseManifest(readFileSync(join(aofDir, 'appendonly.aof.manifest')), 'manifest');
    expect(manifest.entries.map((e) => e.type).sort()).toEqual(['b', 'i']);
    checkRdb(join(aofDir, manifest.entries.find((e) => e.type === 'b')!.file));
    const state = JSON.parse(readFileSync(join(dir, 'replica-state.json'), 'utf8'));
    expect(state.incrSize).toBeLessThanOrEqual(readFileSync(join(aofDir, state.incrFile)).length);

    const metricsPort = await freePort();
    const second = spawnCli([...args, '--metrics-port', String(metricsPort)], env);
    await waitFor('second run caught up', async () => status(dir)?.link === 'up' && status(dir)!.offset === (await masterOffset(c)));
    const seen = status(dir)!.offset;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^tsredis_replica_link_up 1$/m);
    expect(metrics).toMatch(/^tsredis_replica_partial_syncs_total 1$/m);
    expect(Number(/^tsredis_replica_offset (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(seen);
    await settleExpiries(c, w);
    await waitFor('second run caught up again', async () => status(dir)?.offset === (await masterOffset(c)));
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(second.stderr()).toMatch(/partial resync accepted/);
    expect(second.stderr()).toMatch(/SIGTERM: stopping/);
    const s = await stats(c);
    expect(s.full).toBe(1);
    expect(s.partialOk).toBe(1);
    const loaded = await loadDir(dir);
    expect(loaded.digest).toBe(await debugDigest(master));
    await loaded.server.stop();
    expect(first.stderr() + second.stderr()).not.toContain(PASSWORD);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    c.close();
    await master.stop();
  });

  it('--once -o FILE and snapshot equal what redis-cli --rdb gets', async () => {
    const master = await startRedis({ config: { 'repl-diskless-sync-delay': 0 } });
    const c = await master.client();
    await settleExpiries(c, await runWorkload(c, 81, 1500));
    const out = mkdtempSync(join(tmpdir(), 'tsredis-once-'));
    const once = spawnCli(['replicate', '--master', master.url, '--once', '-o', join(out, 'once.rdb')]);
    expect(await once.exit).toBe(0);
    const snap = spawnCli(['snapshot', '--master', master.url, '-o', join(out, 'snap.rdb'), '--json']);
    let json = '';
    snap.child.stdout!.on('data', (d) => (json += d));
    expect(await snap.exit).toBe(0);
    execFileSync('redis-cli', ['-p', String(master.port), '--rdb', join(out, 'cli.rdb')], { stdio: 'pipe' });
    const want = await digestOfRdb(join(out, 'cli.rdb'));
    expect(want).toBe(await debugDigest(master));
    expect(await digestOfRdb(join(out, 'once.rdb'))).toBe(want);
    expect(await digestOfRdb(join(out, 'snap.rdb'))).toBe(want);
    const meta = JSON.parse(json);
    expect(meta.bytes).toBe(readFileSync(join(out, 'snap.rdb')).length);
    expect(meta.replid).toMatch(/^[0-9a-f]{40}$/);
    expect(readdirSync(out).sort()).toEqual(['cli.rdb', 'once.rdb', 'snap.rdb']);
    c.close();
    await master.stop();
  });

  it('fails with a clear line and exit 4 on a wrong password, 3 when unreachable', async () => {
    const master = await startRedis({ config: { requirepass: PASSWORD } });
    const pwFile = join(mkdtempSync(join(tmpdir(), 'tsredis-pw-')), 'pw');
    writeFileSync(pwFile, 'not-the-password\n');
    const bad = spawnCli(['replicate', '--master', master.url, '--dir', mkdtempSync(join(tmpdir(), 'tsredis-cli-')), '--password-file', pwFile]);
    expect(await bad.exit).toBe(4);
    expect(bad.stderr()).toMatch(/AUTH: WRONGPASS/);
    expect(bad.stderr()).not.toContain('not-the-password');
    const down = spawnCli(['snapshot', '--master', 'redis://127.0.0.1:1', '-o', join(tmpdir(), 'never.rdb')]);
    expect(await down.exit).toBe(3);
    expect(down.stderr()).toMatch(/cannot connect/);
    await master.stop();
  });
});
