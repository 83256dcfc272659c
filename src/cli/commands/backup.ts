import { type Command, Option } from 'commander';
import { parseCompression } from '../../backup/compress.js';
import { DEFAULT_STALE_AFTER } from '../../backup/debris.js';
import { notifyFailure } from '../../backup/notify.js';
import { checkBackupName, parseTakenAt } from '../../backup/naming.js';
import {
  addRetentionOptions,
  addStoreOptions,
  collect,
  defaultName,
  encryptionFrom,
  loadConfig,
  policyFrom,
  storeOptionsFrom,
  targetsFrom,
  type BackupConfig,
} from '../../backup/options.js';
import { parseDuration } from '../../backup/retention.js';
import type { BackupOutcome, BackupProgress } from '../../backup/run-backup.js';
import type { ClusterBackupOutcome } from '../../backup/run-cluster-backup.js';
import { redactUrl } from '../../net/redis-url.js';
import { ExitCode, UsageError, oneLine } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, intOption, printJson } from '../run.js';

export function register(program: Command): void {
  const cmd = program
    .command('backup')
    .summary('take a dated, compressed, encrypted, verified backup to directories and S3')
    .description(
      `Back up one RDB in one pass: it is parsed (structure + CRC-64), hashed (sha256, sha1), compressed, encrypted (OpenPGP, readable by plain gpg -d), hashed again and streamed to every target at once. Each target verifies its copy (size + ETag md5 or a read-back sha256) before the manifest is written last, then a <name>.last-success.json marker, then the retention policy (if any) is applied.

SOURCE is an RDB file (read through one open descriptor: safe while Redis renames a new dump over it), - for an RDB on stdin, bgsave:redis://host:port (BGSAVE, wait until LASTSAVE moves, read the node's file), redis://host:port (a fresh RDB over the replication protocol, no disk access) or cluster:redis://host:port (any node of a Redis Cluster, same as --cluster: every shard's RDB as one set with a set manifest written last). TARGET is a directory, s3://bucket/prefix or sftp://[user@]host[:port]/path (host key checked against known_hosts; key, agent or password file).`,
    )
    .option('--from <source>', 'RDB file, - (stdin), bgsave:redis://host:port or redis://host:port')
    .option('--to <target>', 'directory, s3://bucket/prefix or sftp://[user@]host[:port]/path (repeat for several targets)', collect)
    .option('--name <name>', 'backup name (default: the file name without .rdb, or host-port)')
    .option('--taken-at <iso>', 'label the snapshot with this time instead of now (importing old dumps)')
    .option('--compress <gzip|none>', 'compression (default gzip)')
    .option('--compress-level <1-9>', 'gzip level (default 1)', intOption('--compress-level'))
    .option('--passphrase-file <file>', 'encrypt with the passphrase in FILE (or set TSREDIS_PASSPHRASE)')
    .option('--recipient <key.asc>', 'encrypt to this OpenPGP public key (repeatable)', collect)
    .option('--no-encrypt', 'store without encryption (must be explicit)')
    .option('--password-file <file>', 'Redis password (or REDISCLI_AUTH)')
    .option('--rdb-path <file>', 'bgsave: the RDB file of the node, when CONFIG GET is not allowed')
    .option('--shard-only', "a Redis Cluster node: back up this node's shard alone (refused otherwise)")
    .option('--cluster', 'SOURCE is any node of a Redis Cluster: back up every shard as one set (also: cluster:redis://host:port)')
    .option('--prefer-replica', 'with --cluster: take each shard from a healthy replica (fork and transfer off the masters)')
    .option('--parallel <n>', 'with --cluster: shards backed up at once (default: all)', intOption('--parallel'))
    .option('--pause-writes <ms>', "with --cluster: CLIENT PAUSE ms WRITE on every master while the shards' snapshots start, so the set is one instant (Redis 6.2+)", intOption('--pause-writes'))
    .option('--stale-after <duration>', `leftovers of killed runs of this name (temp files, unfinished S3 uploads, objects without a manifest) older than this are removed (default ${DEFAULT_STALE_AFTER})`)
    .option('--on-failure <cmd>', 'run CMD through /bin/sh on failure (event in TSREDIS_* env and JSON on stdin; secrets removed from its env)')
    .option('--webhook <url>', 'POST a JSON event to URL on failure')
    .option('--json', 'print the outcome as JSON')
    .addOption(new Option('--quiet', 'no progress or log lines'));
  addStoreOptions(cmd);
  addRetentionOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples (secrets come from files or the environment, never arguments):
  tsredis-ops backup --from /var/lib/redis/dump.rdb --to /srv/backups/redis \\
      --to s3://my-bucket/redis --passphrase-file /etc/tsredis-ops/passphrase \\
      --keep-hourly 48 --keep-daily 60
  tsredis-ops backup --config /etc/tsredis-ops.json        # from cron
  tsredis-ops backup --from cluster:redis://10.0.0.5:7000 --to s3://my-bucket/redis \\
      --passphrase-file /etc/tsredis-ops/passphrase --prefer-replica --pause-writes 500 --json

Exit codes: 0 ok; 1 RDB damaged or a copy failed verification; 2 usage; 3 source or target
unreachable (upload failed after retries), or an SSH host key unknown or changed; 4 encryption
key/passphrase, Redis password, or SSH key/password problem; 5 refused (a backup with this name and time already exists, or the source is a Redis
Cluster node whose RDB holds one shard: --cluster takes every shard as a set, --shard-only takes it alone).
With --cluster a failed shard fails the set (its files are removed; the shard is named), and so
do slots that migrated between the shards' snapshots unless --pause-writes covered them.`,
  );
  cmd.action(
    action(async (flags: Record<string, unknown>) => {
      const cfg = await loadConfig(flags.config as string | undefined);
      const sources: NonNullable<BackupConfig['sources']> = flags.from
        ? [{ name: (flags.name as string | undefined) ?? cfg.name, from: flags.from as string }]
        : (cfg.sources ?? (cfg.from ? [{ name: cfg.name, from: cfg.from }] : []));
      if (sources.length === 0) throw new UsageError('no source: give --from FILE|bgsave:redis://…|redis://… (or "from"/"sources" in --config)');
      const targets = targetsFrom(flags, cfg);
      const encryption = await encryptionFrom(flags, cfg);
      const compression = parseCompression((flags.compress as string | undefined) ?? cfg.compression ?? 'gzip');
      const retention = policyFrom(flags, cfg);
      const takenAt = flags.takenAt ? parseTakenAt(flags.takenAt as string) : undefined;
      const staleAfter = (flags.staleAfter as string | undefined) ?? cfg.staleAfter;
      if (staleAfter !== undefined) parseDuration(staleAfter);
      const json = !!flags.json;
      const onFailure = (flags.onFailure as string | undefined) ?? cfg.onFailure;
      const webhook = (flags.webhook as string | undefined) ?? cfg.webhook;

      // Loaded here so other subcommands start without openpgp and the S3 SDK.
      const { runBackup } = await import('../../backup/run-backup.js');
      // What a single backup and a cluster set share.
      const common = {
        targets,
        storeOptions: (target: string) => storeOptionsFrom(flags, cfg, target),
        compression,
        compressionLevel: (flags.compressLevel as number | undefined) ?? cfg.compressionLevel,
        encryption,
        takenAt,
        retention,
        staleAfter,
      };
      const parallel = (flags.parallel as number | undefined) ?? cfg.parallel;
      const pauseWritesMs = (flags.pauseWrites as number | undefined) ?? cfg.pauseWritesMs;
      const preferReplica = !!(flags.preferReplica ?? cfg.preferReplica);
      const runClusterSource = async (seed: string, s: (typeof sources)[number], name: string, progress: ReturnType<typeof startProgress>, started: number): Promise<BackupOutcome> => {
        const { runClusterBackup } = await import('../../backup/run-cluster-backup.js');
        return runClusterBackup({
          ...common,
          name,
          seed,
          passwordFile: (flags.passwordFile as string | undefined) ?? s.passwordFile ?? cfg.passwordFile,
          preferReplica,
          parallel,
          pauseWritesMs,
          onProgress: (p) => {
            const rate = p.plainBytes / Math.max(0.001, (Date.now() - started) / 1000);
            progress.update(`backup ${name}: ${p.shardsDone}/${p.shards} shards, read ${formatBytes(p.plainBytes)} (${formatBytes(rate)}/s)`);
          },
          log: (line) => progress.log(line),
        });
      };
      // Flags over the source's own entry over the config's top level.
      const shardOnlyOf = (s: (typeof sources)[number]): boolean => !!(flags.shardOnly ?? s.shardOnly ?? cfg.shardOnly);
      const seedOf = (s: (typeof sources)[number]): string | null => clusterSeedOf(s.from, !!(flags.cluster ?? s.cluster ?? cfg.cluster));
      if (sources.some((s) => shardOnlyOf(s) && seedOf(s))) {
        throw new UsageError('--cluster takes every shard; --shard-only one: give one of them');
      }
      if (!sources.some(seedOf) && (parallel !== undefined || pauseWritesMs !== undefined || flags.preferReplica)) {
        throw new UsageError('--parallel, --pause-writes and --prefer-replica apply to cluster sources (--cluster or cluster:redis://…)');
      }
      const outcomes: Array<BackupOutcome & { name: string; source: string }> = [];
      for (const s of sources) {
        const name = checkBackupName(s.name ?? defaultName(s.from));
        const progress = startProgress(`backup ${name}: starting`, { quiet: !!flags.quiet });
        let last = 0;
        const started = Date.now();
        const onProgress = (p: BackupProgress): void => {
          const now = Date.now();
          if (now - last < 250) return;
          last = now;
          const rate = p.plainBytes / Math.max(0.001, (now - started) / 1000);
          const of = p.totalBytes ? ` / ${formatBytes(p.totalBytes)}` : '';
          progress.update(`backup ${name}: ${p.stage} ${formatBytes(p.plainBytes)}${of} (${formatBytes(rate)}/s), stored ${formatBytes(p.storedBytes)}`);
        };
        let outcome: BackupOutcome;
        const clusterSeed = seedOf(s);
        try {
          outcome = clusterSeed
            ? await runClusterSource(clusterSeed, s, name, progress, started)
            : await runBackup({
            name,
            source: s.from,
            ...common,
            sourceOptions: {
              passwordFile: (flags.passwordFile as string | undefined) ?? s.passwordFile ?? cfg.passwordFile,
              rdbPath: (flags.rdbPath as string | undefined) ?? s.rdbPath ?? cfg.rdbPath,
              shardOnly: shardOnlyOf(s),
            },
            onProgress,
            log: (line) => progress.log(line),
          });
        } catch (e) {
          outcome = { ok: false, exitCode: (e as { exitCode?: number }).exitCode ?? ExitCode.INTERNAL, object: null, manifest: null, targets: [], error: oneLine(e) };
        }
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        const set = (outcome as ClusterBackupOutcome).set;
        if (outcome.ok && set) {
          progress.succeed(
            `backup ${name}: set ${outcome.object} (${set.shards.length} shards, ${set.keys.total} keys, ${formatBytes(set.plain.size)} → ${formatBytes(set.stored.size)}, snapshots within ${set.snapshotSpreadMs} ms${set.pause ? `, writes paused ${set.pause.usedMs} ms` : ''}) verified on ${outcome.targets.length} target(s) in ${secs}s`,
          );
        } else if (outcome.ok) {
          progress.succeed(`backup ${name}: ${outcome.object} (${formatBytes(outcome.manifest!.plain.size)} → ${formatBytes(outcome.manifest!.stored.size)}) verified on ${outcome.targets.length} target(s) in ${secs}s`);
        } else {
          for (const t of outcome.targets.filter((t) => !t.ok)) progress.log(`backup ${name}: ${t.target}: ${t.error ?? 'failed'}`);
          progress.fail(`backup ${name} FAILED (exit ${outcome.exitCode}): ${outcome.error ?? outcome.targets.find((t) => !t.ok)?.error ?? 'failed'}`);
          await notifyFailure(
            {
              event: 'backup-failed',
              name,
              source: redactUrl(s.from),
              exitCode: outcome.exitCode,
              message: redactUrl(outcome.error ?? outcome.targets.find((t) => !t.ok)?.error ?? 'failed'),
              failedTargets: outcome.targets.filter((t) => !t.ok).map((t) => t.target),
              at: new Date().toISOString(),
            },
            { command: onFailure, webhook, log: (l) => progress.log(l) },
          );
        }
        for (const t of outcome.targets) {
          if (t.prune?.removed.length) progress.log(`prune ${t.target}: removed ${t.prune.removed.length} backup(s)`);
        }
        outcomes.push({ ...outcome, name, source: redactUrl(s.from) });
      }
      if (json) printJson(outcomes.length === 1 ? outcomes[0] : { backups: outcomes });
      return outcomes.find((o) => !o.ok)?.exitCode ?? ExitCode.OK;
    }),
  );
}

/** The seed node URL when SOURCE is a cluster (cluster:redis://… or --cluster with redis://…), else null. */
function clusterSeedOf(from: string, clusterFlag: boolean): string | null {
  if (from.startsWith('cluster:')) return from.slice('cluster:'.length);
  if (!clusterFlag) return null;
  if (!/^rediss?:\/\//.test(from)) throw new UsageError(`--cluster needs a node URL (redis://host:port), got ${redactUrl(from)}`);
  return from;
}
