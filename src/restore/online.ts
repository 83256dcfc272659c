import { createReadStream } from 'node:fs';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { RespError } from '../codec/resp/types.js';
import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { ByteSource } from '../util/byte-source.js';
import { IoError, UsageError } from '../util/errors.js';
import { ClusterTopology } from './cluster-topology.js';
import { mapDb, type DbMap } from './db-map.js';
import { showKey } from './key-name.js';
import { KeySender, type KeyJob, type SendStats } from './key-sender.js';
import { NodePool } from './node-pool.js';
import { checkPlan, checkRdbFile, PlanBuilder, planRestore, type RestorePlan } from './plan.js';
import { dropUnrepresentable, prepareFast, prepareKey, unrepresentable, type KeyPolicy, type PreparedKey } from './prepare-key.js';
import { probeTarget, type TargetInfo } from './target.js';
import { DigestSink } from './digest-sink.js';
import { RestoreSink } from './restore-sink.js';
import { LiveChecks, targetFormats, verifyRestore, type VerifyReport } from './verify.js';

export interface OnlineOptions {
  /** A plain RDB file (sources are decrypted/decompressed and checked before this point). */
  rdbPath: string;
  target: RedisEndpoint;
  replace: boolean;
  flush: boolean;
  lossy: boolean;
  dbMap: DbMap;
  /** Keys whose payload exceeds this (or the target's proto-max-bulk-len) go as plain commands. */
  bigKeyBytes: number;
  /** Parallel pipelines per node, and commands in flight per pipeline. */
  parallel: number;
  window: number;
  dryRun: boolean;
  verify: boolean;
  /** Only compare the target with the backup (a restore done earlier); write nothing. */
  verifyOnly?: boolean;
  verifySample?: number;
  onProgress?: (p: { keys: number; total: number; bytes: number }) => void;
}

export interface OnlineReport {
  target: string;
  server: string;
  rdbVersion: number;
  cluster: boolean;
  masters: string[];
  plan: Omit<RestorePlan, 'functions'> & { functions: number };
  dryRun: boolean;
  result?: Omit<SendStats, 'problems'> & {
    functions: { restored: number; conflicts: number; skipped: number };
    problems: Array<{ db: number; key: string; reason: string }>;
    seconds: number;
  };
  verify?: VerifyReport;
}

/** Masters to write to: the seed, or every slot owner of a cluster. */
async function targetNodes(pool: NodePool, info: TargetInfo, seed: RedisClient): Promise<{ topology: ClusterTopology | null; masters: string[] }> {
  if (!info.cluster) return { topology: null, masters: [pool.seedAddress] };
  const topology = new ClusterTopology(pool.seed.host);
  await topology.load(seed);
  const masters = topology.masters;
  if (masters.length === 0) throw new IoError(`${pool.seed.display}: cluster has no slots assigned`);
  return { topology, masters };
}

/** FUNCTION LOAD of each library on each master; an existing library is a conflict unless --replace. */
async function restoreFunctions(pool: NodePool, masters: string[], codes: Buffer[], info: TargetInfo, replace: boolean) {
  const out = { restored: 0, conflicts: 0, skipped: 0, problems: [] as Array<{ db: number; key: string; reason: string }> };
  if (codes.length === 0) return out;
  if (!info.functions) {
    out.skipped = codes.length;
    out.problems.push({ db: -1, key: '(functions)', reason: `${codes.length} function libraries not restored: the target (${info.server.version}) has no FUNCTION command` });
    return out;
  }
  for (const code of codes) {
    const name = /name=([^\s]+)/.exec(code.subarray(0, 256).toString('utf8'))?.[1] ?? '?';
    let conflict = false;
    for (const m of masters) {
      const c = await pool.control(m);
      const r = await c.send('FUNCTION', 'LOAD', ...(replace ? ['REPLACE'] : []), code);
      if (r instanceof RespError) {
        if (/already exists/i.test(r.message)) conflict = true;
        else throw new IoError(`${m}: FUNCTION LOAD of library ${name} failed: ${r.message}`);
      }
    }
    if (conflict) {
      out.conflicts++;
      out.problems.push({ db: -1, key: `(function library ${name})`, reason: 'exists on the target (use --replace to overwrite)' });
    } else out.restored++;
  }
  return out;
}

export async function restoreOnline(opts: OnlineOptions): Promise<OnlineReport> {
  if (opts.parallel < 1 || opts.window < 1) throw new UsageError('--parallel and --window must be at least 1');
  const pool = new NodePool(opts.target, opts.parallel);
  try {
    const seed = await pool.control(pool.seedAddress);
    const info = await probeTarget(seed);
    const { topology, masters } = await targetNodes(pool, info, seed);
    const policy: Omit<KeyPolicy, 'sourceRdb'> = {
      targetRdb: info.rdbVersion,
      lossy: opts.lossy,
      // Leave room for the RESTORE framing within proto-max-bulk-len.
      bigKeyBytes: Math.min(opts.bigKeyBytes, info.maxBulk - 1024),
      now: Date.now(),
    };
    // A planning read first when the plan decides something (dry run, cluster dbs, conversion
    // refusals); otherwise only the file's CRC-64, and the plan is tallied while restoring.
    const { version: sourceRdb } = await checkRdbFile(opts.rdbPath);
    // (A target with fewer than the default 16 dbs may lack one the backup uses: plan it.)
    // (Valkey 81 files may hold UPDATE commands, which the plan counts.)
    const needPlan = opts.dryRun || !!opts.verifyOnly || info.cluster || sourceRdb > info.rdbVersion || info.databases < 16 || sourceRdb >= 81;
    let plan = needPlan ? await planRestore(opts.rdbPath, policy, opts.dbMap) : null;
    if (plan) checkPlan(plan, { cluster: info.cluster, databases: info.databases, display: opts.target.display }, opts.lossy);
    const report: OnlineReport = {
      target: opts.target.display,
      server: `${info.server.flavor} ${info.server.version}`,
      rdbVersion: info.rdbVersion,
      cluster: info.cluster,
      masters,
      // Filled in after the restore when it was tallied on the way.
      plan: { ...(plan ?? new PlanBuilder(opts.dbMap).finish()), functions: plan?.functions.length ?? 0 },
      dryRun: opts.dryRun,
    };
    const keyPolicy: KeyPolicy = { ...policy, sourceRdb };
    if (opts.dryRun) return report;
    if (opts.verifyOnly) {
      report.verify = await verifyRestore({ rdbPath: opts.rdbPath, pool, topology, masters, info, policy: keyPolicy, dbMap: opts.dbMap, plan: plan!, skip: new Set(), sample: opts.verifySample });
      return report;
    }

    const started = Date.now();
    if (opts.flush) {
      for (const m of masters) {
        const c = await pool.control(m);
        await c.call('FLUSHALL');
        if (info.functions) await c.call('FUNCTION', 'FLUSH');
      }
    }
    const fn = { restored: 0, conflicts: 0, skipped: 0, problems: [] as Array<{ db: number; key: string; reason: string }> };
    const addFunctions = async (codes: Buffer[]): Promise<void> => {
      const r = await restoreFunctions(pool, masters, codes, info, opts.replace);
      fn.restored += r.restored;
      fn.conflicts += r.conflicts;
      fn.skipped += r.skipped;
      fn.problems.push(...r.problems);
    };
    if (plan) await addFunctions(plan.functions);
    const tally = plan ? null : new PlanBuilder(opts.dbMap);
    const total = plan?.keys ?? 0;
    // --verify (DEBUG allowed, every key): each key's DIGEST-VALUE pipelined behind its write,
    // compared with the digest this one read computes; otherwise a second read after the restore.
    const formats = targetFormats(info);
    const checks = opts.verify && info.debugDigest && !opts.verifySample ? new LiveChecks(formats.hasExpireTime) : null;
    const sender = new KeySender(pool, topology, { window: opts.window, replace: opts.replace, checks: checks ?? undefined });
    const targetDb = (db: number): number => {
      const to = mapDb(opts.dbMap, db);
      if (to >= info.databases) throw new UsageError(`db ${db} maps to db ${to} but ${opts.target.display} has ${info.databases} databases (keys of lower dbs were restored); use --db-map`);
      return to;
    };
    const digest = checks
      ? new DigestSink(
          formats.scoreFormat,
          (_db, _key, expireAtMs) => expireAtMs === null || expireAtMs > keyPolicy.now,
          (value) => (!unrepresentable(value, keyPolicy.targetRdb) ? value : keyPolicy.lossy ? dropUnrepresentable(value, keyPolicy.now) : null),
        )
      : null;
    // One read: keys come raw (one RESTORE each) unless their record passes the big-key size;
    // those are rebuilt with commands made as they are read, and every key's digest is computed
    // on the way (no second parse of anything).
    const sink = new RestoreSink(digest, keyPolicy, (db, key, expireAtMs) => {
      const job: KeyJob = { db: targetDb(db), key, expireAtMs, bytes: 0 };
      const stream = sender.streamKey(job);
      return {
        write: (chunk) => {
          job.bytes += chunk.length;
          stream.write(chunk);
        },
        end: (expected) => {
          if (expected) job.check = { want: expected.want, print: expected.print, expireAtMs };
          void stream.end();
        },
      };
    });
    const dec = new RdbDecoder(gatedFile(opts.rdbPath, () => sender.writable() ?? checks?.ready() ?? null), { raw: true, verifyChecksum: true, sink, rawUpTo: policy.bigKeyBytes - 11 });
    let seen = 0;
    let lastTick = 0;
    for (let recs = await dec.nextBatch(4096); recs; recs = await dec.nextBatch(4096)) {
      const digests = digest?.take() ?? [];
      let di = 0;
      for (const rec of recs) {
        if (rec.kind !== 'key') {
          if (rec.kind === 'function' && tally) {
            tally.plan.functions.push(rec.code);
            await addFunctions([rec.code]);
          }
          continue;
        }
        const k = rec.entry;
        seen++;
        if (opts.onProgress && (seen & 1023) === 0 && Date.now() - lastTick > 200) {
          lastTick = Date.now();
          opts.onProgress({ keys: sender.stats.restored, total, bytes: sender.stats.bytes });
        }
        if (k.streamed) {
          // Already on the wire (RestoreSink), or skipped there.
          const st = sink.takeStreamed();
          tally?.key(k, st.skipped === 'expired' ? { kind: 'expired' } : st.skipped ? { kind: 'unrepresentable', reason: st.skipped.unrepresentable } : { kind: 'commands', frames: EMPTY, bytes: st.bytes, lossy: st.lossy });
          continue;
        }
        const d = digests[di];
        const expected = d && d.db === k.db && d.key.equals(k.key) ? digests[di++] : undefined;
        const prep: PreparedKey = prepareFast(k, keyPolicy) ?? (await prepareKey(k, keyPolicy));
        tally?.key(k, prep);
        if (prep.kind === 'expired' || prep.kind === 'unrepresentable') continue;
        const job: KeyJob = { db: targetDb(k.db), key: k.key, expireAtMs: k.expireAtMs, idleSeconds: k.idleSeconds, freq: k.freq, bytes: prep.bytes };
        if (expected) job.check = { want: expected.want, print: expected.print, expireAtMs: k.expireAtMs };
        if (prep.kind === 'payload') job.payload = prep.payload;
        else job.commands = prep.frames;
        const queued = sender.submit(job);
        // A key rebuilt with commands (a conversion grown past the big-key size) needs no wait: drain() has its replies.
        if (queued && !job.commands) await queued;
      }
    }
    await sender.drain();
    if (tally) {
      plan = tally.finish();
      plan.sourceRdb = sourceRdb;
      report.plan = { ...plan, functions: plan.functions.length };
    }
    opts.onProgress?.({ keys: sender.stats.restored, total: plan!.keys, bytes: sender.stats.bytes });
    const s = sender.stats;
    report.result = {
      restored: s.restored,
      bytes: s.bytes,
      conflicts: s.conflicts,
      failed: s.failed,
      asCommands: s.asCommands,
      redirects: s.redirects,
      functions: { restored: fn.restored, conflicts: fn.conflicts, skipped: fn.skipped },
      problems: [...fn.problems, ...s.problems.map((p) => ({ db: p.db, key: showKey(p.key), reason: p.reason }))],
      seconds: (Date.now() - started) / 1000,
    };
    const skip = new Set(s.problems.map((p) => `${p.db}\0${p.key.toString('latin1')}`));
    if (checks) report.verify = await checks.report({ pool, masters, plan: plan!, skip });
    else if (opts.verify) {
      report.verify = await verifyRestore({ rdbPath: opts.rdbPath, pool, topology, masters, info, policy: keyPolicy, dbMap: opts.dbMap, plan: plan!, skip, sample: opts.verifySample });
    }
    return report;
  } finally {
    await pool.close();
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The backup's bytes, read on only while the pipelines big keys are written to keep up
 * (KeySender.writable) and, with --verify, while few big keys' DUMPs wait to be printed (LiveChecks.ready).
 */
function gatedFile(path: string, writable: () => Promise<void> | null): ByteSource {
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      for (let wait = writable(); wait; wait = writable()) await wait;
      yield chunk;
    }
  }
  return ByteSource.fromStream(chunks(), path, true);
}
