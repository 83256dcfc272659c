import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';
import type { FsyncPolicy } from '../../codec/aof/writer.js';
import { parseCompression } from '../../backup/compress.js';
import { checkBackupName } from '../../backup/naming.js';
import { addStoreOptions, collect, defaultName, encryptionFrom, loadConfig, storeOptionsFrom } from '../../backup/options.js';
import { parseTarget } from '../../backup/store/target.js';
import { Replica, type ShrinkPolicy } from '../../replica/replica.js';
import { prometheusText, startMetricsServer, startStatusFile, statusDocument } from '../../replica/status.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { action, intOption } from '../run.js';
import { addMasterOptions, masterEndpoint, snapshotOneNode, type MasterFlags } from './snapshot.js';

interface ReplicateFlags extends MasterFlags {
  dir?: string;
  appenddirname: string;
  fsync: string;
  timeout: number;
  announcePort: number;
  onShrink: string;
  shrinkRatio: string;
  maxIncrSize: string;
  statusFile?: string;
  metricsPort?: number;
  metricsHost: string;
  once?: boolean;
  output?: string;
  json?: boolean;
  force?: boolean;
  shardOnly?: boolean;
  archive?: string[];
  name?: string;
  segmentSeconds: number;
  segmentBytes: string;
  archiveQueueMax: string;
  baseEvery: string;
  compress?: string;
  compressLevel?: number;
  config?: string;
}

/** "64mb", "1g", "500000" → bytes. */
function parseSize(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${flag} expects a size like 512mb or 2g, got "${v}"`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

const HELP = `
Runs an embedded replica: it connects to the master as a real replica does (AUTH, REPLCONF,
PSYNC), receives the RDB (disk or diskless transfer, verified while it streams) and then the
write stream, and keeps in DIR a Redis 7 multi-part AOF directory that redis-server loads:

  DIR/appendonlydir/appendonly.aof.<n>.base.rdb    the master's RDB from the last full sync
  DIR/appendonlydir/appendonly.aof.<n>.incr.aof    every write since, with #TS: annotations
  DIR/appendonlydir/appendonly.aof.manifest
  DIR/replica-state.json                           replid, offset, db (for partial resync)
  DIR/replica-status.json                          link, offset, syncs, errors (every second)

To bring the data up:  redis-server --dir DIR --appendonly yes --appenddirname appendonlydir
(copy DIR first if the replica keeps running: the server appends to the files it loads).

It ACKs every second, so it counts for the master's min-replicas-to-write. On a lost link it
reconnects with backoff (1 s doubling to 30 s while links keep failing; back to 1 s once a link
had been up for 30 s) and resumes with PSYNC <replid> <offset+1>; a restart does the same and
carries the sync counters of replica-status.json on from the state file.
A full sync writes a new base atomically; old files are deleted only once the new manifest is
durable. If a master comes back EMPTY (or much smaller) under a new replication id - a master
restarted with persistence off - the previous copy is kept and --on-shrink decides: keep (default:
do not follow, retry later), follow (follow it, the previous generation is moved to
DIR/appendonlydir.before-shrink-<time>/), stop (exit 5).

The password never goes on the command line: --password-file, REDISCLI_AUTH, or an ACL user
in the URL with the password from those. An ACL user needs: +psync +replconf +ping.
Stops cleanly on SIGINT/SIGTERM (flushes the AOF, saves the state).

With --archive TARGET (repeatable; a directory, s3://bucket/prefix or sftp://…, as backup --to
takes) it also ships the stream off-site for point-in-time recovery (restore --at): a base at
every full sync and every --base-every (built here with the keyspace engine, no load on the
master), and the stream cut into segments every --segment-seconds / --segment-bytes and at a
clean stop; compressed and encrypted as backups are (--passphrase-file, --recipient or
--no-encrypt). Closed objects wait in DIR/archive/queue until every target verified them (in
order; a target that is down catches up). Past --archive-queue-max the replica stops reading
from the master (a loud error; never silent loss). Lag, queue and targets: replica-status.json
("archive") and /metrics (tsredis_archive_*). Layout and cut rule: README "Point-in-time recovery".

Exit codes: 0 stopped by a signal, 2 usage, 3 I/O, 4 authentication/permission refused,
5 refused to follow a shrinking master (--on-shrink stop); with --once, also: FILE exists (use
--force) or the master is a Redis Cluster node (--shard-only takes its shard alone).

Examples:
  REDISCLI_AUTH=... tsredis-ops replicate --master redis://10.0.0.5:6379 --dir /var/lib/tsredis
  tsredis-ops replicate --master redis://repl@10.0.0.5:6379 --password-file /etc/tsredis/pw \\
      --dir /var/lib/tsredis --fsync everysec --metrics-port 9121
  tsredis-ops replicate --master redis://10.0.0.5:6379 --once -o dump.rdb   (like redis-cli --rdb)
  tsredis-ops replicate --master redis://10.0.0.5:6379 --dir /var/lib/tsredis --name cache-01 \\
      --archive s3://acme-pitr/redis --archive /srv/pitr --passphrase-file /etc/tsredis-ops/passphrase`;

export function register(program: Command): void {
  const cmd = addMasterOptions(program.command('replicate'))
    .description('run an embedded replica of a live master, keeping a Redis-loadable multi-part AOF directory')
    .option('--dir <dir>', 'directory for the AOF directory, state and status files')
    .option('--appenddirname <name>', 'name of the AOF directory inside --dir (as redis.conf appenddirname)', 'appendonlydir')
    .option('--fsync <policy>', 'AOF fsync policy: always | everysec | no', 'everysec')
    .option('--timeout <seconds>', 'declare the link dead after this long without data (repl-timeout)', intOption('--timeout'), 60)
    .option('--announce-port <port>', 'port sent with REPLCONF listening-port (shown in the master INFO)', intOption('--announce-port'), 0)
    .option('--on-shrink <policy>', 'master came back empty/much smaller under a new replid: keep | follow | stop', 'keep')
    .option('--shrink-ratio <r>', 'a new dataset with fewer than r x the previous base keys counts as a shrink', '0.5')
    .option('--max-incr-size <size>', 'start a new base (full sync) when the incr AOF grows past this', '1g')
    .option('--status-file <file>', 'JSON status written every second (default DIR/replica-status.json)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port (/metrics)', intOption('--metrics-port'))
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1')
    .option('--once', 'take one RDB and exit (needs -o), like redis-cli --rdb')
    .option('-o, --output <file>', 'with --once: where to write the RDB')
    .option('--json', 'with --once: print one JSON object')
    .option('--force', 'with --once: replace FILE when it exists')
    .option('--shard-only', "with --once: a Redis Cluster node's shard alone (refused otherwise)")
    .option('--archive <target>', 'point-in-time archive to this target (repeat for several)', collect)
    .option('--name <name>', 'with --archive: the archive name in the target (default: the master host-port)')
    .option('--segment-seconds <n>', 'with --archive: cut a segment after this many seconds', intOption('--segment-seconds'), 10)
    .option('--segment-bytes <size>', 'with --archive: cut a segment at this size', '64m')
    .option('--archive-queue-max <size>', 'with --archive: local queue bound; past it the replica stops reading from the master', '10g')
    .option('--base-every <duration>', 'with --archive: a new base at least this often (e.g. 24h, 2d, 600s)', '24h')
    .option('--compress <gzip|none>', 'with --archive: compression (default gzip)')
    .option('--compress-level <1-9>', 'with --archive: gzip level (default 1)', intOption('--compress-level'))
    .option('--passphrase-file <file>', 'with --archive: encrypt with the passphrase in FILE (or TSREDIS_PASSPHRASE)')
    .option('--recipient <key.asc>', 'with --archive: encrypt to this OpenPGP public key (repeatable)', collect)
    .option('--no-encrypt', 'with --archive: store without encryption (must be explicit)')
    .addHelpText('after', HELP);
  addStoreOptions(cmd);
  cmd.action(action(replicate));
}

/** The archiver for --archive: targets and options checked, stores opened, queue loaded. */
async function openArchiver(flags: ReplicateFlags, appendDir: string, log: (line: string) => void) {
  const cfg = await loadConfig(flags.config);
  const f = flags as unknown as Record<string, unknown>;
  for (const t of flags.archive!) parseTarget(t);
  if (!(flags.segmentSeconds >= 1)) throw new UsageError('--segment-seconds must be at least 1');
  const { spanMs } = await import('../../pitr/duration.js');
  const baseEveryMs = spanMs(flags.baseEvery);
  if (!(baseEveryMs > 0)) throw new UsageError(`--base-every must be a positive duration, got "${flags.baseEvery}"`);
  const { openStore } = await import('../../backup/store/store.js');
  const { Archiver } = await import('../../pitr/archiver.js');
  const archiver = new Archiver({
    name: checkBackupName(flags.name ?? cfg.name ?? defaultName(flags.master)),
    dir: flags.dir!,
    targets: await Promise.all(flags.archive!.map(async (target) => ({ target, store: await openStore(target, storeOptionsFrom(f, cfg, target)) }))),
    pack: {
      compression: parseCompression(flags.compress ?? cfg.compression ?? 'gzip'),
      compressionLevel: flags.compressLevel ?? cfg.compressionLevel,
      encryption: await encryptionFrom(f, cfg),
    },
    segmentSeconds: flags.segmentSeconds,
    segmentBytes: parseSize('--segment-bytes', flags.segmentBytes),
    queueMaxBytes: parseSize('--archive-queue-max', flags.archiveQueueMax),
    baseEveryMs,
    log,
  });
  await archiver.start(appendDir);
  return archiver;
}

async function replicate(flags: ReplicateFlags): Promise<number> {
  if (flags.once) {
    if (!flags.output) throw new UsageError('--once needs -o FILE');
    if (flags.master.startsWith('cluster:')) throw new UsageError('--once takes one node; for every shard of a cluster use: tsredis-ops snapshot --cluster');
    return snapshotOneNode({ ...flags, output: flags.output });
  }
  if (!flags.dir) throw new UsageError('--dir is required (or use --once -o FILE)');
  if (flags.appenddirname.includes('/') || flags.appenddirname === '' || flags.appenddirname.startsWith('.')) {
    throw new UsageError('--appenddirname must be a plain directory name');
  }
  const ratio = Number(flags.shrinkRatio);
  if (!(ratio >= 0 && ratio <= 1)) throw new UsageError(`--shrink-ratio must be between 0 and 1, got "${flags.shrinkRatio}"`);
  if (!(flags.timeout > 0)) throw new UsageError('--timeout must be positive');
  const { ep, tls } = masterEndpoint(flags);
  await mkdir(flags.dir, { recursive: true });

  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const archiver = flags.archive?.length ? await openArchiver(flags, join(flags.dir, flags.appenddirname), log) : null;
  const replica = new Replica({
    endpoint: ep,
    dir: flags.dir,
    appendDirName: flags.appenddirname,
    fsync: oneOf<FsyncPolicy>('--fsync', flags.fsync, ['always', 'everysec', 'no']),
    timeoutMs: flags.timeout * 1000,
    announcePort: flags.announcePort,
    tls,
    onShrink: oneOf<ShrinkPolicy>('--on-shrink', flags.onShrink, ['keep', 'follow', 'stop']),
    shrinkRatio: ratio,
    maxIncrBytes: parseSize('--max-incr-size', flags.maxIncrSize),
    log,
    ...(archiver ? { tap: archiver } : {}),
  });

  let received = 0;
  const live = () => ({ bytesReceived: received + replica.linkBytes, lastIoAgeSeconds: replica.lastIoAgeSeconds });
  replica.onLinkClosed = (bytes) => (received += bytes);
  const status = startStatusFile(flags.statusFile ?? join(flags.dir, 'replica-status.json'), () => ({
    ...statusDocument(replica.status, live()),
    ...(archiver ? { archive: archiver.status() } : {}),
  }));
  let metrics: http.Server | null = null;
  if (flags.metricsPort !== undefined) {
    const { archiveMetrics } = await import('../../pitr/archiver.js');
    metrics = await startMetricsServer(flags.metricsPort, flags.metricsHost, () => prometheusText(replica.status, live()) + (archiver ? archiveMetrics(archiver.status()) : ''));
    log(`metrics on http://${flags.metricsHost}:${flags.metricsPort}/metrics`);
  }

  // A progress line a minute for the journal: offset, throughput, staleness.
  let last = { offset: replica.status.offset, bytes: 0, at: Date.now() };
  const progress = setInterval(() => {
    const st = replica.status;
    const bytes = live().bytesReceived;
    if (st.link === 'up') {
      const secs = (Date.now() - last.at) / 1000;
      log(`streaming: offset ${st.offset} (+${st.offset - last.offset}), ${((bytes - last.bytes) / secs / 1024).toFixed(1)} KiB/s received, incr AOF ${st.incrBytes} bytes, last data ${(live().lastIoAgeSeconds ?? 0).toFixed(1)} s ago`);
    }
    last = { offset: st.offset, bytes, at: Date.now() };
  }, 60_000);
  progress.unref();

  let signalled = false;
  const onSignal = (sig: string) => {
    if (signalled) return;
    signalled = true;
    log(`${sig}: stopping (flushing the AOF, saving the state${archiver ? ', cutting and uploading the open segment' : ''})`);
    replica.stop();
    archiver?.interrupt();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  try {
    await replica.run();
    await archiver?.close();
    log('stopped');
    return ExitCode.OK;
  } finally {
    clearInterval(progress);
    await status.stop();
    metrics?.close();
  }
}
