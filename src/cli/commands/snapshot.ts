import type { Command } from 'commander';
import { createWriteStream, readFileSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type tls from 'node:tls';
import { refuseClusterNode } from '../../backup/cluster-guard.js';
import { parseRedisUrl, type RedisEndpoint } from '../../net/redis-url.js';
import { fetchSnapshot, type SnapshotResult } from '../../replica/snapshot.js';
import { fsyncDir, tempPathFor } from '../../util/atomic-file.js';
import { ExitCode, RefusedError, UsageError } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, intOption, printJson } from '../run.js';

/** Connection flags shared by `snapshot` and `replicate`. */
export interface MasterFlags {
  master: string;
  passwordFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsInsecure?: boolean;
}

export function addMasterOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--master <url>', 'master to sync from: redis://[user@]host:port or rediss:// for TLS (password: --password-file or REDISCLI_AUTH; one in the URL is accepted, masked in ps, and warned about)')
    .option('--password-file <file>', 'file whose first line is the password (else REDISCLI_AUTH / TSREDIS_PASSWORD)')
    .option('--tls-ca <file>', 'CA bundle (PEM) to verify the master (rediss://)')
    .option('--tls-cert <file>', 'client certificate (PEM) for TLS client authentication')
    .option('--tls-key <file>', 'client private key (PEM)')
    .option('--tls-insecure', 'do not verify the master certificate (testing only)');
}

export function masterEndpoint(flags: MasterFlags): { ep: RedisEndpoint; tls?: tls.ConnectionOptions } {
  const ep = parseRedisUrl(flags.master, { passwordFile: flags.passwordFile });
  if (!ep.tls && (flags.tlsCa || flags.tlsCert || flags.tlsKey)) throw new UsageError('--tls-* options need a rediss:// master URL');
  if (!ep.tls) return { ep };
  return {
    ep,
    tls: {
      ...(flags.tlsCa ? { ca: readPem(flags.tlsCa) } : {}),
      ...(flags.tlsCert ? { cert: readPem(flags.tlsCert) } : {}),
      ...(flags.tlsKey ? { key: readPem(flags.tlsKey) } : {}),
      ...(flags.tlsInsecure ? { rejectUnauthorized: false } : {}),
    },
  };
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * One RDB from the master into `out`: written to a temp name, renamed into place only once the
 * transfer ended and the RDB validated (structure + CRC), so `out` is never a partial file.
 */
export async function snapshotToFile(flags: MasterFlags & { timeout?: number }, out: string, quiet: boolean): Promise<SnapshotResult> {
  const { ep, tls } = masterEndpoint(flags);
  const progress = startProgress(`snapshot from ${ep.display}`, { quiet });
  const tmp = tempPathFor(out);
  const file = createWriteStream(tmp, { flags: 'wx' });
  const closed = new Promise<void>((resolve, reject) => {
    file.once('close', () => resolve());
    file.once('error', reject);
  });
  try {
    const res = await fetchSnapshot(ep, file, {
      tls,
      timeoutMs: (flags.timeout ?? 60) * 1000,
      onProgress: (bytes, total) => progress.update(`snapshot from ${ep.display}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''}`),
    });
    file.end();
    await closed;
    const fh = await open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await rename(tmp, out);
    await fsyncDir(dirname(out));
    progress.succeed(`${out}: ${formatBytes(res.bytes)}, ${res.rdb.keys} keys, replid ${res.replid} offset ${res.offset} (${res.mode} transfer, RDB verified)`);
    return res;
  } catch (e) {
    file.destroy();
    await closed.catch(() => {});
    await rm(tmp, { force: true });
    progress.fail(`snapshot from ${ep.display} failed`);
    throw e;
  }
}

export function snapshotJson(out: string, r: SnapshotResult): Record<string, unknown> {
  return { file: out, bytes: r.bytes, keys: r.rdb.keys, rdbVersion: r.rdb.version, replid: r.replid, offset: r.offset, transfer: r.mode, redisVersion: r.rdb.aux['redis-ver'] ?? null };
}

const HELP = `
Takes one RDB from a running master over the replication protocol, the way \`redis-cli --rdb\`
does (REPLCONF rdb-only 1: the master forks, sends the RDB and closes the link). Works where
you cannot reach the master's disk. The RDB is verified (structure and CRC-64) while it
streams and only renamed to FILE once complete and valid.

With --cluster the master is any node of a Redis Cluster and -o a directory: every shard's RDB is
taken (as \`backup --cluster --compress none --no-encrypt\` does: see "Cluster backups" in the README)
and written there as snapshot-<time>.shard<i>.rdb, with a manifest each and a set manifest last.

Exit codes: 0 done, 1 the RDB received was damaged, 2 usage, 3 master unreachable or the
link failed, 4 authentication failed, 5 refused: FILE exists (use --force) or the master is a
Redis Cluster node (its RDB holds one shard: --cluster takes every shard, --shard-only this one).

Examples:
  REDISCLI_AUTH=... tsredis-ops snapshot --master redis://10.0.0.5:6379 -o /backups/dump.rdb
  tsredis-ops snapshot --master cluster:redis://10.0.0.5:7000 -o /backups/cluster-snap/
  tsredis-ops snapshot --master rediss://backup@redis.internal:6380 --password-file /etc/tsredis/pw \\
      --tls-ca /etc/ssl/redis-ca.pem -o dump.rdb --json`;

export function register(program: Command): void {
  addMasterOptions(program.command('snapshot'))
    .description('take one RDB from a live master over the replication protocol (like redis-cli --rdb)')
    .requiredOption('-o, --output <file>', 'where to write the RDB (atomically; refused if it exists, unless --force)')
    .option('--force', 'replace FILE when it exists')
    .option('--shard-only', "a Redis Cluster node: take this node's shard alone (refused otherwise)")
    .option('--cluster', 'the master is any node of a Redis Cluster (or give --master cluster:redis://…): one plain RDB per shard into the directory -o, with manifests and a set manifest (a backup set restore --from reads)')
    .option('--timeout <seconds>', 'give up after this long without data from the master', intOption('--timeout'), 60)
    .option('--json', 'print one JSON object describing the snapshot')
    .addHelpText('after', HELP)
    .action(
      action(async (flags: MasterFlags & { output: string; timeout: number; json?: boolean; force?: boolean; shardOnly?: boolean; cluster?: boolean }) => {
        if (flags.cluster || flags.master.startsWith('cluster:')) return snapshotCluster(flags);
        return snapshotOneNode(flags);
      }),
    );
}

export interface OneNodeFlags extends MasterFlags {
  output: string;
  timeout?: number;
  json?: boolean;
  force?: boolean;
  shardOnly?: boolean;
}

/**
 * `snapshot -o FILE` and `replicate --once -o FILE`: refused when FILE exists (unless --force) and
 * when the master is a cluster node (unless --shard-only), since its RDB holds one shard only.
 */
export async function snapshotOneNode(flags: OneNodeFlags): Promise<number> {
  if (!flags.force && (await stat(flags.output).catch(() => null))) throw new RefusedError(`${flags.output}: exists; use --force to replace it`);
  if (!flags.shardOnly) {
    const { ep, tls } = masterEndpoint(flags);
    await refuseClusterNode(ep, {
      tls,
      log: (line) => process.stderr.write(`tsredis-ops: ${line}\n`),
      wholeCluster: 'give --cluster to take every shard (one RDB each, into a directory)',
    });
  }
  const res = await snapshotToFile(flags, flags.output, !!flags.json);
  if (flags.json) printJson(snapshotJson(flags.output, res));
  return ExitCode.OK;
}

/**
 * Every shard of a cluster, as plain RDBs: a cluster set (backup --cluster) without compression or
 * encryption into the directory -o, so the files load into Redis as they are and `restore --from
 * DIR` reads them as one set.
 */
async function snapshotCluster(flags: MasterFlags & { output: string; json?: boolean; shardOnly?: boolean; tlsCa?: string }): Promise<number> {
  if (flags.shardOnly) throw new UsageError('--cluster takes every shard; --shard-only one: give one of them');
  if (flags.tlsCa || flags.tlsCert || flags.tlsKey || flags.tlsInsecure) throw new UsageError('--cluster does not take --tls-* options yet');
  const st = await stat(flags.output).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--cluster writes one RDB per shard: -o ${flags.output} must be a directory`);
  const { runClusterBackup } = await import('../../backup/run-cluster-backup.js');
  const progress = startProgress('cluster snapshot', { quiet: !!flags.json });
  const out = await runClusterBackup({
    name: 'snapshot',
    seed: flags.master.replace(/^cluster:/, ''),
    passwordFile: flags.passwordFile,
    targets: [flags.output],
    compression: 'none',
    encryption: { mode: 'none' },
    log: (line) => progress.log(line),
  });
  if (out.ok) progress.succeed(`${flags.output}: ${out.set!.shards.map((s) => s.object).join(', ')} (${out.set!.keys.total} keys, RDBs verified; set manifest ${out.object})`);
  else progress.fail(`cluster snapshot failed: ${out.error ?? out.targets[0]?.error ?? 'failed'}`);
  if (flags.json) printJson(out);
  return out.exitCode;
}
