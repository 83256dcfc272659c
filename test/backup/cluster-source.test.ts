import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/redis-cluster.js';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli } from './cli-helper.js';

// Issue 13, item 2: a node of a Redis Cluster holds one shard; backing it up alone exits 0 with a
// partial dataset. backup, snapshot and replicate --once refuse it (exit 5, naming the other masters) unless --shard-only.

let nodes: TestRedis[];
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-cluster-src-'));
  nodes = await startCluster(3);
  const c = await nodes[0]!.client();
  // Some of these keys hash to this node's slots (the others are answered -MOVED): its shard is not empty.
  for (let i = 0; i < 200; i++) await c.send('SET', `k${i}`, 'v');
  c.close();
}, 90_000);
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

const others = (me: TestRedis): string[] => nodes.filter((n) => n !== me).map((n) => `127.0.0.1:${n.port}`);

describe('a Redis Cluster node as a backup source', { timeout: 120_000 }, () => {
  it.each(['redis', 'bgsave'])('backup --from a %s source on a cluster node is refused with exit 5 naming the other masters', async (kind) => {
    const node = nodes[0]!;
    const from = kind === 'bgsave' ? `bgsave:${node.url}` : node.url;
    const to = join(work, `refused-${kind}`);
    const r = await cli(['backup', '--from', from, '--to', to, '--no-encrypt', '--name', 'shard']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/cluster_enabled:1/);
    for (const o of others(node)) expect(r.stderr).toContain(o);
    expect(r.stderr).toMatch(/--shard-only/);
    expect(existsSync(to) ? readdirSync(to) : []).toEqual([]);
  });

  it("backup --shard-only stores the node's own keys", async () => {
    const to = join(work, 'shard');
    const r = await cli(['backup', '--from', nodes[0]!.url, '--to', to, '--no-encrypt', '--name', 'shard', '--shard-only', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { manifest: { keys: { total: number } } };
    const c = await nodes[0]!.client();
    const own = Number(await c.call('DBSIZE'));
    expect(own).toBeGreaterThan(0);
    expect(out.manifest.keys.total).toBe(own);
    c.close();
  });

  it('"shardOnly": true in a cron config file takes the shard alone, as the flag does', async () => {
    const to = join(work, 'shard-config');
    const config = join(work, 'shard-only.json');
    writeFileSync(config, JSON.stringify({ sources: [{ name: 'shard', from: nodes[0]!.url, shardOnly: true }], to, encryption: 'none' }));
    const r = await cli(['backup', '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(config, JSON.stringify({ from: nodes[0]!.url, cluster: true, shardOnly: true, to, encryption: 'none' }));
    const both = await cli(['backup', '--config', config]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--shard-only/);
  });

  it('snapshot of a cluster node is refused with exit 5 unless --shard-only', async () => {
    const node = nodes[1]!;
    const out = join(work, 'snap.rdb');
    const r = await cli(['snapshot', '--master', node.url, '-o', out]);
    expect(r.code, r.stderr).toBe(5);
    for (const o of others(node)) expect(r.stderr).toContain(o);
    expect(existsSync(out)).toBe(false);
    const ok = await cli(['snapshot', '--master', node.url, '-o', out, '--shard-only']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('replicate --once of a cluster node is refused with exit 5 unless --shard-only; an existing FILE unless --force', async () => {
    const node = nodes[2]!;
    const out = join(work, 'once.rdb');
    const r = await cli(['replicate', '--master', node.url, '--once', '-o', out]);
    expect(r.code, r.stderr).toBe(5);
    for (const o of others(node)) expect(r.stderr).toContain(o);
    expect(existsSync(out)).toBe(false);
    const ok = await cli(['replicate', '--master', node.url, '--once', '-o', out, '--shard-only']);
    expect(ok.code, ok.stderr).toBe(0);
    const first = readFileSync(out);
    const again = await cli(['replicate', '--master', node.url, '--once', '-o', out, '--shard-only']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/exists; use --force/);
    expect(readFileSync(out).equals(first)).toBe(true);
    const forced = await cli(['replicate', '--master', node.url, '--once', '-o', out, '--shard-only', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('a standalone node is backed up without --shard-only', async () => {
    const single = await startRedis();
    const r = await cli(['backup', '--from', single.url, '--to', join(work, 'single'), '--no-encrypt', '--name', 'single']);
    expect(r.code, r.stderr).toBe(0);
    await single.stop();
  });
});
