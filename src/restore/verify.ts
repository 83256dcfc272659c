import { decodeDump } from '../codec/rdb/dump.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { formatG17 } from '../codec/rdb/format-g17.js';
import type { RedisValue } from '../codec/rdb/model.js';
import { encodeCommand } from '../codec/resp/encoder.js';
import { RespError, type RespValue } from '../codec/resp/types.js';
import type { RedisClient } from '../net/redis-client.js';
import type { ClusterTopology } from './cluster-topology.js';
import { mapDb, type DbMap } from './db-map.js';
import { keySlot } from './hash-slot.js';
import { showKey } from './key-name.js';
import { NodePool } from './node-pool.js';
import { readBackup, type RestorePlan } from './plan.js';
import { dropUnrepresentable, unrepresentable, type KeyPolicy } from './prepare-key.js';
import type { TargetInfo } from './target.js';
import { formatShortest } from './value-digest.js';
import { dumpPrint } from './content-print.js';
import { DigestSink } from './digest-sink.js';
import { valueDifference } from './value-equal.js';
import type { ReplyHandler } from './restore-pipe.js';

export interface VerifyReport {
  method: 'digest' | 'dump';
  /** Per target db: keys expected from the backup, keys the target holds. */
  counts: Array<{ db: number; expected: number; actual: number; ok: boolean }>;
  checked: number;
  /** Of the checked keys (digest method), the big aggregates compared by content print with the target's DUMP. */
  byContent: number;
  mismatched: number;
  mismatches: Array<{ db: number; key: string; reason: string }>;
  ok: boolean;
}

interface VerifyInput {
  rdbPath: string;
  pool: NodePool;
  topology: ClusterTopology | null;
  masters: string[];
  info: TargetInfo;
  policy: KeyPolicy;
  dbMap: DbMap;
  plan: RestorePlan;
  /** `db\0key` of keys restore did not write (conflicts, failures): not compared. */
  skip: Set<string>;
  sample?: number;
}

const BATCH = 256;
const MAX_LISTED = 1000;
/** DUMP checks of big keys on their way at once (one printed, one arriving). */
const MAX_DUMPS = 2;

/** The score text the target's DIGEST-VALUE hashes (Redis 7.2 switched to shortest round-trip digits), and whether it has PEXPIRETIME (7.0). */
export function targetFormats(info: TargetInfo): { scoreFormat: (x: number) => string; hasExpireTime: boolean } {
  const [major, minor] = info.server.version.split('.').map(Number) as [number, number];
  const valkey = info.server.flavor === 'valkey';
  return { scoreFormat: valkey || major > 7 || (major === 7 && minor >= 2) ? formatShortest : formatG17, hasExpireTime: valkey || major >= 7 };
}

/**
 * Per target db: keys expected from the plan (less `skip`), keys the target holds (summed over
 * masters). Keys the target held before are not ours to judge: fewer than restored is the failure.
 */
async function countKeys(v: Pick<VerifyInput, 'pool' | 'masters' | 'plan' | 'skip'>): Promise<VerifyReport['counts']> {
  const expected = new Map<number, number>();
  for (const d of v.plan.dbs) expected.set(d.to, (expected.get(d.to) ?? 0) + d.keys);
  for (const s of v.skip) {
    const db = Number(s.slice(0, s.indexOf('\0')));
    expected.set(db, (expected.get(db) ?? 0) - 1);
  }
  const counts: VerifyReport['counts'] = [];
  for (const [db, exp] of [...expected].sort((a, b) => a[0] - b[0])) {
    let actual = 0;
    for (const m of v.masters) {
      const c = await v.pool.control(m);
      await c.call('SELECT', db);
      actual += Number(await c.call('DBSIZE'));
    }
    counts.push({ db, expected: exp, actual, ok: actual >= exp });
  }
  return counts;
}

/** Why a DIGEST-VALUE reply `got` is not one of `want` (null: matches, or not digestable here: covered by the count). */
function digestDifference(want: string[] | null, got: string): string | null {
  if (want === null) return null;
  if (/^0+$/.test(got)) return 'missing on the target';
  return want.includes(got) ? null : `DEBUG DIGEST-VALUE ${got}, expected ${want[0]}`;
}

/**
 * What a key restored online is compared with: its expected digests (null: not digestable), or
 * for a big aggregate its content print (compared with the target's DUMP), and its expiry.
 */
export interface KeyCheck {
  want: string[] | null;
  print: string | null;
  expireAtMs: number | null;
}

/** Why the target's DUMP of a key (null: none) does not hold the content `print` describes; null when it does. */
async function printDifference(print: string, payload: Buffer[] | null, key: Buffer): Promise<string | null> {
  if (payload === null) return 'missing on the target';
  try {
    const got = await dumpPrint(payload, `DUMP of ${showKey(key)}`);
    return got === print ? null : `DUMP holds ${got ?? 'a value without elements'}, expected ${print}`;
  } catch (e) {
    return `target DUMP unreadable: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * restore --verify without a second read: DEBUG DIGEST-VALUE (a big aggregate: DUMP) and the
 * TTL of each key are pipelined on the key's connection right behind its write (so the server
 * digests it as soon as it is written, while this thread reads on), and compared with the digests
 * or prints the restore's one read computed (DigestSink) as the replies come in. DUMP payloads are
 * printed one at a time, in reply order; the read waits (ready()) while two are on their way, so
 * at most that many big values are held whatever the pipeline window.
 */
export class LiveChecks {
  checked = 0;
  mismatched = 0;
  /** Keys compared by content print (DUMP). */
  byContent = 0;
  readonly mismatches: VerifyReport['mismatches'] = [];
  /** The DUMP prints and their verdicts, chained. */
  private printed: Promise<void> = Promise.resolve();
  /** DUMP checks sent and not yet judged, and what waits for fewer. */
  private dumps = 0;
  private dumpWaiters: Array<() => void> = [];

  constructor(private readonly hasExpireTime: boolean) {}

  /** The check's two commands for `key`. */
  frames(key: Buffer, check: KeyCheck): Buffer {
    const content = check.print !== null ? encodeCommand(['DUMP', key]) : encodeCommand(['DEBUG', 'DIGEST-VALUE', key]);
    return Buffer.concat([content, encodeCommand([this.hasExpireTime ? 'PEXPIRETIME' : 'PTTL', key])]);
  }

  /**
   * Handlers for the two replies (the first takes a DUMP's bytes when the check has a print);
   * `written()` (asked once they arrive) says whether the write they follow took effect.
   */
  handlers(db: number, key: Buffer, check: KeyCheck, written: () => boolean): [ReplyHandler, ReplyHandler] {
    if (check.print !== null) this.dumps++;
    const settled = (): void => {
      if (check.print !== null && --this.dumps < MAX_DUMPS) for (const w of this.dumpWaiters.splice(0)) w();
    };
    let why: string | null = null;
    let payload: Buffer[] | null = null;
    const content: ReplyHandler = (ok, text, bulk) => {
      if (!ok) why = `target error: ${text}`;
      else if (check.print === null) why = digestDifference(check.want, text);
      else payload = bulk ?? null;
    };
    const ttl: ReplyHandler = (ok, text) => {
      if (!written()) return settled(); // a conflict, a failure or a redirect: not ours, or checked after the retry
      this.checked++;
      const ttlWhy = ok ? ttlDifference(check.expireAtMs, Number(text), this.hasExpireTime) : `target error: ${text}`;
      if (why !== null || check.print === null) {
        settled();
        return this.judge(db, key, why ?? ttlWhy);
      }
      this.byContent++;
      const print = check.print;
      const dumped = payload;
      this.printed = this.printed.then(async () => {
        this.judge(db, key, (await printDifference(print, dumped, key)) ?? ttlWhy);
        settled();
      });
    };
    return [content, ttl];
  }

  /** A promise to wait on before reading on, while MAX_DUMPS DUMP checks are on their way; else null. */
  ready(): Promise<void> | null {
    return this.dumps < MAX_DUMPS ? null : new Promise((resolve) => this.dumpWaiters.push(resolve));
  }

  private judge(db: number, key: Buffer, why: string | null): void {
    if (why === null) return;
    this.mismatched++;
    if (this.mismatches.length < MAX_LISTED) this.mismatches.push({ db, key: showKey(key), reason: why });
  }

  /** The report, once every DUMP is printed, with the key counts read now. */
  async report(v: Pick<VerifyInput, 'pool' | 'masters' | 'plan' | 'skip'>): Promise<VerifyReport> {
    await this.printed;
    const counts = await countKeys(v);
    return { method: 'digest', counts, checked: this.checked, byContent: this.byContent, mismatched: this.mismatched, mismatches: this.mismatches, ok: this.mismatched === 0 && counts.every((c) => c.ok) };
  }
}

/**
 * Reads the target back: per-db key counts, then per key (all, or every n-th for a sample of
 * about `sample`) DEBUG DIGEST-VALUE against the digest of the backup's value where DEBUG is
 * allowed, else DUMP decoded and compared field by field; the TTL is compared too.
 */
export async function verifyRestore(v: VerifyInput): Promise<VerifyReport> {
  const method: VerifyReport['method'] = v.info.debugDigest ? 'digest' : 'dump';
  const { scoreFormat, hasExpireTime } = targetFormats(v.info);
  const clientFor = (addr: string): Promise<RedisClient> => v.pool.control(addr);
  const report: VerifyReport = { method, counts: [], checked: 0, byContent: 0, mismatched: 0, mismatches: [], ok: true };
  const mismatch = (db: number, key: Buffer, reason: string): void => {
    report.mismatched++;
    if (report.mismatches.length < MAX_LISTED) report.mismatches.push({ db, key: showKey(key), reason });
  };
  report.counts = await countKeys(v);
  if (report.counts.some((c) => !c.ok)) report.ok = false;

  // A batch keeps each key's expected digest (digest method) or its decoded value (DUMP method).
  let batch: Array<{ db: number; key: Buffer; want: string[] | null; print: string | null; value: RedisValue | null; expireAtMs: number | null; replies: Promise<RespValue>[] }> = [];
  const flush = async (): Promise<void> => {
    for (const item of batch) {
      const replies = await Promise.all(item.replies);
      report.checked++;
      const err = replies.find((r): r is RespError => r instanceof RespError);
      if (err) {
        mismatch(item.db, item.key, `target error: ${err.message}`);
        continue;
      }
      const [body, ttl] = replies.slice(-2);
      if (body === null) {
        mismatch(item.db, item.key, 'missing on the target');
        continue;
      }
      if (item.print !== null) report.byContent++;
      const why =
        item.print !== null
          ? await printDifference(item.print, Buffer.isBuffer(body) ? [body] : null, item.key)
          : method === 'digest'
            ? digestDifference(item.want, Array.isArray(body) ? String(body[0]) : String(body))
            : await dumpDifference(item, body);
      if (why) {
        mismatch(item.db, item.key, why);
        continue;
      }
      const ttlWhy = ttlDifference(item.expireAtMs, Number(ttl), hasExpireTime);
      if (ttlWhy) mismatch(item.db, item.key, ttlWhy);
    }
    batch = [];
  };
  const dumpDifference = async (item: (typeof batch)[number], body: RespValue): Promise<string | null> => {
    if (!Buffer.isBuffer(body)) return 'DUMP gave no payload';
    return valueDifference(item.value!, (await decodeDump(body, showKey(item.key))).value);
  };

  const every = v.sample && v.sample > 0 ? Math.max(1, Math.floor(v.plan.keys / v.sample)) : 1;
  let n = 0;
  const check = async (db: number, key: Buffer, expireAtMs: number | null, want: string[] | null, print: string | null, value: RedisValue | null): Promise<void> => {
    if (n++ % every !== 0) return;
    const addr = v.topology ? v.topology.masterFor(keySlot(key)) : v.masters[0]!;
    const c = await clientFor(addr);
    const replies = [
      c.send('SELECT', db),
      method === 'digest' && print === null ? c.send('DEBUG', 'DIGEST-VALUE', key) : c.send('DUMP', key),
      hasExpireTime ? c.send('PEXPIRETIME', key) : c.send('PTTL', key),
    ];
    batch.push({ db, key, want, print, value, expireAtMs, replies });
    if (batch.length >= BATCH) await flush();
  };
  const skipped = (db: number, key: Buffer): boolean => v.skip.size > 0 && v.skip.has(`${db}\0${key.toString('latin1')}`);

  if (method === 'digest') {
    // Digests straight from the reader's elements: no decoded value, so a big key costs two
    // 20-byte digests, not its elements (and no payload round trip).
    const sink = new DigestSink(
      scoreFormat,
      (db, key, expireAtMs) => (expireAtMs === null || expireAtMs > v.policy.now) && !skipped(mapDb(v.dbMap, db), key),
      (value) => (!unrepresentable(value, v.policy.targetRdb) ? value : v.policy.lossy ? dropUnrepresentable(value, v.policy.now) : null),
    );
    const dec = new RdbDecoder(ByteSource.fromFile(v.rdbPath), { sink, verifyChecksum: true });
    for (let more = true; more; ) {
      more = (await dec.nextBatch(4096)) !== null;
      for (const k of sink.take()) await check(mapDb(v.dbMap, k.db), k.key, k.expireAtMs, k.want, k.print, null);
    }
  } else {
    // DUMP compares field by field: decoded values from the reader.
    for await (const recs of readBackup(v.rdbPath, false)) for (const rec of recs) {
      if (rec.kind !== 'key') continue;
      const k = rec.entry;
      if (k.expireAtMs !== null && k.expireAtMs <= v.policy.now) continue;
      let value = k.value!;
      delete k.value; // the reader's batch outlives this key: its value goes with `value`
      if (unrepresentable(value, v.policy.targetRdb)) {
        const kept = v.policy.lossy ? dropUnrepresentable(value, v.policy.now) : null;
        if (!kept) continue;
        value = kept;
      }
      const db = mapDb(v.dbMap, k.db);
      if (skipped(db, k.key)) continue;
      await check(db, k.key, k.expireAtMs, null, null, value);
    }
  }
  await flush();
  if (report.mismatched > 0) report.ok = false;
  return report;
}

/** PEXPIRETIME must match exactly; PTTL (before 7.0) within a second of the expected remaining time. */
function ttlDifference(expireAtMs: number | null, got: number, absolute: boolean): string | null {
  if (expireAtMs === null) return got === -1 ? null : `has a TTL (${got}) but the backup has none`;
  if (absolute) return got === expireAtMs ? null : `expires at ${got}, expected ${expireAtMs}`;
  const want = expireAtMs - Date.now();
  return got >= 0 && Math.abs(got - want) < 1000 ? null : `PTTL ${got}, expected about ${want}`;
}

