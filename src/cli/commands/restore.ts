import { Command, Option } from 'commander';
import { addStoreOptions, decryptionKeysFrom, loadConfig, storeOptionsFrom } from '../../backup/options.js';
import { parseTakenAt } from '../../backup/naming.js';
import { parseTarget } from '../../backup/store/target.js';
import { parseRedisUrl, type RedisEndpoint } from '../../net/redis-url.js';
import { parseDbMap, type DbMap } from '../../restore/db-map.js';
import { stageLocalFile, type StagedRdb } from '../../restore/local-source.js';
import { stageFromStore, type StoreStaged } from '../../restore/store-source.js';
import { stat } from 'node:fs/promises';
import { restoreToDir } from '../../restore/offline.js';
import type { PitrFetched } from '../../pitr/restore-pitr.js';
import { restoreOnline, type OnlineOptions, type OnlineReport } from '../../restore/online.js';
import { rdbVersionForRelease } from '../../restore/rdb-versions.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, intOption, printJson } from '../run.js';

interface RestoreFlags {
  from?: string;
  backup?: string;
  latest?: boolean;
  before?: string;
  name?: string;
  at?: string;
  beforeFlush?: boolean;
  config?: string;
  to?: string;
  toDir?: string;
  layout: 'rdb' | 'aof';
  rdbVersion?: number;
  redisVersion?: string;
  lossy?: boolean;
  force?: boolean;
  replace?: boolean;
  flush?: boolean;
  dbMap?: string;
  bigKeySize: number;
  parallel: number;
  window: number;
  verify?: boolean;
  verifyOnly?: boolean;
  verifySample?: number;
  dryRun?: boolean;
  passwordFile?: string;
  passphraseFile?: string;
  identity?: string[];
  tmpDir?: string;
  json?: boolean;
  quiet?: boolean;
}

const HELP = `
Sources:
  FILE                      a local dump.rdb, dump.rdb.gz, dump.rdb.gz.gpg ... (content is
                            detected, not the name: plain RDB, gzip, OpenPGP, nested in any order)
  DIR                       a \`tsredis-ops replicate\` directory (or any appendonlydir): its base
                            and incr files are replayed (point in time = the last write kept) and
                            restored as one dataset. Stop the replica or copy the directory first:
                            a command cut in half at the end of the incr is refused as damage.
  --from DIR|s3://bucket/prefix  with --backup NAME (a backup's stem, object or manifest name, or a
                            backup name for its newest) or --latest, optionally --before ISO: a
                            backup made by \`tsredis-ops backup\`. A cluster set (backup --cluster)
                            restores every shard: onto --to any node of a cluster of any size (each
                            key routed by its slot), or --to-dir as one directory per original
                            shard with a README.txt of their slot ranges. The object is downloaded (resuming
                            with ranged GETs), checked against its manifest (stored size + sha256),
                            decrypted and decompressed, checked again (plain size + sha256).
  --from TARGET --name N --at ISO|latest   (or --before-flush) a point in time from a
                            \`replicate --archive\` archive: the newest base at or before it and
                            the segments after it, each checked against its manifest, replayed up
                            to the cut (every write stamped #TS: that second or earlier; a
                            MULTI/EXEC whole or not at all). A time outside the restorable windows
                            is refused (exit 5) naming them. --before-flush: just before the last
                            FLUSHALL/FLUSHDB. --layout aof writes the base + the stream as a
                            multi-part AOF and --to (a standalone node, empty or --flush) gets the
                            base then the commands, both in constant memory; --layout rdb, a
                            cluster, --db-map and --verify replay in memory with the keyspace
                            engine. See README "Point-in-time recovery".
Encrypted sources are decrypted with --passphrase-file, $TSREDIS_PASSPHRASE, or --identity KEYFILE
(a secret key for public-key backups; its own passphrase from the same places). Encrypted or
compressed sources are decrypted into a private temp file and checked end to end (OpenPGP MDC,
gzip CRC, RDB CRC-64) before anything is written to the target.

Targets:
  --to redis://host:port    a running node (or any node of a Redis Cluster): pipelined RESTORE of
                            DUMP payloads made for the target's version, TTLs as absolute times
                            (ABSTTL); keys already expired are left out; function libraries are
                            loaded; keys larger than --big-key-size or the node's proto-max-bulk-len
                            are rebuilt with plain commands. An existing key is reported as a
                            conflict and left alone unless --replace. Nothing is deleted unless
                            --flush (FLUSHALL + FUNCTION FLUSH first).
  --to-dir DIR              files for a node that starts from DIR: dump.rdb, or with --layout aof an
                            appendonlydir (RDB base + manifest) for nodes running appendonly yes —
                            with appendonly yes Redis ignores dump.rdb. Refuses a DIR that already
                            holds data unless --force (the old files are moved to DIR/pre-restore-*).

Examples:
  tsredis-ops restore backup.rdb.gz.gpg --passphrase-file /etc/redis/backup.pass --to redis://10.0.0.7:6379 --verify
  tsredis-ops restore --from s3://backups/redis --latest --before 2026-03-01T00:00:00Z --passphrase-file /etc/redis/backup.pass --to-dir /var/lib/redis
  tsredis-ops restore dump.rdb --to redis://127.0.0.1:7000 --db-map 0:0,1:0 --dry-run
  tsredis-ops restore dump.rdb --to-dir /var/lib/redis --layout aof --redis-version 7.0 --lossy

Exit codes: 0 restored (and verified), 1 conflicts/failed keys or verification mismatch,
2 usage, 3 target or source unreachable, 4 wrong passphrase/key or target password,
5 refused (data in DIR, keys the target cannot represent without --lossy).`;

export function register(program: Command): void {
  const cmd = program
    .command('restore')
    .summary('restore a backup onto a running node, a cluster, or a data directory')
    .description('Restore an RDB backup onto a running Redis (standalone or cluster) or into a data directory, and prove it.')
    .argument('[file]', 'backup file (RDB, gzip and/or OpenPGP, detected from content), or a replicate directory')
    .option('--from <store>', 'a backup store: directory, s3://bucket/prefix or sftp://[user@]host[:port]/path (with --backup or --latest)')
    .option('--backup <name>', 'with --from: which backup (stem, object or manifest name; or a backup name for its newest)')
    .option('--latest', 'with --from: the newest backup')
    .option('--before <iso>', 'with --from: only backups taken before this time (e.g. 2026-03-01T00:00:00Z)')
    .option('--name <name>', 'with --at / --before-flush: the archive name in --from')
    .option('--at <iso|latest>', 'with --from and --name: restore this second of a point-in-time archive (or latest)')
    .option('--before-flush', 'with --from and --name: the archive just before its last FLUSHALL/FLUSHDB')
    .option('--to <url>', 'running target node: redis://[user@]host:port (password from --password-file or REDISCLI_AUTH)')
    .option('--to-dir <dir>', 'write files for a node that will start from this directory')
    .addOption(new Option('--layout <layout>', 'with --to-dir: rdb (dump.rdb) or aof (appendonlydir)').choices(['rdb', 'aof']).default('rdb'))
    .option('--rdb-version <n>', 'with --to-dir: write this RDB version (convert for an older node)', intOption('--rdb-version'))
    .option('--redis-version <x.y>', 'with --to-dir: write for this Redis release (e.g. 7.0, valkey:8.0)')
    .option('--lossy', 'drop what the target cannot hold (hash-field TTLs on < 7.4, arrays and NACK zones on < 8.8, ...) instead of refusing, naming each')
    .option('--force', 'with --to-dir: restore into a directory that holds data (old files kept aside)')
    .option('--replace', 'overwrite keys (and function libraries) that exist on the target')
    .option('--flush', 'FLUSHALL (and FUNCTION FLUSH) every target master before restoring')
    .option('--db-map <map>', 'source:target db pairs, e.g. 0:3,1:0 (a cluster needs every db mapped to 0)')
    .option('--big-key-size <bytes>', 'payloads above this are sent as plain commands', intOption('--big-key-size'), 64 * 1024 * 1024)
    .option('--parallel <n>', 'parallel pipelines per node (more help with io-threads or TLS)', intOption('--parallel'), 1)
    .option('--window <n>', 'commands in flight per pipeline', intOption('--window'), 2048)
    .option('--verify', 'read the target back: per-db counts, per-key DEBUG DIGEST-VALUE or DUMP, TTLs')
    .option('--verify-only', 'compare the target with the backup (an earlier restore); write nothing')
    .option('--verify-sample <n>', 'with --verify: check about n keys instead of all', intOption('--verify-sample'))
    .option('--dry-run', 'show what would be restored where (counts, sizes); touch nothing')
    .option('--password-file <file>', 'target Redis password (first line)')
    .option('--passphrase-file <file>', 'passphrase of an encrypted backup (or TSREDIS_PASSPHRASE)')
    .option('--identity <keyfile...>', 'OpenPGP secret key(s) for public-key encrypted backups')
    .option('--tmp-dir <dir>', 'where encrypted/compressed sources are staged (default: system temp)')
    .option('--json', 'print one JSON report on stdout')
    .option('--quiet', 'no progress output')
    .addHelpText('after', HELP);
  addStoreOptions(cmd);
  cmd.action(action(async (file: string | undefined, f: RestoreFlags) => run(file, f)));
}

async function run(file: string | undefined, f: RestoreFlags): Promise<number> {
  if (!!file === !!f.from) throw new UsageError('give the source: a FILE, or --from DIR|s3://bucket/prefix with --backup NAME or --latest');
  if (!f.from && (f.backup || f.latest || f.before)) throw new UsageError('--backup, --latest and --before select a backup in --from');
  const pitr = f.at !== undefined || !!f.beforeFlush;
  if (pitr && (!f.from || !f.name)) throw new UsageError('--at and --before-flush need --from TARGET and --name NAME (the archive)');
  if (pitr && (f.backup || f.latest || f.before || (f.at !== undefined && f.beforeFlush))) throw new UsageError('give one of --at, --before-flush (an archive) or --backup/--latest/--before (a backup)');
  if (!!f.to === !!f.toDir) throw new UsageError('give exactly one target: --to redis://host:port or --to-dir DIR');
  if (f.to && (f.rdbVersion !== undefined || f.redisVersion || f.layout !== 'rdb' || f.force)) {
    throw new UsageError('--rdb-version, --redis-version, --layout and --force apply to --to-dir; a running node is asked for its version');
  }
  if (f.toDir && (f.replace || f.flush || f.dbMap || f.verify || f.verifyOnly)) throw new UsageError('--replace, --flush, --db-map and --verify apply to --to');
  if (f.rdbVersion !== undefined && f.redisVersion) throw new UsageError('give --rdb-version or --redis-version, not both');
  if (f.verifyOnly && (f.replace || f.flush || f.dryRun)) throw new UsageError('--verify-only writes nothing: drop --replace, --flush and --dry-run');
  if (f.verifySample !== undefined && !f.verify && !f.verifyOnly) throw new UsageError('--verify-sample needs --verify');
  if (f.from) parseTarget(f.from);
  const target = f.to ? parseRedisUrl(f.to, { passwordFile: f.passwordFile }) : undefined;
  if (target?.db !== undefined) throw new UsageError(`restore keeps each key in its own db: drop /${target.db} from the URL and use --db-map to move dbs`);
  const dbMap = parseDbMap(f.dbMap);

  const cfg = await loadConfig(f.config);
  const keys = await decryptionKeysFrom(f as unknown as Record<string, unknown>, cfg);
  const source = file ?? f.from!;
  const progress = startProgress(`reading ${source}`, { quiet: f.quiet || f.json });
  let staged: StagedRdb;
  let origin: Record<string, unknown> = {};
  if (pitr) {
    const { fetchPitr, replayPitr } = await import('../../pitr/restore-pitr.js');
    const { whyNotStreamed } = await import('../../pitr/restore-pitr-online.js');
    // Decided before the download: base + commands where the target takes them, else the engine.
    const engineWhy = f.toDir ? (f.layout === 'rdb' ? '--layout rdb is one RDB of the whole dataset' : null) : await whyNotStreamed(target!, onlineOptions(f, target!, dbMap));
    const fetched = await fetchPitr(f.from!, f.name!, parsePoint(f), storeOptionsFrom(f as unknown as Record<string, unknown>, cfg, f.from), keys, f.tmpDir);
    const p = fetched.plan;
    const what = `${fetched.where}: ${p.describes}: base ${p.base.object} + ${p.segments.length} segment(s), every object checked against its manifest`;
    origin = { archive: f.name, chain: p.chain, base: p.base.object, segments: p.segments.length, restoredTo: p.describes };
    if (engineWhy === null) {
      try {
        progress.log(what);
        return await restorePitrStreamed(fetched, f, target, dbMap, origin, progress);
      } catch (e) {
        progress.fail('restore failed');
        throw e;
      } finally {
        await fetched.cleanup();
      }
    }
    progress.log(`${what}; replaying with the keyspace engine (${engineWhy})`);
    let s: Awaited<ReturnType<typeof replayPitr>>;
    try {
      s = await replayPitr(fetched);
    } catch (e) {
      await fetched.cleanup();
      throw e;
    }
    staged = s;
    origin = { ...origin, mode: 'engine', replayed: s.replayed };
    progress.log(`${s.replayed.baseKeys} base keys and ${s.replayed.commands} commands replayed`);
  } else if (f.from) {
    const before = f.before ? parseTakenAt(f.before) : undefined;
    const s = await stageFromStore(f.from, { backup: f.backup, latest: f.latest, before }, storeOptionsFrom(f as unknown as Record<string, unknown>, cfg, f.from), keys, f.tmpDir);
    if (s.shards) return restoreSet(s, f, target, dbMap, progress);
    staged = s;
    origin = { backup: s.entry.manifest.object, takenAt: s.entry.manifest.takenAt, checked: s.checked };
    progress.log(`${s.where}/${s.entry.manifest.object} (taken ${s.entry.manifest.takenAt}): ${s.checked.join(', ')} ok`);
  } else if ((await stat(source).catch(() => null))?.isDirectory()) {
    // Loaded on demand: the engine is only needed for this source.
    const { stageReplicaDir } = await import('../../restore/replica-source.js');
    const r = await stageReplicaDir(source, f.tmpDir);
    staged = r;
    origin = { replayed: r.replayed };
    const at = r.replayed.lastTimestampS ? `, last write at ${new Date(r.replayed.lastTimestampS * 1000).toISOString()}` : '';
    progress.log(`${source}: replayed ${r.replayed.baseKeys} base keys and ${r.replayed.commands} incr commands${at}`);
  } else {
    staged = await stageLocalFile(source, keys, f.tmpDir);
    if (staged.layers.length) progress.log(`${source}: ${staged.layers.join(' → ')} checked and staged`);
  }
  try {
    if (f.toDir) {
      const rdbVersion = f.redisVersion ? rdbVersionForRelease(f.redisVersion) : f.rdbVersion;
      const r = await restoreToDir({ rdbPath: staged.path, dir: f.toDir, layout: f.layout, rdbVersion, lossy: !!f.lossy, force: !!f.force, dryRun: !!f.dryRun });
      if (f.json) printJson({ source, ...origin, layers: staged.layers, ...r });
      else {
        const what = `${r.dryRun ? 'would write' : 'wrote'} ${r.files.join(', ')} in ${r.dir} (RDB ${r.writtenRdb}${r.converted ? `, converted from ${r.sourceRdb}` : ''})`;
        progress.succeed(what);
        if (r.keptAside) progress.log(`previous files kept in ${r.keptAside}`);
        for (const d of r.dropped) progress.log(`dropped (--lossy): ${d}`);
      }
      return ExitCode.OK;
    }
    const started = Date.now();
    const report = await restoreOnline({
      ...onlineOptions(f, target!, dbMap),
      rdbPath: staged.path,
      onProgress: ({ keys, total, bytes }) => {
        const s = (Date.now() - started) / 1000;
        progress.update(`restoring: ${keys}${total ? `/${total}` : ''} keys, ${formatBytes(bytes)}, ${Math.round(keys / Math.max(s, 0.001))} keys/s`);
      },
    });
    if (f.json) printJson({ source, ...origin, layers: staged.layers, ...report });
    else printReport(report, progress);
    return exitCode(report);
  } catch (e) {
    progress.fail(`restore failed`);
    throw e;
  } finally {
    await staged.cleanup();
  }
}

/** What the flags ask of an online restore (the source aside). */
function onlineOptions(f: RestoreFlags, target: RedisEndpoint, dbMap: DbMap): Omit<OnlineOptions, 'rdbPath'> {
  return {
    target,
    replace: !!f.replace,
    flush: !!f.flush,
    lossy: !!f.lossy,
    dbMap,
    bigKeyBytes: f.bigKeySize,
    parallel: f.parallel,
    window: f.window,
    dryRun: !!f.dryRun,
    verify: !!f.verify,
    verifyOnly: !!f.verifyOnly,
    verifySample: f.verifySample,
  };
}

/** A cluster set: every shard onto one target (keys routed by slot), or one directory per shard. */
async function restoreSet(s: StoreStaged, f: RestoreFlags, target: RedisEndpoint | undefined, dbMap: DbMap, progress: ReturnType<typeof startProgress>): Promise<number> {
  const set = s.entry.set!.manifest;
  const origin = { source: f.from, backup: s.entry.manifest.object, takenAt: set.takenAt, checked: s.checked };
  progress.log(`${s.where}/${s.entry.manifest.object} (set of ${set.shards.length} shards, taken ${set.takenAt}): every shard ${s.checked.join(', ')} ok`);
  const { restoreSetOnline, restoreSetToDir } = await import('../../restore/set-restore.js');
  try {
    if (f.toDir) {
      const rdbVersion = f.redisVersion ? rdbVersionForRelease(f.redisVersion) : f.rdbVersion;
      const r = await restoreSetToDir(set, s.shards!, { dir: f.toDir, layout: f.layout, rdbVersion, lossy: !!f.lossy, force: !!f.force, dryRun: !!f.dryRun });
      if (f.json) printJson({ ...origin, ...r });
      else {
        progress.succeed(`${r.shards[0]!.dryRun ? 'would write' : 'wrote'} ${r.shards.length} shard directories in ${r.dir} (slot ranges in ${r.readme})`);
        for (const d of r.shards) progress.log(`  shard-${d.shard}: slots ${d.slots}: ${d.files.join(', ')}`);
      }
      return ExitCode.OK;
    }
    const started = Date.now();
    const r = await restoreSetOnline(set, s.shards!, onlineOptions(f, target!, dbMap));
    if (f.json) printJson({ ...origin, ...r });
    else {
      for (const sh of r.shards) printReport(sh, progress);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      progress.succeed(`set ${r.set}: ${r.total.restored}/${r.total.keys} keys from ${r.shards.length} shards onto ${r.target} in ${secs} s`);
      if (r.verify) progress.log(`  verify: ${r.verify.checked} keys checked, ${r.verify.mismatched} mismatched; ${r.total.onTarget} keys on the target's masters for ${r.total.keys} in the set: ${r.verify.ok ? 'passed' : 'FAILED'}`);
    }
    const bad = r.shards.map(exitCode).find((c) => c !== ExitCode.OK);
    return bad ?? (r.verify && !r.verify.ok ? ExitCode.DATA : ExitCode.OK);
  } catch (e) {
    progress.fail('restore failed');
    throw e;
  } finally {
    await s.cleanup();
  }
}

/**
 * A point in time written without the engine: --layout aof as the base RDB + the cut stream as the
 * incr AOF, or --to as the base restored online + the cut stream's commands.
 */
async function restorePitrStreamed(fetched: PitrFetched, f: RestoreFlags, target: RedisEndpoint | undefined, dbMap: DbMap, origin: Record<string, unknown>, progress: ReturnType<typeof startProgress>): Promise<number> {
  const source = f.from!;
  if (f.toDir) {
    const { findCut, cutBytes } = await import('../../pitr/restore-pitr.js');
    const cut = await findCut(fetched);
    const rdbVersion = f.redisVersion ? rdbVersionForRelease(f.redisVersion) : f.rdbVersion;
    const r = await restoreToDir({ rdbPath: fetched.base, incr: () => cutBytes(cut), dir: f.toDir, layout: 'aof', rdbVersion, lossy: !!f.lossy, force: !!f.force, dryRun: !!f.dryRun });
    const replayed = { commands: cut.commands, lastTimestampS: cut.lastTimestampS };
    if (f.json) printJson({ source, ...origin, mode: 'aof', replayed, layers: ['pitr base + stream'], ...r });
    else {
      progress.succeed(`${r.dryRun ? 'would write' : 'wrote'} ${r.files.join(', ')} in ${r.dir}: the base (RDB ${r.writtenRdb}${r.converted ? `, converted from ${r.sourceRdb}` : ''}) + ${cut.commands} commands (${formatBytes(r.incrBytes ?? 0)} incr AOF)`);
      if (r.keptAside) progress.log(`previous files kept in ${r.keptAside}`);
      for (const d of r.dropped) progress.log(`dropped (--lossy): ${d}`);
    }
    return ExitCode.OK;
  }
  const { restorePitrOnline } = await import('../../pitr/restore-pitr-online.js');
  const started = Date.now();
  const { report, streamed } = await restorePitrOnline(fetched, {
    ...onlineOptions(f, target!, dbMap),
    onProgress: ({ keys, total, bytes }) => {
      const s = (Date.now() - started) / 1000;
      progress.update(`restoring the base: ${keys}${total ? `/${total}` : ''} keys, ${formatBytes(bytes)}, ${Math.round(keys / Math.max(s, 0.001))} keys/s`);
    },
  }, (commands) => progress.update(`replaying the stream: ${commands} commands`));
  if (f.json) printJson({ source, ...origin, mode: 'stream', replayed: streamed, layers: ['pitr base + stream'], ...report });
  else {
    printReport(report, progress);
    if (streamed) progress.log(`  then ${streamed.commands} commands of the stream replayed in order${streamed.errors ? `; ${streamed.errors} answered with an error (first: ${streamed.firstError})` : ''}`);
    else progress.fail('the base did not restore whole: the stream was not replayed onto it');
  }
  if (!streamed || streamed.errors) return ExitCode.DATA;
  return exitCode(report);
}

/** --at ISO (whole seconds, a zone required) | latest, or --before-flush. */
function parsePoint(f: RestoreFlags): { kind: 'time'; s: number } | { kind: 'latest' } | { kind: 'before-flush' } {
  if (f.beforeFlush) return { kind: 'before-flush' };
  if (f.at === 'latest') return { kind: 'latest' };
  const at = f.at!;
  const t = Date.parse(at);
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(at) || Number.isNaN(t)) throw new UsageError(`--at expects an ISO 8601 time with a zone (e.g. 2026-12-05T10:31:07Z) or latest, got "${at}"`);
  return { kind: 'time', s: Math.floor(t / 1000) };
}

function exitCode(r: OnlineReport): number {
  if (r.verify && !r.verify.ok) return ExitCode.DATA;
  if (r.result && (r.result.conflicts > 0 || r.result.failed > 0 || r.result.functions.conflicts > 0 || r.result.functions.skipped > 0)) return ExitCode.DATA;
  return ExitCode.OK;
}

function printReport(r: OnlineReport, progress: ReturnType<typeof startProgress>): void {
  const p = r.plan;
  const where = `${r.target} (${r.server}, RDB ${r.rdbVersion}${r.cluster ? `, cluster of ${r.masters.length} masters` : ''})`;
  const lines: string[] = [];
  for (const d of p.dbs) lines.push(`  db ${d.db} → db ${d.to}: ${d.keys} keys, ${formatBytes(d.bytes)}`);
  if (p.expired) lines.push(`  ${p.expired} keys already expired: left out`);
  if (p.bigKeys) lines.push(`  ${p.bigKeys} big keys rebuilt with plain commands`);
  if (p.functions) lines.push(`  ${p.functions} function libraries`);
  for (const l of p.lossy) lines.push(`  lossy: db ${l.db} "${l.key}": ${l.dropped}`);
  if (p.lossyCount > p.lossy.length) lines.push(`  ... and ${p.lossyCount - p.lossy.length} more lossy keys`);
  // With --lossy, keys with nothing the target can hold (arrays below RDB 14) are left out.
  for (const u of p.unrepresentable) lines.push(`  skipped (--lossy): db ${u.db} "${u.key}": ${u.reason}`);
  if (p.updates) lines.push(`  lossy: ${p.updates} Valkey UPDATE command(s) of a forkless save not replayed`);
  if (!r.result && r.verify) {
    progress.succeed(`compared ${r.target} with the backup (${p.keys} keys)`);
  } else if (r.dryRun) {
    progress.succeed(`dry run: would restore ${p.keys} keys (${formatBytes(p.bytes)}) onto ${where}`);
    for (const l of lines) progress.log(l);
    return;
  }
  const res = r.result;
  if (res) {
    const rate = Math.round(res.restored / Math.max(res.seconds, 0.001));
    progress.succeed(`restored ${res.restored}/${p.keys} keys (${formatBytes(res.bytes)}) onto ${where} in ${res.seconds.toFixed(1)} s, ${rate} keys/s`);
    for (const l of lines) progress.log(l);
    if (res.conflicts) progress.log(`  ${res.conflicts} keys exist on the target and were left alone (use --replace)`);
    if (res.failed) progress.log(`  ${res.failed} keys failed`);
    for (const x of res.problems.slice(0, 20)) progress.log(`  not restored: ${x.db >= 0 ? `db ${x.db} ` : ''}"${x.key}": ${x.reason}`);
    if (res.problems.length > 20) progress.log(`  ... ${res.problems.length - 20} more (see --json)`);
  }
  if (r.verify) {
    const v = r.verify;
    for (const c of v.counts) progress.log(`  verify db ${c.db}: ${c.actual} keys on the target, ${c.expected} expected ${c.ok ? 'ok' : 'MISSING KEYS'}`);
    progress.log(`  verify (${v.method}): ${v.checked} keys checked${v.byContent ? ` (${v.byContent} big ${v.byContent === 1 ? 'one' : 'ones'} by DUMP content)` : ''}, ${v.mismatched} mismatched`);
    for (const m of v.mismatches.slice(0, 20)) progress.log(`  MISMATCH db ${m.db} "${m.key}": ${m.reason}`);
    if (v.ok) progress.log('  verification passed');
    else progress.fail('verification FAILED');
  }
}
