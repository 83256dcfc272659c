import { spawnSync } from 'node:child_process';
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
  const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(nodes.map(clusterOk))).every(Boolean) || !(await Promise.all(nodes.map(replicaSynced))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
    await new Promise((res) => setTimeout(res, 200));
  }
  return nodes;
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
