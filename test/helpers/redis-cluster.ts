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
 * A real Redis Cluster of `masters` redis-server processes (no replicas), made with
 * `redis-cli --cluster create`, returned once every node says cluster_state:ok. Stop the nodes
 * with stopAllRedis.
 */
export async function startCluster(masters = 3): Promise<TestRedis[]> {
  const nodes = await Promise.all(
    Array.from({ length: masters }, () => startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-config-file': 'nodes.conf', 'cluster-node-timeout': 5000 } })),
  );
  const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
  const deadline = Date.now() + 30_000;
  while (!(await Promise.all(nodes.map(clusterOk))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
    await new Promise((res) => setTimeout(res, 200));
  }
  return nodes;
}
