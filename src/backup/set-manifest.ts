import { ExitCode, ToolError } from '../util/errors.js';
import { readJsonFile, type BackupManifest } from './manifest.js';
import type { BackupStore } from './store/store.js';

/** A shard of a set: where its RDB came from and the backup (object + manifest) that holds it. */
export interface SetShard {
  index: number;
  slots: Array<[number, number]>;
  master: { id: string; address: string };
  replicas: Array<{ id: string; address: string }>;
  /** The node the RDB was taken from (a replica with --prefer-replica, the new owner after a failover). */
  source: { id: string; address: string; role: 'master' | 'replica' };
  replid: string;
  offset: number;
  redisVersion: string | null;
  /** When the node forked for our sync (+FULLRESYNC received). */
  snapshotAt: string;
  object: string;
  manifest: string;
  keys: number;
  /** Keys in the node's RDB whose slot the shard did not serve at snapshot time (left out). */
  droppedKeys: number;
  attempts: number;
}

/**
 * The manifest of a cluster set, written last on a target, after every shard's object and
 * manifest verified there: a set without it is not a backup (its shard files are debris).
 */
export interface SetManifest {
  format: 'tsredis-ops-backup-set/1';
  name: string;
  takenAt: string;
  completedAt: string;
  source: { kind: 'cluster'; location: string; discoveredWith: string };
  shards: SetShard[];
  /** Milliseconds between the first and the last shard's snapshot start. */
  snapshotSpreadMs: number;
  /** What the set guarantees (README "Cluster backups"). */
  consistency: 'paused-instant' | 'per-shard';
  /** `from`: every master had paused; `until`: CLIENT UNPAUSE was sent (this host's clock). */
  pause: { requestedMs: number; usedMs: number; from: string; until: string } | null;
  /** Slots that were migrating while the snapshots started (only with a pause: keys taken from both sides). */
  migratingSlots: Array<[number, number]>;
  keys: { total: number };
  plain: { size: number };
  stored: { size: number };
  compression: BackupManifest['compression'];
  encryption: BackupManifest['encryption'];
  tool: BackupManifest['tool'];
}

export function setManifestBytes(m: SetManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

export async function readSetManifest(store: BackupStore, file: string): Promise<SetManifest> {
  const m = await readJsonFile<SetManifest>(store, file, 'set manifest');
  if (m.format !== 'tsredis-ops-backup-set/1' || !Array.isArray(m.shards) || m.shards.length === 0) {
    throw new ToolError(`${store.describe()}/${file}: not a tsredis-ops set manifest`, ExitCode.DATA);
  }
  return m;
}

/**
 * The set as one catalog line: list, prune and restore's selection see a set like any backup
 * (its object is the set manifest; sizes and key counts are the shards' sums).
 */
export function summaryOf(file: string, m: SetManifest, shards: BackupManifest[]): BackupManifest {
  const perDb: Record<string, number> = {};
  for (const s of shards) for (const [db, n] of Object.entries(s.keys.perDb)) perDb[db] = (perDb[db] ?? 0) + n;
  return {
    format: 'tsredis-ops-backup/1',
    name: m.name,
    object: file,
    takenAt: m.takenAt,
    completedAt: m.completedAt,
    source: { kind: 'cluster', location: m.source.location },
    redisVersion: shards[0]?.redisVersion ?? null,
    rdbVersion: shards[0]?.rdbVersion ?? 0,
    keys: { total: m.keys.total, perDb },
    plain: { size: m.plain.size, sha256: '', sha1: '' },
    stored: { size: m.stored.size, sha256: '' },
    compression: m.compression,
    encryption: m.encryption,
    tool: m.tool,
  };
}
