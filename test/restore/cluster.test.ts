import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/net/redis-client.js';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli, populate, saveRdb, tempDir } from './helpers.js';

let rdb: string;
let nodes: TestRedis[];
let sourceKeys = 0;

async function clusterOk(n: TestRedis): Promise<boolean> {
  const c = await n.client();
  try {
    return (await c.text('CLUSTER', 'INFO')).includes('cluster_state:ok');
  } finally {
    c.close();
  }
}

/** Slots served by the node `c` is connected to, from CLUSTER SLOTS and its own id. */
async function ownSlots(c: RedisClient): Promise<Set<number>> {
  const me = await c.text('CLUSTER', 'MYID');
  const out = new Set<number>();
  for (const range of (await c.call('CLUSTER', 'SLOTS')) as unknown[][]) {
    const master = range[2] as unknown[];
    if (String(master[2]) !== me) continue;
    for (let s = Number(range[0]); s <= Number(range[1]); s++) out.add(s);
  }
  return out;
}

beforeAll(async () => {
  const source = await startRedis();
  const c = await source.client();
  await populate(c);
  for (const db of [0, 1, 5]) {
    await c.call('SELECT', db);
    sourceKeys += Number(await c.call('DBSIZE'));
  }
  c.close();
  rdb = await saveRdb(source, join(tempDir(), 'dump.rdb'));
  await source.stop();

  nodes = await Promise.all([0, 1, 2].map(() => startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-config-file': 'nodes.conf', 'cluster-node-timeout': 5000 } })));
  const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
  const deadline = Date.now() + 30_000;
  while (!(await Promise.all(nodes.map(clusterOk))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
    await new Promise((res) => setTimeout(res, 200));
  }
}, 90_000);
afterAll(stopAllRedis);

describe('restore --to a Redis Cluster', () => {
  it('refuses a multi-db backup without --db-map into db 0, writing nothing', async () => {
    const r = cli(['restore', rdb, '--to', nodes[1]!.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Redis Cluster.*--db-map 1:0/);
    for (const n of nodes) {
      const c = await n.client();
      expect(await c.call('DBSIZE')).toBe(0);
      c.close();
    }
  });

  it('routes every key to its slot master (hash tags honoured), loads functions everywhere, --verify passes', async () => {
    const r = cli(['restore', rdb, '--to', nodes[1]!.url, '--db-map', '1:0,5:0', '--verify', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { cluster: boolean; masters: string[]; result: { restored: number }; verify: { ok: boolean; checked: number } };
    expect(rep.cluster).toBe(true);
    expect(rep.masters).toHaveLength(3);
    expect(rep.result.restored).toBe(sourceKeys);
    expect(rep.verify.ok).toBe(true);
    expect(rep.verify.checked).toBe(sourceKeys);
    let total = 0;
    for (const n of nodes) {
      const c = await n.client();
      const slots = await ownSlots(c);
      let cursor = '0';
      let here = 0;
      do {
        const [next, keys] = (await c.call('SCAN', cursor, 'COUNT', '1000')) as [Buffer, Buffer[]];
        cursor = next.toString();
        for (const k of keys) {
          expect(slots.has(Number(await c.call('CLUSTER', 'KEYSLOT', k)))).toBe(true);
          here++;
        }
      } while (cursor !== '0');
      expect(here).toBeGreaterThan(0);
      total += here;
      expect(await c.call('FCALL', 'rfn', '0')).toBe(1);
      c.close();
    }
    expect(total).toBe(sourceKeys);
  });
});
