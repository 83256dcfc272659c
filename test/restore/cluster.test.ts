import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/net/redis-client.js';
import { startCluster } from '../helpers/redis-cluster.js';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli, populate, saveRdb, tempDir } from './helpers.js';

let rdb: string;
let nodes: TestRedis[];
let sourceKeys = 0;

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

  nodes = await startCluster(3);
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

describe('cluster redirects', () => {
  async function flushAll(): Promise<void> {
    for (const n of nodes) {
      const c = await n.client();
      await c.call('FLUSHALL');
      await c.call('FUNCTION', 'FLUSH');
      c.close();
    }
  }

  it('MOVED: keys sent to the wrong master are re-routed and the slot map learns the owner', async () => {
    await flushAll();
    const { NodePool } = await import('../../src/restore/node-pool.js');
    const { ClusterTopology } = await import('../../src/restore/cluster-topology.js');
    const { KeySender } = await import('../../src/restore/key-sender.js');
    const { framePayload } = await import('../../src/restore/dump-payload.js');
    const { parseRedisUrl } = await import('../../src/net/redis-url.js');
    const pool = new NodePool(parseRedisUrl(nodes[0]!.url, { env: {} }), 2);
    const topology = new ClusterTopology('127.0.0.1');
    await topology.load(await pool.control(pool.seedAddress));
    // A stale map: every slot believed to be on node 0.
    for (let s = 0; s < 16384; s++) topology.moved(s, pool.seedAddress);
    const sender = new KeySender(pool, topology, { window: 64, replace: false });
    const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`moved:${i}`));
    for (const key of keys) {
      // A string "v" as a DUMP payload for RDB 10: type 0, length-prefixed bytes.
      const q = sender.submit({ db: 0, key, expireAtMs: null, payload: framePayload(0, Buffer.from([1, 0x76]), 10), bytes: 13 });
      if (q) await q;
    }
    await sender.drain();
    await pool.close();
    expect(sender.stats.restored).toBe(300);
    expect(sender.stats.redirects).toBeGreaterThan(100);
    expect(sender.stats.problems).toEqual([]);
    let total = 0;
    for (const n of nodes) {
      const c = await n.client();
      total += Number(await c.call('DBSIZE'));
      c.close();
    }
    expect(total).toBe(300);
  });

  it('ASK: a slot being migrated gets its keys on the importing node (ASKING), and --verify-only passes once the migration ends', async () => {
    await flushAll();
    const ids: string[] = [];
    const clients = await Promise.all(nodes.map((n) => n.client()));
    for (const c of clients) ids.push(await c.text('CLUSTER', 'MYID'));
    const slot = Number(await clients[0]!.call('CLUSTER', 'KEYSLOT', 'str:raw'));
    let owner = -1;
    for (let i = 0; i < 3; i++) if ((await ownSlots(clients[i]!)).has(slot)) owner = i;
    const dest = (owner + 1) % 3;
    await clients[dest]!.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids[owner]!);
    await clients[owner]!.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids[dest]!);
    const r = cli(['restore', rdb, '--to', nodes[0]!.url, '--db-map', '1:0,5:0', '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).result.problems).toEqual([]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { result: { redirects: number } }).result.redirects).toBeGreaterThan(0);
    // Not on the migrating owner (which answers ASK for a key it lacks), but on the importing node.
    expect(String(await clients[owner]!.send('EXISTS', 'str:raw'))).toMatch(/^ASK \d+ /);
    void clients[dest]!.send('ASKING');
    expect(await clients[dest]!.call('EXISTS', 'str:raw')).toBe(1);
    for (const c of clients) await c.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids[dest]!);
    await new Promise((res) => setTimeout(res, 500));
    const v = cli(['restore', rdb, '--to', nodes[0]!.url, '--db-map', '1:0,5:0', '--verify-only', '--json']);
    expect(v.code).toBe(0);
    for (const c of clients) c.close();
  });
});
