import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatRanges } from '../backup/cluster-shards.js';
import type { SetManifest } from '../backup/set-manifest.js';
import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { withAtomicFile } from '../util/atomic-file.js';
import { ClusterTopology } from './cluster-topology.js';
import { restoreToDir, type OfflineOptions, type OfflineReport } from './offline.js';
import { restoreOnline, type OnlineOptions, type OnlineReport } from './online.js';
import type { StoreStaged } from './store-source.js';
import { probeTarget } from './target.js';

export interface SetOnlineReport {
  set: string;
  target: string;
  shards: Array<OnlineReport & { shard: number; slots: string }>;
  /** Keys restored from every shard, and what the target's masters hold afterwards (--verify). */
  total: { keys: number; restored: number; onTarget?: number };
  verify?: { ok: boolean; checked: number; mismatched: number };
}

/**
 * Restores every shard of a set onto one target, each key routed by its slot (the target may
 * have any number of shards): one restore per shard RDB, FLUSHALL (--flush) before the first only.
 * With --verify each shard's keys are read back, then the keys of all shards are counted against
 * what the target's masters hold.
 */
export async function restoreSetOnline(set: SetManifest, staged: StoreStaged[], opts: Omit<OnlineOptions, 'rdbPath'>): Promise<SetOnlineReport> {
  const report: SetOnlineReport = { set: staged[0]!.entry.manifest.object, target: opts.target.display, shards: [], total: { keys: 0, restored: 0 } };
  for (let i = 0; i < staged.length; i++) {
    const shard = set.shards[i]!;
    const r = await restoreOnline({ ...opts, rdbPath: staged[i]!.path, flush: opts.flush && i === 0 });
    report.shards.push({ shard: shard.index, slots: formatRanges(shard.slots), ...r });
    report.total.keys += r.plan.keys;
    report.total.restored += r.result?.restored ?? 0;
  }
  if (opts.verify || opts.verifyOnly) {
    const onTarget = await keysOnTarget(opts.target);
    report.total.onTarget = onTarget;
    const per = report.shards.map((s) => s.verify!);
    const skipped = report.shards.reduce((a, s) => a + (s.result ? s.result.conflicts + s.result.failed : 0), 0);
    report.verify = {
      ok: per.every((v) => v.ok) && onTarget >= report.total.keys - skipped,
      checked: per.reduce((a, v) => a + v.checked, 0),
      mismatched: per.reduce((a, v) => a + v.mismatched, 0),
    };
  }
  return report;
}

/** DBSIZE summed over the target's masters (every db of a standalone node). */
async function keysOnTarget(ep: RedisEndpoint): Promise<number> {
  const seed = await RedisClient.connect({ ...ep, db: undefined });
  try {
    const info = await probeTarget(seed);
    if (!info.cluster) {
      const ks = await seed.info('keyspace');
      return Object.values(ks).reduce((a, v) => a + Number(/keys=(\d+)/.exec(v)?.[1] ?? 0), 0);
    }
    const topology = new ClusterTopology(ep.host);
    await topology.load(seed);
    let total = 0;
    for (const address of topology.masters) {
      const i = address.lastIndexOf(':');
      const c = await RedisClient.connect({ ...ep, host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)), db: undefined });
      try {
        total += Number(await c.call('DBSIZE'));
      } finally {
        c.close();
      }
    }
    return total;
  } finally {
    seed.close();
  }
}

export interface SetDirReport {
  set: string;
  dir: string;
  shards: Array<OfflineReport & { shard: number; slots: string }>;
  readme: string;
}

/**
 * One directory per shard of the original layout (`shard-<i>/dump.rdb` or its appendonlydir), for
 * a cluster rebuilt with the same slot ranges, and a README naming each directory's slots and
 * the node it came from.
 */
export async function restoreSetToDir(set: SetManifest, staged: StoreStaged[], o: Omit<OfflineOptions, 'rdbPath'>): Promise<SetDirReport> {
  const report: SetDirReport = { set: staged[0]!.entry.manifest.object, dir: o.dir, shards: [], readme: join(o.dir, 'README.txt') };
  for (let i = 0; i < staged.length; i++) {
    const shard = set.shards[i]!;
    const r = await restoreToDir({ ...o, rdbPath: staged[i]!.path, dir: join(o.dir, `shard-${shard.index}`) });
    report.shards.push({ shard: shard.index, slots: formatRanges(shard.slots), ...r });
  }
  if (o.dryRun) return report;
  const lines = [
    `tsredis-ops cluster set ${report.set}: ${set.name}, taken ${set.takenAt} from ${set.source.location}`,
    `${set.shards.length} shards, ${set.keys.total} keys; consistency: ${set.consistency}${set.pause ? ` (writes paused ${set.pause.usedMs} ms)` : ''}, snapshots within ${set.snapshotSpreadMs} ms`,
    '',
    'Each directory holds one shard. Start one master on each with cluster-enabled yes, then give it',
    'exactly these slots (CLUSTER ADDSLOTSRANGE, Redis 7+), e.g. for shard-0:',
    `  redis-cli -p PORT CLUSTER ADDSLOTSRANGE ${set.shards[0]!.slots.flat().join(' ')}`,
    'Keys of other slots are not in a shard\'s RDB. For a cluster of another size restore the set',
    'online instead: tsredis-ops restore --from STORE --backup SET --to redis://any-node:port',
    '',
    'directory  slots  taken from (role, address, node id)  keys',
    ...set.shards.map((s) => `shard-${s.index}  ${formatRanges(s.slots)}  ${s.source.role} ${s.source.address} ${s.source.id}  ${s.keys}`),
    '',
  ];
  await mkdir(o.dir, { recursive: true });
  await withAtomicFile(report.readme, async (fh) => {
    await fh.writeFile(lines.join('\n'));
  });
  return report;
}
