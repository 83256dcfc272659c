import type tls from 'node:tls';
import { RedisClient, RedisReplyError } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { ExitCode, RefusedError } from '../util/errors.js';
import { formatRanges, parseNodesLines } from './cluster-shards.js';

/**
 * A node of a Redis Cluster holds one shard: an RDB of it is a partial dataset that would restore
 * "successfully". Such a source is refused unless the operator asks for the whole cluster
 * (`--cluster`, a set) or for the shard alone (`--shard-only`). Asks the node itself (INFO
 * cluster, then CLUSTER NODES for the other shards to name).
 */
export async function refuseClusterNode(
  ep: RedisEndpoint,
  opts: { tls?: tls.ConnectionOptions; log?: (line: string) => void; wholeCluster?: string } = {},
): Promise<void> {
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
    const lines = parseNodesLines(await client.text('CLUSTER', 'NODES').catch(() => ''), ep.host);
    const me = lines.find((l) => l.flags.includes('myself'));
    const mine = me?.flags.includes('master') ? me.id : me?.masterId;
    const others = lines
      .filter((l) => l.flags.includes('master') && l.slots.length > 0 && l.id !== mine)
      .map((l) => `${l.address} (slots ${formatRanges(l.slots)})`);
    const names = others.length ? `the other shards: ${others.sort().join(', ')}` : 'CLUSTER NODES names no other shard';
    throw new RefusedError(
      `${ep.display} is a Redis Cluster node (cluster_enabled:1): its RDB holds one shard only (${names}); ${opts.wholeCluster ?? 'give --cluster to back up every shard as one set'}, or --shard-only to take this shard alone`,
    );
  } finally {
    client.close();
  }
}
