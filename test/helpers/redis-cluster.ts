import { spawnSync } from 'node:child_process';
import { RespError, type RespValue } from '../../src/codec/resp/types.js';
import { RedisClient } from '../../src/net/redis-client.js';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { keySlot } from '../../src/restore/hash-slot.js';
import { startRedis, type TestRedis } from './redis-server.js';

async function clusterOk(n: TestRedis): Promise<boolean> {
  const c = await n.client();
  try {
    return (await c.text('CLUSTER', 'INFO')).includes('cluster_state:ok');
  } finally {
    c.close();
  }
}

/**
 * A real Redis Cluster of `masters` redis-server processes and `replicas` replicas per master,
 * made with `redis-cli --cluster create … --cluster-replicas N`, returned once every node says
 * cluster_state:ok (and every replica finished its first sync). The first `masters` nodes are the
 * masters. Stop the nodes with stopAllRedis.
 */
export async function startCluster(masters = 3, opts: { replicas?: number; config?: Record<string, string | number> } = {}): Promise<TestRedis[]> {
  const replicas = opts.replicas ?? 0;
  const nodes = await Promise.all(
    Array.from({ length: masters * (1 + replicas) }, () =>
      startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-config-file': 'nodes.conf', 'cluster-node-timeout': 5000, ...opts.config } }),
    ),
  );
  if (masters < 3 && replicas === 0) await joinByHand(nodes);
  else {
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
  }
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(nodes.map(clusterOk))).every(Boolean) || !(await Promise.all(nodes.map(replicaSynced))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
    await new Promise((res) => setTimeout(res, 200));
  }
  return nodes;
}

/** redis-cli --cluster create wants 3 masters at least: smaller clusters are made with ADDSLOTSRANGE and MEET. */
async function joinByHand(nodes: TestRedis[]): Promise<void> {
  const per = Math.ceil(16384 / nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const c = await nodes[i]!.client();
    try {
      await c.call('CLUSTER', 'ADDSLOTSRANGE', i * per, Math.min(16383, (i + 1) * per - 1));
      if (i > 0) await c.call('CLUSTER', 'MEET', '127.0.0.1', nodes[0]!.port);
    } finally {
      c.close();
    }
  }
}

async function replicaSynced(n: TestRedis): Promise<boolean> {
  const c = await n.client();
  try {
    const info = (await c.info('replication')) as Record<string, string>;
    return info.role === 'master' || (info.master_link_status === 'up' && info.master_sync_in_progress === '0');
  } finally {
    c.close();
  }
}

/** The master nodes of a cluster, in the order `CLUSTER NODES` of `any` lists them. */
export async function clusterMasters(nodes: TestRedis[]): Promise<TestRedis[]> {
  const out: TestRedis[] = [];
  for (const n of nodes) {
    const c = await n.client();
    try {
      if ((await c.info('replication')).role === 'master') out.push(n);
    } finally {
      c.close();
    }
  }
  return out;
}

/**
 * A small cluster-aware client for tests: each command goes to the master of its key's slot
 * (CLUSTER SLOTS), following MOVED (reload) and ASK (ASKING on the named node).
 */
export class ClusterClient {
  private slots: string[] = [];
  private readonly conns = new Map<string, Promise<RedisClient>>();

  private constructor(private readonly seed: TestRedis) {}

  static async open(seed: TestRedis): Promise<ClusterClient> {
    const c = new ClusterClient(seed);
    await c.reload();
    return c;
  }

  private conn(address: string): Promise<RedisClient> {
    let p = this.conns.get(address);
    if (!p) {
      p = RedisClient.connect(parseRedisUrl(`redis://${address}`));
      this.conns.set(address, p);
    }
    return p;
  }

  async reload(): Promise<void> {
    const c = await this.seed.client();
    try {
      const r = (await c.call('CLUSTER', 'SLOTS')) as unknown[][];
      const slots = new Array<string>(16384).fill('');
      for (const [a, b, m] of r as [number, number, unknown[]][]) for (let s = a; s <= b; s++) slots[s] = `127.0.0.1:${Number(m[1])}`;
      this.slots = slots;
    } finally {
      c.close();
    }
  }

  /** Master addresses serving slots now. */
  get masters(): string[] {
    return [...new Set(this.slots.filter(Boolean))];
  }

  async call(...args: Array<string | number | Buffer>): Promise<RespValue> {
    const key = args[1]!;
    let address = this.slots[keySlot(Buffer.isBuffer(key) ? key : Buffer.from(String(key)))]!;
    let asking = false;
    for (let i = 0; i < 10; i++) {
      const c = await this.conn(address);
      if (asking) await c.call('ASKING');
      const r = await c.send(...args);
      if (!(r instanceof RespError)) return r;
      const m = /^(MOVED|ASK) \d+ (\S+)$/.exec(r.message);
      if (!m) throw new Error(`${args[0]} ${String(key)}: ${r.message}`);
      address = m[2]!;
      asking = m[1] === 'ASK';
      if (!asking) await this.reload();
    }
    throw new Error(`${args[0]} ${String(key)}: too many redirects`);
  }

  async close(): Promise<void> {
    for (const p of this.conns.values()) (await p.catch(() => null))?.close();
    this.conns.clear();
  }
}
