import { createRequire } from 'node:module';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisClient } from '../net/redis-client.js';
import { parseRedisUrl } from '../net/redis-url.js';
import { fetchSnapshot } from '../replica/snapshot.js';
import { ExitCode, IoError, RefusedError, ToolError, UsageError, oneLine } from '../util/errors.js';
import {
  countOutside,
  currentShard,
  endpointAt,
  formatRanges,
  masterOffsets,
  rangesOf,
  readLayout,
  type ClusterNode,
  type ClusterShard,
} from './cluster-shards.js';
import { captureClaims, claimedRanges, slotsInMotion, type SlotClaims } from './slot-claims.js';
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

interface ShardPlan {
  node: ClusterNode;
  keep: Uint8Array;
  strays: number;
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
  let offsets = new Map<string, number>();
  let resumed: Promise<void> = Promise.resolve();
  let pauseUsed: number | null = null;
  let failure: unknown = null;
  let plainBytes = 0;
  let shardsDone = 0;

  const paused = req.pauseWritesMs !== undefined;
  /**
   * The keys a shard's RDB keeps: the slots its master claims in `c` and, in a pause (no key moves
   * then), the slots it is importing: the keys MIGRATE already moved there, and only there (the
   * migrating side keeps the rest).
   */
  const keepFrom = (c: SlotClaims, s: ClusterShard): Uint8Array => {
    const keep = new Uint8Array(16384);
    for (const [a, b] of c.claimed.has(s.index) ? claimedRanges(c, s.index) : s.slots) keep.fill(1, a, b + 1);
    if (paused) for (const slot of c.importing.get(s.index) ?? []) keep[slot] = 1;
    return keep;
  };
  /** A shard's source node, its keep map and the keys that node holds outside it (-1: filter anyway). */
  const planShard = async (current: ClusterShard, original: ClusterShard, c: SlotClaims, attempt: number): Promise<ShardPlan> => {
    const keep = keepFrom(c, original);
    const node = await pickSource(current, original, attempt);
    return { node, keep, strays: await countOutside(endpointAt(seed, node.address), keep) };
  };

  try {
    if (paused) {
      const sources = layout.shards.flatMap((s) => (req.preferReplica ? [s.master, ...s.replicas] : [s.master]));
      const delay = await forkDelayMs(sources.map((node) => endpointAt(seed, node.address)));
      if (delay.ms >= req.pauseWritesMs!) {
        throw new UsageError(
          `--pause-writes ${req.pauseWritesMs} is too short: ${delay.node} forks for a diskless sync only after repl-diskless-sync-delay (${delay.ms / 1000} s); set repl-diskless-sync-delay 0 on the nodes (or repl-diskless-sync no), or pause longer`,
        );
      }
    }
    // The slot map at snapshot: what each master claims right before (not the layout read at the
    // start: a migration may have finished since). Sources and stray counts are settled on it
    // before any pause, so a pause only covers what must be inside it.
    const pre = await captureClaims(seed, layout, shardOf);
    offsets = req.preferReplica ? await masterOffsets(seed, layout) : new Map();
    const plans = await Promise.all(layout.shards.map((s) => planShard(s, s, pre, 1)));
    if (paused) {
      pause = await pauseWrites(
        layout.shards.map((s) => ({ address: s.master.address, ep: endpointAt(seed, s.master.address), first: pre.migrating.has(s.index) })),
        req.pauseWritesMs!,
      );
      log(`writes paused on ${n} masters (CLIENT PAUSE ${req.pauseWritesMs} WRITE)`);
      claims.push(await captureClaims(seed, layout, shardOf));
      offsets = pause.offsets;
      const deadline = pause.started + pause.requestedMs / 2;
      await Promise.all(
        layout.shards.map(async (s, i) => {
          const plan = plans[i]!;
          // A map that changed since the count, or a replica not holding its paused master's writes: filter (or take the master).
          const keep = keepFrom(claims[0]!, s);
          if (Buffer.compare(keep, plan.keep) !== 0) plans[i] = { ...plan, keep, strays: -1 };
          if (plan.node.role === 'replica' && !(await replicaReady(plan.node, offsets.get(s.master.address), deadline))) {
            log(`shard #${s.index}: replica ${plan.node.address} did not catch up with its paused master in time; taking the master`);
            plans[i] = { node: s.master, keep, strays: -1 };
          }
        }),
      );
    } else claims.push(pre);
    for (const s of layout.shards) if (claims[0]!.claimed.has(s.index)) s.slots = claimedRanges(claims[0]!, s.index);

    // Every shard's snapshot must start before the pause is lifted; the rest of the transfer runs unpaused.
    const startSettled: Array<Promise<unknown>> = [];
    const tasks = layout.shards.map((shard) => {
      let settle!: () => void;
      startSettled.push(new Promise<void>((r) => (settle = r)));
      return async (): Promise<void> => {
        const out = shards[shard.index]!;
        try {
          done[shard.index] = await backUpShard(shard, plans[shard.index]!, settle, out);
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
    resumed = pause
      ? Promise.all(startSettled).then(async () => {
          pauseUsed = await pause!.release();
          log(`writes resumed after ${pauseUsed} ms`);
        })
      : Promise.resolve();
    await runLimited(tasks, parallel);
    await resumed;
  } catch (e) {
    failure ??= e;
  } finally {
    if (pause) pauseUsed ??= await pause.release();
  }

  /** One shard: its snapshot through runBackup, tried again from the shard's current owner when the source fails. */
  async function backUpShard(shard: ClusterShard, first: ShardPlan, settle: () => void, out: ShardOutcome): Promise<ShardDone> {
    const maxAttempts = req.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      out.attempts = attempt;
      const { node, keep, strays } = attempt === 1 ? first : await planShard(await currentShard(seed, shard), shard, claims[0]!, attempt);
      Object.assign(out, { source: node.address, role: node.role });
      const ep = endpointAt(seed, node.address);
      let started: { replid: string; offset: number; at: Date } | null = null;
      let seen = 0;
      const raw = new PassThrough({ highWaterMark: 1 << 20 });
      const fetched = fetchSnapshot(ep, raw, {
        onStarted: (p) => {
          started = { ...p, at: new Date() };
          const into = pause ? started.at.getTime() - pause.started : 0;
          if (pause) log(`shard #${shard.index}: snapshot started ${into} ms into the pause`);
          // Too late for the instant: stop now rather than after the whole transfer.
          if (pause && into >= pause.requestedMs) raw.destroy(lateStart(into, pause.requestedMs));
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
      const filter = strays !== 0 ? filterRdbBySlots(raw, keep, `RDB from ${ep.display}`) : null;
      const opened: OpenedSource = {
        kind: 'replication',
        location: ep.display,
        stream: filter?.output ?? raw,
        done: Promise.all([fetched, filter?.result]).then(() => {}),
      };
      opened.done.catch(() => {});
      // Until runBackup reads them (after a pause) a failure is kept by the streams and `done`, not thrown as an event.
      raw.on('error', () => {});
      opened.stream.on('error', () => {});
      log(`shard #${shard.index} (slots ${formatRanges(shard.slots)}): RDB from ${node.role} ${node.address}${strays > 0 ? ` (${strays} keys of other slots to leave out)` : strays < 0 ? ' (keys of other slots left out)' : ''}${attempt > 1 ? `, try ${attempt}` : ''}`);
      // In a pause the pipeline (its worker thread, its first reads) waits until writes resumed:
      // the pause lasts only as long as this process takes to see every fork, and no longer.
      if (pause) await resumed;
      const outcome = await runBackup({ ...req, source: ep.display, opened, part: { stem: shardStemFor(stem, shard.index) }, retention: undefined, onProgress: undefined });
      const snap = started as { replid: string; offset: number; at: Date } | null;
      // A target that failed only misses the set (see below); the source must have delivered.
      if (snap && !outcome.error && outcome.targets.some((t) => t.ok)) {
        if (pause && snap.at.getTime() >= pause.started + pause.requestedMs) throw lateStart(snap.at.getTime() - pause.started, pause.requestedMs);
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
   * up and synced (gossiped health lags) and that holds its master's offset as of the slot map:
   * from then on a master's foreign slots only lose keys, so the replica's do too, and the stray
   * count taken on it holds until its fork. Else the master.
   */
  async function pickSource(current: ClusterShard, original: ClusterShard, attempt: number): Promise<ClusterNode> {
    const deadline = Date.now() + 5000;
    if (req.preferReplica) {
      for (const replica of current.replicas) if (await replicaReady(replica, offsets.get(current.master.address), deadline)) return replica;
      log(`shard #${original.index}: no replica ready; taking the master`);
    }
    if (!current.master.healthy && attempt === 1) throw new IoError(`shard #${original.index}: master ${current.master.address} is not healthy`);
    return current.master;
  }

  /** The replica's link is up, synced, and it has applied its master's stream up to `want` (waits until `deadline`). */
  async function replicaReady(replica: ClusterNode, want: number | undefined, deadline: number): Promise<boolean> {
    const c = await RedisClient.connect(endpointAt(seed, replica.address), { connectTimeoutMs: 3000 }).catch(() => null);
    if (!c) return false;
    try {
      for (;;) {
        const info = await c.info('replication');
        if (info.master_link_status !== 'up' || info.master_sync_in_progress !== '0') return false;
        if (want === undefined || Number(info.slave_repl_offset ?? info.master_repl_offset ?? -1) >= want) return true;
        if (Date.now() > deadline) return false;
        await sleep(5);
      }
    } catch {
      return false;
    } finally {
      c.close();
    }
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
    pause: pause
      ? { requestedMs: pause.requestedMs, usedMs: pauseUsed ?? 0, from: new Date(pause.allPaused).toISOString(), until: new Date(pause.resumedAt ?? Date.now()).toISOString() }
      : null,
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

function lateStart(into: number, ms: number): IoError {
  return new IoError(`the snapshot started ${into} ms after the pause began, past --pause-writes ${ms}: not one instant; give a longer pause`);
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
