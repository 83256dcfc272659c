import { RdbDecoder } from '../codec/rdb/reader.js';
import type { RdbKey, RdbRecord } from '../codec/rdb/model.js';
import { ByteSource } from '../util/byte-source.js';
import { RefusedError, UsageError } from '../util/errors.js';
import { mapDb, type DbMap } from './db-map.js';
import { showKey } from './key-name.js';
import { prepareFast, prepareKey, type KeyPolicy } from './prepare-key.js';

/** What a restore would do, from one read of the backup (checksum verified) before anything is sent. */
export interface RestorePlan {
  sourceRdb: number;
  keys: number;
  bytes: number;
  /** Per source db: where it goes, how many keys and bytes (expired keys excluded). */
  dbs: Array<{ db: number; to: number; keys: number; bytes: number }>;
  expired: number;
  /** Keys the target cannot hold (refused without --lossy). */
  unrepresentable: Array<{ db: number; key: string; reason: string }>;
  unrepresentableCount: number;
  /** Keys that lose something with --lossy. */
  lossy: Array<{ db: number; key: string; dropped: string }>;
  lossyCount: number;
  bigKeys: number;
  functions: Buffer[];
}

const LIST_CAP = 100;

/**
 * Every record of a plain RDB file, values kept raw (restore re-frames them), in batches: one
 * await per few thousand keys instead of one per key.
 */
export async function* readBackup(path: string): AsyncGenerator<RdbRecord[]> {
  const dec = new RdbDecoder(ByteSource.fromFile(path), { raw: true, verifyChecksum: true });
  for (;;) {
    const batch = await dec.nextBatch(4096);
    if (!batch) return;
    yield batch;
  }
}

export async function planRestore(path: string, policy: Omit<KeyPolicy, 'sourceRdb'>, dbMap: DbMap): Promise<RestorePlan> {
  const plan: RestorePlan = {
    sourceRdb: 0,
    keys: 0,
    bytes: 0,
    dbs: [],
    expired: 0,
    unrepresentable: [],
    unrepresentableCount: 0,
    lossy: [],
    lossyCount: 0,
    bigKeys: 0,
    functions: [],
  };
  const perDb = new Map<number, { db: number; to: number; keys: number; bytes: number }>();
  for await (const recs of readBackup(path)) for (const rec of recs) {
    if (rec.kind === 'header') plan.sourceRdb = rec.version;
    else if (rec.kind === 'function') plan.functions.push(rec.code);
    else if (rec.kind === 'key') {
      const k: RdbKey = rec.entry;
      const kp = { ...policy, sourceRdb: plan.sourceRdb };
      const prep = prepareFast(k, kp, true) ?? (await prepareKey(k, kp, true));
      if (prep.kind === 'expired') {
        plan.expired++;
        continue;
      }
      if (prep.kind === 'unrepresentable') {
        if (plan.unrepresentable.length < LIST_CAP) plan.unrepresentable.push({ db: k.db, key: showKey(k.key), reason: prep.reason });
        plan.unrepresentableCount++;
        continue;
      }
      if (prep.lossy) {
        if (plan.lossy.length < LIST_CAP) plan.lossy.push({ db: k.db, key: showKey(k.key), dropped: prep.lossy });
        plan.lossyCount++;
      }
      if (prep.kind === 'commands') plan.bigKeys++;
      let d = perDb.get(k.db);
      if (!d) perDb.set(k.db, (d = { db: k.db, to: mapDb(dbMap, k.db), keys: 0, bytes: 0 }));
      d.keys++;
      d.bytes += prep.bytes;
      plan.keys++;
      plan.bytes += prep.bytes;
    }
  }
  plan.dbs = [...perDb.values()].sort((a, b) => a.db - b.db);
  return plan;
}

/** Checks a plan against the target before anything is written. */
export function checkPlan(plan: RestorePlan, target: { cluster: boolean; databases: number; display: string }, lossy: boolean): void {
  for (const d of plan.dbs) {
    if (target.cluster && d.to !== 0) {
      throw new UsageError(
        `${target.display} is a Redis Cluster (db 0 only) but the backup has ${d.keys} keys in db ${d.db}: pass --db-map ${d.db}:0 (and so on for each db) to merge them into db 0`,
      );
    }
    if (d.to >= target.databases) throw new UsageError(`db ${d.db} maps to db ${d.to} but ${target.display} has ${target.databases} databases; use --db-map`);
  }
  if (plan.unrepresentableCount > 0 && !lossy) {
    const u = plan.unrepresentable[0]!;
    throw new RefusedError(
      `${plan.unrepresentableCount} key(s) cannot be represented on the target (first: db ${u.db} "${u.key}": ${u.reason}); nothing was written. Restore onto a newer server, or pass --lossy to restore them without it`,
    );
  }
}
