import { createRequire } from 'node:module';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespError } from '../codec/resp/types.js';
import { RedisClient } from '../net/redis-client.js';
import { parseRedisUrl, type RedisEndpoint } from '../net/redis-url.js';
import { fetchSnapshot } from '../replica/snapshot.js';
import { ExitCode, IoError, RefusedError, ToolError, UsageError, oneLine } from '../util/errors.js';
import {
  captureClaims,
  claimedRanges,
  discoverShards,
  endpointAt,
  formatRanges,
  rangesOf,
  slotsInMotion,
  type ClusterLayout,
  type ClusterNode,
  type ClusterShard,
  type SlotClaims,
} from './cluster-shards.js';
import { manifestNameFor, objectNameFor, setManifestNameFor, shardStemFor, stemFor } from './naming.js';
import { afterStored, exitCodeOf, runBackup, writeMarker, type BackupOutcome, type BackupRequest, type TargetOutcome } from './run-backup.js';
import { setManifestBytes, type SetManifest, type SetShard } from './set-manifest.js';
import { filterRdbBySlots } from './slot-filter.js';
import type { OpenedSource } from './source.js';
import { openStore, type BackupStore, type StoreOptions } from './store/store.js';
import { forkDelayMs, pauseWrites, type WritePause } from './write-pause.js';

const require = createRequire(import.meta.url);
const { version: toolVersion } = require('../../package.json') as { version: string };

export interface ClusterBackupRequest extends Omit<BackupRequest, 'source' | 'opened' | 'part' | 'sourceOptions' | 'onProgress'> {
  /** Any node of the cluster: redis://host:port. */
  seed: string;
  passwordFile?: string;
  /** Take each shard's RDB from a healthy replica when it has one. */
  preferReplica?: boolean;
  /** Shards backed up at once (default: all). */
  parallel?: number;
  /** CLIENT PAUSE ms WRITE on every master while the shards' snapshots start. */
  pauseWritesMs?: number;
  /** Tries per shard when its source fails (a failover: the next try asks the new owner). */
  attempts?: number;
  /** Bytes read so far from all shards. */
  onProgress?: (p: { shardsDone: number; shards: number; plainBytes: number }) => void;
}

export interface ShardOutcome {
  index: number;
  slots: string;
  ok: boolean;
  source?: string;
  role?: 'master' | 'replica';
  attempts: number;
  object?: string;
  keys?: number;
  droppedKeys?: number;
  snapshotAt?: string;
  error?: string;
  exitCode?: number;
}

export interface ClusterBackupOutcome extends BackupOutcome {
  set: SetManifest | null;
  shards: ShardOutcome[];
}

interface ShardDone {
  shard: ClusterShard;
  node: ClusterNode;
  outcome: BackupOutcome;
  replid: string;
  offset: number;
  snapshotAt: Date;
  dropped: number;
  attempts: number;
}

/**
 * A backup of a whole Redis Cluster as one set: one RDB per shard over the replication protocol,
 * each through the one-pass pipeline (runBackup) under its own stem, then the set manifest, last,
 * on every target that verified every shard. A shard that fails (after its retries) fails the
 * set, and every shard file of the set is removed again: a set is complete or not there.
 *
 * Keys exactly once: each shard's RDB keeps only the keys of the slots its master served (or, in
 * a write pause, was importing) when the snapshots started; and slots that moved between the
 * shards' snapshots fail the set unless writes (and so MIGRATE) were paused across them.
 */
export async function runClusterBackup(req: ClusterBackupRequest): Promise<ClusterBackupOutcome> {
  const log = req.log ?? (() => {});
  const seed = parseRedisUrl(req.seed, { passwordFile: req.passwordFile });
  const takenAt = req.takenAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const stem = stemFor(req.name, takenAt);
  const setFile = setManifestNameFor(stem);
  const optionsFor = (t: string): StoreOptions | undefined => (typeof req.storeOptions === 'function' ? req.storeOptions(t) : req.storeOptions);
  const stores = await Promise.all(req.targets.map((t) => openStore(t, optionsFor(t))));
  for (const s of stores) if (await s.head(setFile)) throw new RefusedError(`${s.describe()}: ${setFile} already exists; not overwriting`);

  const layout = await readLayout(seed);
  const shardOf = new Map<string, number>();
  for (const s of layout.shards) for (const n of [s.master, ...s.replicas]) shardOf.set(n.id, s.index);
  const n = layout.shards.length;
  const parallel = Math.min(req.parallel ?? n, n);
  if (parallel < 1) throw new UsageError('--parallel must be at least 1');
  if (req.pauseWritesMs !== undefined && parallel < n) throw new UsageError(`--pause-writes starts every shard's snapshot inside the pause: drop --parallel (or give ${n})`);
  log(`cluster ${seed.display}: ${n} shards (${layout.via}): ${layout.shards.map((s) => `#${s.index} ${formatRanges(s.slots)} on ${s.master.address}`).join('; ')}`);

  const shards: ShardOutcome[] = layout.shards.map((s) => ({ index: s.index, slots: formatRanges(s.slots), ok: false, attempts: 0 }));
  const done: Array<ShardDone | null> = layout.shards.map(() => null);
  const claims: SlotClaims[] = [];
  /** Claims read right after each snapshot started: with the first, they bracket every fork. */
  const captures: Array<Promise<void>> = [];
  let pause: WritePause | null = null;
  let pauseUsed: number | null = null;
  let failure: unknown = null;
  let plainBytes = 0;
  let shardsDone = 0;

  try {
    if (req.pauseWritesMs !== undefined) {
      const sources = layout.shards.flatMap((s) => (req.preferReplica ? [s.master, ...s.replicas] : [s.master]));
      const delay = await forkDelayMs(sources.map((node) => endpointAt(seed, node.address)));
      if (delay.ms >= req.pauseWritesMs) {
        throw new UsageError(
          `--pause-writes ${req.pauseWritesMs} is too short: ${delay.node} forks for a diskless sync only after repl-diskless-sync-delay (${delay.ms / 1000} s); set repl-diskless-sync-delay 0 on the nodes (or repl-diskless-sync no), or pause longer`,
        );
      }
      const before = await captureClaims(seed, layout, shardOf);
      pause = await pauseWrites(
        layout.shards.map((s) => ({ address: s.master.address, ep: endpointAt(seed, s.master.address), first: before.migrating.has(s.index) })),
        req.pauseWritesMs,
      );
      log(`writes paused on ${n} masters (CLIENT PAUSE ${req.pauseWritesMs} WRITE)`);
    }
    // The slot map at snapshot: what each master claims now (after the pause began), not the
    // layout read before (a migration may have finished in between).
    claims.push(await captureClaims(seed, layout, shardOf));
    for (const s of layout.shards) {
      const ranges = claimedRanges(claims[0]!, s.index);
      if (ranges.length) s.slots = ranges;
    }
    const keepOf = (s: ClusterShard): Uint8Array => {
      const keep = new Uint8Array(16384);
      for (const [a, b] of s.slots) keep.fill(1, a, b + 1);
      // In a pause no key moves: a slot being imported holds, on the importing side, the keys
      // MIGRATE already moved, and only there (the migrating side keeps the rest).
      if (pause) for (const slot of claims[0]!.importing.get(s.index) ?? []) keep[slot] = 1;
      return keep;
    };

    // Every shard's snapshot must start before the pause is lifted; the rest of the transfer runs unpaused.
    const startSettled: Array<Promise<unknown>> = [];
    const tasks = layout.shards.map((shard) => {
      let settle!: () => void;
      startSettled.push(new Promise<void>((r) => (settle = r)));
      return async (): Promise<void> => {
        const out = shards[shard.index]!;
        try {
          done[shard.index] = await backUpShard(shard, keepOf(shard), settle, out);
          out.ok = true;
          shardsDone++;
          req.onProgress?.({ shardsDone, shards: n, plainBytes });
        } catch (e) {
          settle();
          Object.assign(out, { error: oneLine(e), exitCode: exitCodeOf(e) });
          failure ??= new ToolError(`shard #${shard.index} (slots ${out.slots}): ${oneLine(e)}`, exitCodeOf(e) as ToolError['exitCode']);
        }
      };
    });
    shards.forEach((o, i) => (o.slots = formatRanges(layout.shards[i]!.slots)));
    const release = pause
      ? Promise.all(startSettled).then(async () => {
          pauseUsed = await pause!.release();
          log(`writes resumed after ${pauseUsed} ms`);
        })
      : Promise.resolve();
    await runLimited(tasks, parallel);
    await release;
  } catch (e) {
    failure ??= e;
  } finally {
    if (pause) pauseUsed ??= await pause.release();
  }

  /** One shard: its snapshot through runBackup, tried again from the shard's current owner when the source fails. */
  async function backUpShard(shard: ClusterShard, keep: Uint8Array, settle: () => void, out: ShardOutcome): Promise<ShardDone> {
    const maxAttempts = req.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      out.attempts = attempt;
      const current = attempt === 1 ? shard : await currentShard(seed, shard);
      const node = await pickSource(current, shard, attempt);
      Object.assign(out, { source: node.address, role: node.role });
      const ep = endpointAt(seed, node.address);
      const strays = await countOutside(ep, keep);
      let started: { replid: string; offset: number; at: Date } | null = null;
      let seen = 0;
      const raw = new PassThrough({ highWaterMark: 1 << 20 });
      const fetched = fetchSnapshot(ep, raw, {
        onStarted: (p) => {
          started = { ...p, at: new Date() };
          settle();
          captures.push(captureClaims(seed, layout, shardOf).then((c) => void claims.push(c)));
        },
        onProgress: (bytes) => {
          plainBytes += bytes - seen;
          seen = bytes;
          req.onProgress?.({ shardsDone, shards: layout.shards.length, plainBytes });
        },
      });
      fetched.then(() => raw.end(), (e: unknown) => raw.destroy(e as Error));
      // Keys outside the shard's slots are cut out only when the node holds some (counted before the fork: such slots gain no keys).
      const filter = strays > 0 ? filterRdbBySlots(raw, keep, `RDB from ${ep.display}`) : null;
      const opened: OpenedSource = {
        kind: 'replication',
        location: ep.display,
        stream: filter?.output ?? raw,
        done: Promise.all([fetched, filter?.result]).then(() => {}),
      };
      opened.done.catch(() => {});
      log(`shard #${shard.index} (slots ${formatRanges(shard.slots)}): RDB from ${node.role} ${node.address}${strays ? ` (${strays} keys of other slots to leave out)` : ''}${attempt > 1 ? `, try ${attempt}` : ''}`);
      const outcome = await runBackup({ ...req, source: ep.display, opened, part: { stem: shardStemFor(stem, shard.index) }, retention: undefined, onProgress: undefined });
      const snap = started as { replid: string; offset: number; at: Date } | null;
      // A target that failed only misses the set (see below); the source must have delivered.
      if (snap && !outcome.error && outcome.targets.some((t) => t.ok)) {
        if (pause && snap.at.getTime() >= pause.started + pause.requestedMs) {
          throw new IoError(`the snapshot started ${snap.at.getTime() - pause.started} ms after the pause began, past --pause-writes ${pause.requestedMs}: not one instant; give a longer pause`);
        }
        const dropped = filter ? (await filter.result).dropped : 0;
        Object.assign(out, { object: outcome.object!, keys: outcome.manifest!.keys.total, droppedKeys: dropped, snapshotAt: snap.at.toISOString() });
        return { shard, node, outcome, replid: snap.replid, offset: snap.offset, snapshotAt: snap.at, dropped, attempts: attempt };
      }
      await removeShard(stores, stem, shard.index, req);
      const why = outcome.error ?? outcome.targets.find((t) => !t.ok)?.error ?? 'failed';
      // The source broke (a failover, a restart): ask the shard's owner again. A store or data failure is final.
      const sourceFailed = outcome.error !== undefined && outcome.exitCode === ExitCode.IO;
      if (!sourceFailed || attempt >= maxAttempts || pause) throw new ToolError(`${node.address}: ${why}`, outcome.exitCode as ToolError['exitCode']);
      log(`shard #${shard.index}: ${node.address} failed (${why}); asking the cluster for the shard's owner again`);
      await sleep(1000 * attempt);
    }
  }

  /**
   * The node to take the RDB from: with --prefer-replica a replica whose own INFO says its link is
   * up and synced (gossiped health lags), caught up with its paused master in a pause; else the master.
   */
  async function pickSource(current: ClusterShard, original: ClusterShard, attempt: number): Promise<ClusterNode> {
    const fallBack = (): ClusterNode => {
      if (!current.master.healthy && attempt === 1) throw new IoError(`shard #${original.index}: master ${current.master.address} is not healthy`);
      return current.master;
    };
    if (!req.preferReplica) return fallBack();
    const want = pause?.offsets.get(current.master.address);
    for (const replica of current.replicas) {
      const c = await RedisClient.connect(endpointAt(seed, replica.address), { connectTimeoutMs: 3000 }).catch(() => null);
      if (!c) continue;
      try {
        for (;;) {
          const info = await c.info('replication');
          if (info.master_link_status !== 'up' || info.master_sync_in_progress !== '0') break;
          // In a pause the replica must hold every write its master took before it.
          if (!pause || (want !== undefined && Number(info.slave_repl_offset ?? info.master_repl_offset ?? -1) >= want)) return replica;
          if (Date.now() > pause.started + pause.requestedMs / 2) {
            log(`shard #${original.index}: replica ${replica.address} did not catch up with the paused master in time`);
            break;
          }
          await sleep(5);
        }
      } catch {
        // not usable; try the next, or the master
      } finally {
        c.close();
      }
    }
    log(`shard #${original.index}: no replica ready; taking the master`);
    return fallBack();
  }

  await Promise.all(captures).catch((e: unknown) => (failure ??= e));
  const ok = !failure && done.every(Boolean);
  let motion: number[] = [];
  if (ok) motion = slotsInMotion(claims);
  if (ok && motion.length && !pause) {
    failure = new IoError(
      `slots ${formatRanges(rangesOf(motion)).slice(0, 200)} were migrating between the shards' snapshots: their keys could be missed or doubled; nothing was stored. Run again after the migration, or with --pause-writes MS`,
    );
  }
  if (failure) {
    for (let i = 0; i < layout.shards.length; i++) await removeShard(stores, stem, i, req);
    const error = oneLine(failure);
    log(`cluster set ${stem} not stored: ${error}`);
    return {
      ok: false,
      exitCode: exitCodeOf(failure),
      object: null,
      manifest: null,
      set: null,
      shards,
      targets: req.targets.map((target) => ({ target, ok: false, error: `not stored: ${error}`, exitCode: exitCodeOf(failure) })),
      error,
    };
  }

  const parts = done as ShardDone[];
  const times = parts.map((p) => p.snapshotAt.getTime());
  const sum = (f: (m: NonNullable<BackupOutcome['manifest']>) => number): number => parts.reduce((a, p) => a + f(p.outcome.manifest!), 0);
  const first = parts[0]!.outcome.manifest!;
  const set: SetManifest = {
    format: 'tsredis-ops-backup-set/1',
    name: req.name,
    takenAt: takenAt.toISOString(),
    completedAt: new Date().toISOString(),
    source: { kind: 'cluster', location: seed.display, discoveredWith: layout.via },
    shards: parts.map(
      (p): SetShard => ({
        index: p.shard.index,
        slots: p.shard.slots,
        master: { id: p.shard.master.id, address: p.shard.master.address },
        replicas: p.shard.replicas.map((r) => ({ id: r.id, address: r.address })),
        source: { id: p.node.id, address: p.node.address, role: p.node.role },
        replid: p.replid,
        offset: p.offset,
        redisVersion: p.outcome.manifest!.redisVersion,
        snapshotAt: p.snapshotAt.toISOString(),
        object: p.outcome.object!,
        manifest: manifestNameFor(shardStemFor(stem, p.shard.index)),
        keys: p.outcome.manifest!.keys.total,
        droppedKeys: p.dropped,
        attempts: p.attempts,
      }),
    ),
    snapshotSpreadMs: Math.max(...times) - Math.min(...times),
    consistency: pause ? 'paused-instant' : 'per-shard',
    pause: pause ? { requestedMs: pause.requestedMs, usedMs: pauseUsed ?? 0 } : null,
    migratingSlots: rangesOf(motion),
    keys: { total: sum((m) => m.keys.total) },
    plain: { size: sum((m) => m.plain.size) },
    stored: { size: sum((m) => m.stored.size) },
    compression: first.compression,
    encryption: first.encryption,
    tool: { name: 'tsredis-ops', version: toolVersion },
  };

  // Per target: the set manifest only where every shard verified.
  const targets: TargetOutcome[] = await Promise.all(
    stores.map(async (store, i): Promise<TargetOutcome> => {
      const target = req.targets[i]!;
      const o: TargetOutcome = { target, ok: false };
      const bad = parts.map((p) => p.outcome.targets[i]!).find((t) => !t.ok);
      if (bad) {
        for (const p of parts) await removeShard([store], stem, p.shard.index, req);
        return Object.assign(o, { error: `set not stored here: ${bad.error ?? 'a shard failed'}`, exitCode: bad.exitCode ?? ExitCode.IO });
      }
      try {
        await store.put(setFile, Readable.from([setManifestBytes(set)]), { contentType: 'application/json' });
        await writeMarker(store, req.name, setFile, set.takenAt, '');
        Object.assign(o, { ok: true, verifiedBy: parts[0]!.outcome.targets[i]!.verifiedBy });
        log(`${store.describe()}: stored set ${setFile} (${parts.length} shards, ${set.keys.total} keys)`);
      } catch (e) {
        return Object.assign(o, { error: oneLine(e), exitCode: exitCodeOf(e) });
      }
      await afterStored(store, o, req, log);
      return o;
    }),
  );
  const failed = targets.find((t) => !t.ok);
  const exitCode = failed ? (failed.exitCode ?? ExitCode.IO) : ExitCode.OK;
  return {
    ok: exitCode === ExitCode.OK,
    exitCode,
    object: setFile,
    manifest: null,
    set,
    shards,
    targets,
  };
}

/** The cluster's layout, refused unless the seed is a cluster node and the cluster is ok. */
async function readLayout(seed: RedisEndpoint): Promise<ClusterLayout> {
  const c = await RedisClient.connect(seed).catch((e: unknown) => {
    throw e instanceof ToolError ? e : new IoError(`${seed.display}: ${oneLine(e)}`);
  });
  try {
    if ((await c.info('cluster')).cluster_enabled !== '1') throw new UsageError(`${seed.display} is not a Redis Cluster node (cluster_enabled:0): back it up without --cluster`);
    const state = /cluster_state:(\w+)/.exec(await c.text('CLUSTER', 'INFO'))?.[1];
    const layout = await discoverShards(seed, c);
    if (state !== 'ok' || layout.unassigned > 0) {
      throw new IoError(`${seed.display}: cluster_state:${state ?? '?'}${layout.unassigned ? `, ${layout.unassigned} slots unassigned` : ''}: a set would miss keys; fix the cluster first`);
    }
    return layout;
  } finally {
    c.close();
  }
}

/** The shard serving `original`'s first slot now (after a failover: the promoted replica's). */
async function currentShard(seed: RedisEndpoint, original: ClusterShard): Promise<ClusterShard> {
  const addresses = [original.master, ...original.replicas].map((n) => n.address);
  for (const address of addresses) {
    const c = await RedisClient.connect(endpointAt(seed, address), { connectTimeoutMs: 3000 }).catch(() => null);
    if (!c) continue;
    try {
      const layout = await discoverShards(seed, c);
      const slot = original.slots[0]![0];
      const now = layout.shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
      if (now) return now;
    } catch {
      // another node may know better
    } finally {
      c.close();
    }
  }
  throw new IoError(`shard #${original.index}: no node of the shard answers`);
}

/** Keys the node holds in slots outside `keep` (CLUSTER COUNTKEYSINSLOT, pipelined); -1 when it cannot tell. */
async function countOutside(ep: RedisEndpoint, keep: Uint8Array): Promise<number> {
  const c = await RedisClient.connect(ep);
  try {
    const replies: Array<Promise<unknown>> = [];
    for (let s = 0; s < 16384; s++) if (!keep[s]) replies.push(c.send('CLUSTER', 'COUNTKEYSINSLOT', s));
    let total = 0;
    for (const r of await Promise.all(replies)) {
      if (r instanceof RespError) return -1;
      total += Number(r);
    }
    return total;
  } finally {
    c.close();
  }
}

/** Removes a shard's object and manifest from the stores (a failed set leaves nothing behind). */
async function removeShard(stores: BackupStore[], stem: string, index: number, req: Pick<BackupRequest, 'compression' | 'encryption'>): Promise<void> {
  const shardStem = shardStemFor(stem, index);
  const files = [manifestNameFor(shardStem), objectNameFor(shardStem, req.compression === 'gzip', req.encryption.mode !== 'none')];
  for (const store of stores) {
    for (const f of files) if (await store.head(f).catch(() => null)) await store.delete(f).catch(() => {});
  }
}

/** Runs the tasks, at most `limit` at a time. */
async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}
