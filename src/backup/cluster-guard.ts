import type tls from 'node:tls';
import { RedisClient, RedisReplyError } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { ExitCode, RefusedError } from '../util/errors.js';

/**
 * A node of a Redis Cluster holds one shard: an RDB of it is a partial dataset that would restore
 * "successfully". Until backups of whole clusters exist, such a source is refused unless the
 * operator asks for the shard alone (--shard-only). Asks the node itself (INFO cluster, then
 * CLUSTER NODES for the other masters to name).
 */
export async function refuseClusterNode(ep: RedisEndpoint, opts: { tls?: tls.ConnectionOptions; log?: (line: string) => void } = {}): Promise<void> {
  const client = await RedisClient.connect(ep, { tls: opts.tls });
  try {
    let enabled: string | undefined;
    try {
      enabled = (await client.info('cluster')).cluster_enabled;
    } catch (e) {
      // Wrong or missing password: exit 4 here as on the replication link. An ACL user allowed
      // only the replication commands cannot be asked; say so and go on.
      if (!(e instanceof RedisReplyError) || (e.exitCode === ExitCode.CRYPTO && !/^NOPERM/.test(e.reply.message))) throw e;
      opts.log?.(`${ep.display}: cannot tell whether this is a cluster node (INFO refused: ${e.reply.message}); a cluster node's backup holds its shard only`);
      return;
    }
    if (enabled !== '1') return;
    const nodes = await client.text('CLUSTER', 'NODES').catch(() => '');
    const others = nodes
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f.length >= 3 && f[2]!.split(',').includes('master') && !f[2]!.split(',').includes('myself'))
      .map((f) => f[1]!.split('@')[0]!);
    const names = others.length ? `the other masters: ${others.sort().join(' ')}` : 'CLUSTER NODES names no other master';
    throw new RefusedError(
      `${ep.display} is a Redis Cluster node (cluster_enabled:1): its RDB holds this node's slots only (${names}); back up every master, or give --shard-only to take this shard alone`,
    );
  } finally {
    client.close();
  }
}
