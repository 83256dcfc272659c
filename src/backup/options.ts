import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import { readSecretFile } from '../net/redis-url.js';
import { UsageError } from '../util/errors.js';
import type { DecryptionKeys, EncryptionSpec } from './crypto.js';
import { parseDuration, type RetentionPolicy } from './retention.js';
import type { StoreOptions } from './store/store.js';
import { parseTarget } from './store/target.js';

/**
 * Options shared by backup, list, prune and verify, and the JSON config file (`--config FILE`):
 * flags override the file, the environment fills secrets. Secrets are only ever read from files
 * or the environment, never from arguments or the config file itself.
 */
export interface BackupConfig {
  name?: string;
  from?: string;
  /** Several sources in one run, each with its own name. */
  sources?: Array<{ name?: string; from: string; passwordFile?: string; rdbPath?: string; cluster?: boolean; shardOnly?: boolean }>;
  /** `from` is a node of a Redis Cluster: back up every shard as one set (as --cluster). */
  cluster?: boolean;
  /** `from` is a node of a Redis Cluster and its shard alone is wanted (as --shard-only). */
  shardOnly?: boolean;
  preferReplica?: boolean;
  parallel?: number;
  pauseWritesMs?: number;
  /** A target, or { url, s3, sftp } with options for that target alone (over the top-level ones). */
  to?: TargetEntry | TargetEntry[];
  s3?: S3Config;
  /** For sftp:// targets; secrets by file only (keyPassphraseFile, passwordFile). */
  sftp?: SftpConfig;
  compression?: 'gzip' | 'none';
  compressionLevel?: number;
  encryption?: 'none' | { passphraseFile?: string; recipients?: string[]; identities?: string[] };
  retention?: Partial<Record<RetentionFlag, number | string>>;
  passwordFile?: string;
  rdbPath?: string;
  onFailure?: string;
  webhook?: string;
  /** Leftovers of killed runs older than this are swept by backup and prune (as --stale-after). */
  staleAfter?: string;
}

type S3Config = { endpoint?: string; region?: string; pathStyle?: boolean; maxAttempts?: number };
type SftpConfig = { key?: string; keyPassphraseFile?: string; passwordFile?: string; knownHosts?: string; acceptNewHostKey?: boolean; timeoutSeconds?: number; maxAttempts?: number; remoteHash?: boolean };
type TargetEntry = string | { url: string; s3?: S3Config; sftp?: SftpConfig };

const COUNT_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
const WITHIN_RULES = ['keepWithin', 'keepWithinHourly', 'keepWithinDaily', 'keepWithinWeekly', 'keepWithinMonthly', 'keepWithinYearly'] as const;
type RetentionFlag = (typeof COUNT_RULES)[number] | (typeof WITHIN_RULES)[number];

export async function loadConfig(path: string | undefined): Promise<BackupConfig> {
  if (!path) return {};
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new UsageError(`config ${path}: expected a JSON object`);
  const c = cfg as Record<string, unknown>;
  for (const secret of ['passphrase', 'password', 'secretAccessKey']) {
    if (secret in c) throw new UsageError(`config ${path}: "${secret}" must not be in the config; use a file (passphraseFile, passwordFile) or the environment`);
  }
  return c as BackupConfig;
}

/** Adds --keep-* flags (restic's names) to a command. */
export function addRetentionOptions(cmd: Command): Command {
  const int = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < -1) throw new UsageError(`expected a count (-1 = all), got "${v}"`);
    return n;
  };
  for (const r of COUNT_RULES) {
    const period = r.slice(4).toLowerCase();
    cmd.addOption(new Option(`--keep-${period} <n>`, r === 'keepLast' ? 'keep the n newest backups' : `keep the newest backup of each of the n most recent ${period.replace(/ly$/, '').replace('dai', 'day')} periods`).argParser(int));
  }
  for (const r of WITHIN_RULES) {
    const period = r.slice('keepWithin'.length).toLowerCase();
    const flag = period ? `--keep-within-${period}` : '--keep-within';
    cmd.addOption(new Option(`${flag} <duration>`, period ? `keep ${period} backups within DURATION of the newest (e.g. 60d)` : 'keep all backups within DURATION of the newest (e.g. 36h, 2d, 1y6m)'));
  }
  return cmd;
}

/** The policy from flags (camelCase keys as commander gives them) over the config's retention. */
export function policyFrom(flags: Record<string, unknown>, cfg: BackupConfig = {}): RetentionPolicy | undefined {
  const p: RetentionPolicy = {};
  let any = false;
  const pick = (k: RetentionFlag): unknown => flags[k] ?? cfg.retention?.[k];
  for (const r of COUNT_RULES) {
    const v = pick(r);
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < -1) throw new UsageError(`${r}: expected a count, got "${String(v)}"`);
    const key = r.slice(4).toLowerCase() as 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
    p[key] = n;
    any = true;
  }
  for (const r of WITHIN_RULES) {
    const v = pick(r);
    if (v === undefined) continue;
    const key = (r === 'keepWithin' ? 'within' : `within${r.slice('keepWithin'.length)}`) as 'within';
    p[key] = parseDuration(String(v));
    any = true;
  }
  return any ? p : undefined;
}

/** Adds the S3 flags shared by every command that opens a target. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION, else us-east-1)')
    .option('--s3-path-style', 'path-style S3 addressing (MinIO, Ceph, most self-hosted stores)')
    .option('--ssh-key <file>', 'sftp://: private key file (passphrase from --ssh-key-passphrase-file or TSREDIS_SSH_KEY_PASSPHRASE; SSH_AUTH_SOCK is used too)')
    .option('--ssh-key-passphrase-file <file>', 'sftp://: passphrase of --ssh-key')
    .option('--ssh-password-file <file>', 'sftp://: login password in FILE')
    .option('--ssh-known-hosts <file>', 'sftp://: known_hosts to check host keys against (default ~/.ssh/known_hosts)')
    .option('--ssh-accept-new-host-key', 'sftp://: add an unknown host key to --ssh-known-hosts (a changed key is still refused)')
    .option('--sftp-remote-hash', 'sftp://: verify uploads with sha256sum run on the server (when it allows commands) instead of reading them back')
    .option('--config <file>', 'JSON config file (sources, targets, encryption, retention)');
}

/** The config's "to" as a list; an object entry must have a url. */
function targetEntries(cfg: BackupConfig): TargetEntry[] {
  const entries = cfg.to === undefined ? [] : Array.isArray(cfg.to) ? cfg.to : [cfg.to];
  for (const e of entries) {
    if (typeof e !== 'string' && typeof e?.url !== 'string') throw new UsageError(`config "to": expected a target or { "url": TARGET, "s3": {…}, "sftp": {…} }, got ${JSON.stringify(e)}`);
  }
  return entries;
}

/** Store options for `target`: flags over the config's entry for that target over the config's top level. */
export function storeOptionsFrom(flags: Record<string, unknown>, config: BackupConfig = {}, target?: string): StoreOptions {
  const own = targetEntries(config).find((e) => typeof e === 'object' && e.url === target);
  const cfg = typeof own === 'object' ? { ...config, s3: { ...config.s3, ...own.s3 }, sftp: { ...config.sftp, ...own.sftp } } : config;
  return {
    s3Endpoint: (flags.s3Endpoint as string | undefined) ?? cfg.s3?.endpoint,
    s3Region: (flags.s3Region as string | undefined) ?? cfg.s3?.region,
    s3PathStyle: (flags.s3PathStyle as boolean | undefined) ?? cfg.s3?.pathStyle,
    s3MaxAttempts: cfg.s3?.maxAttempts,
    sshKey: (flags.sshKey as string | undefined) ?? cfg.sftp?.key,
    sshKeyPassphraseFile: (flags.sshKeyPassphraseFile as string | undefined) ?? cfg.sftp?.keyPassphraseFile,
    sshPasswordFile: (flags.sshPasswordFile as string | undefined) ?? cfg.sftp?.passwordFile,
    sshKnownHosts: (flags.sshKnownHosts as string | undefined) ?? cfg.sftp?.knownHosts,
    sshAcceptNewHostKey: (flags.sshAcceptNewHostKey as boolean | undefined) ?? cfg.sftp?.acceptNewHostKey,
    sshTimeoutMs: cfg.sftp?.timeoutSeconds !== undefined ? cfg.sftp.timeoutSeconds * 1000 : undefined,
    sshMaxAttempts: cfg.sftp?.maxAttempts,
    sftpRemoteHash: (flags.sftpRemoteHash as boolean | undefined) ?? cfg.sftp?.remoteHash,
  };
}

/** The passphrase from --passphrase-file, the config's passphraseFile, or TSREDIS_PASSPHRASE. */
export function passphraseFrom(flags: Record<string, unknown>, cfg: BackupConfig = {}): string | undefined {
  const file = (flags.passphraseFile as string | undefined) ?? (typeof cfg.encryption === 'object' ? cfg.encryption.passphraseFile : undefined);
  if (file) return readSecretFile(file);
  return process.env.TSREDIS_PASSPHRASE || undefined;
}

export async function encryptionFrom(flags: Record<string, unknown>, cfg: BackupConfig = {}): Promise<EncryptionSpec> {
  const recipients = (flags.recipient as string[] | undefined) ?? (typeof cfg.encryption === 'object' ? cfg.encryption.recipients : undefined);
  if (flags.encrypt === false || cfg.encryption === 'none') {
    if (recipients?.length || flags.passphraseFile) throw new UsageError('--no-encrypt conflicts with --recipient / --passphrase-file');
    return { mode: 'none' };
  }
  // openpgp loads lazily: every other subcommand starts without it.
  if (recipients?.length) return { mode: 'recipients', keys: await (await import('./crypto.js')).loadRecipients(recipients) };
  const passphrase = passphraseFrom(flags, cfg);
  if (passphrase) return { mode: 'passphrase', passphrase };
  throw new UsageError('backups are encrypted: give --passphrase-file FILE, TSREDIS_PASSPHRASE or --recipient KEY.asc (or --no-encrypt, explicitly)');
}

export async function decryptionKeysFrom(flags: Record<string, unknown>, cfg: BackupConfig = {}): Promise<DecryptionKeys> {
  const passphrase = passphraseFrom(flags, cfg);
  const identities = (flags.identity as string[] | undefined) ?? (typeof cfg.encryption === 'object' ? cfg.encryption.identities : undefined);
  const privateKeys = identities?.length ? await (await import('./crypto.js')).loadIdentities(identities, passphrase) : undefined;
  return { passphrase, privateKeys };
}

export function targetsFrom(flags: Record<string, unknown>, cfg: BackupConfig = {}): string[] {
  const flag = flags.to ?? flags.target;
  const fromCfg = targetEntries(cfg).map((e) => (typeof e === 'object' ? e.url : e));
  const list = flag !== undefined ? (Array.isArray(flag) ? flag : [flag]) : fromCfg;
  if (list.length === 0) throw new UsageError('no target: give --to DIR|s3://bucket/prefix|sftp://user@host/path (or "to" in --config)');
  // Refused before any work starts: a typo must not become a local directory of that name.
  for (const t of list as string[]) parseTarget(t);
  return list as string[];
}

/** A default backup name from the source: the file's base name, or host-port of a Redis URL. */
export function defaultName(source: string): string {
  const m = /^(?:bgsave:|cluster:)?rediss?:\/\/(?:[^@/]*@)?([^:/]+)(?::(\d+))?/.exec(source);
  if (m) return `${m[1]}-${m[2] ?? '6379'}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return basename(source).replace(/\.rdb$/i, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'redis';
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}
