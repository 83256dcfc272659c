import { RdbDecoder } from '../codec/rdb/reader.js';
import type { RdbKey, RdbRecord } from '../codec/rdb/model.js';
import { ByteSource } from '../util/byte-source.js';
import { FormatError, RefusedError, UsageError } from '../util/errors.js';
import { Crc64 } from '../codec/rdb/crc64.js';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { mapDb, type DbMap } from './db-map.js';
import { showKey } from './key-name.js';
import { prepareFast, prepareKey, type KeyPolicy, type PreparedKey } from './prepare-key.js';

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
  /** Valkey RDB 81 UPDATE commands (forkless save): not replayed, so refused without --lossy. */
  updates?: number;
}

const LIST_CAP = 100;

/**
 * Every record of a plain RDB file, values kept raw (restore re-frames them) unless `raw` is
 * false, in batches: one
 * await per few thousand keys instead of one per key.
 */
export async function* readBackup(path: string, raw = true): AsyncGenerator<RdbRecord[]> {
  const dec = new RdbDecoder(ByteSource.fromFile(path), { raw, verifyChecksum: true });
  for (;;) {
    const batch = await dec.nextBatch(4096);
    if (!batch) return;
    yield batch;
  }
}

/** Accumulates a RestorePlan key by key (from a planning read, or during a restore). */
export class PlanBuilder {
  readonly plan: RestorePlan = {
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
  private readonly perDb = new Map<number, { db: number; to: number; keys: number; bytes: number }>();

  constructor(private readonly dbMap: DbMap) {}

  key(k: RdbKey, prep: PreparedKey): void {
    const plan = this.plan;
    if (prep.kind === 'expired') {
      plan.expired++;
      return;
    }
    if (prep.kind === 'unrepresentable') {
      if (plan.unrepresentable.length < LIST_CAP) plan.unrepresentable.push({ db: k.db, key: showKey(k.key), reason: prep.reason });
      plan.unrepresentableCount++;
      return;
    }
    if (prep.lossy) {
      if (plan.lossy.length < LIST_CAP) plan.lossy.push({ db: k.db, key: showKey(k.key), dropped: prep.lossy });
      plan.lossyCount++;
    }
    if (prep.kind === 'commands') plan.bigKeys++;
    let d = this.perDb.get(k.db);
    if (!d) this.perDb.set(k.db, (d = { db: k.db, to: mapDb(this.dbMap, k.db), keys: 0, bytes: 0 }));
    d.keys++;
    d.bytes += prep.bytes;
    plan.keys++;
    plan.bytes += prep.bytes;
  }

  finish(): RestorePlan {
    this.plan.dbs = [...this.perDb.values()].sort((a, b) => a.db - b.db);
    return this.plan;
  }
}

/** One read of the backup (CRC-64 checked) that says what a restore would do. */
export async function planRestore(path: string, policy: Omit<KeyPolicy, 'sourceRdb'>, dbMap: DbMap): Promise<RestorePlan> {
  const b = new PlanBuilder(dbMap);
  let kp: KeyPolicy = { ...policy, sourceRdb: 0 };
  for await (const recs of readBackup(path)) for (const rec of recs) {
    if (rec.kind === 'header') {
      b.plan.sourceRdb = rec.version;
      kp = { ...policy, sourceRdb: rec.version };
    } else if (rec.kind === 'function') b.plan.functions.push(rec.code);
    else if (rec.kind === 'update') b.plan.updates = (b.plan.updates ?? 0) + 1;
    else if (rec.kind === 'key') b.key(rec.entry, prepareFast(rec.entry, kp, true) ?? (await prepareKey(rec.entry, kp, true)));
  }
  return b.finish();
}

/**
 * The cheap pre-flight for restores that need no plan: the RDB version, and the whole file's
 * CRC-64 against its trailer, so a damaged backup is refused before anything is written.
 */
export async function checkRdbFile(path: string): Promise<{ version: number }> {
  const size = (await stat(path)).size;
  const head = Buffer.alloc(9);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 9, 0);
  } finally {
    await fh.close();
  }
  const magic = head.toString('latin1');
  const m = /^(?:REDIS(\d{4})|VALKEY(\d{3}))$/.exec(magic);
  if (!m) throw new FormatError(path, 0, `the RDB magic REDISnnnn or VALKEYnnn, found ${JSON.stringify(magic)}`);
  const version = Number(m[1] ?? m[2]);
  if (version < 5 || size < 17) return { version };
  const crc = new Crc64();
  let seen = 0;
  const body = size - 8;
  for await (const chunk of createReadStream(path, { start: 0, end: body - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    crc.update(chunk);
    seen += chunk.length;
  }
  const trailer = Buffer.alloc(8);
  const fh2 = await open(path, 'r');
  try {
    await fh2.read(trailer, 0, 8, body);
  } finally {
    await fh2.close();
  }
  const stored = trailer.readBigUInt64LE(0);
  if (seen === body && stored !== 0n && stored !== crc.value()) {
    throw new FormatError(path, body, `RDB checksum 0x${crc.value().toString(16).padStart(16, '0')} (computed over bytes 0-${body - 1}), found 0x${stored.toString(16).padStart(16, '0')}`);
  }
  return { version };
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
  if (plan.updates && !lossy) {
    throw new RefusedError(
      `the backup holds ${plan.updates} UPDATE command(s) of a Valkey forkless save (VALKEY081), which restore does not replay; nothing was written. Pass --lossy to restore the keys without them, or restore --to-dir for a Valkey 9.2 node (the file as it is)`,
    );
  }
  if (plan.unrepresentableCount > 0 && !lossy) {
    const u = plan.unrepresentable[0]!;
    throw new RefusedError(
      `${plan.unrepresentableCount} key(s) cannot be represented on the target (first: db ${u.db} "${u.key}": ${u.reason}); nothing was written. Restore onto a newer server, or pass --lossy to restore them without it`,
    );
  }
}
