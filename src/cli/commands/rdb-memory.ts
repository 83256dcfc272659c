import { Command, InvalidArgumentError } from 'commander';
import { open, stat } from 'node:fs/promises';
import { addStoreOptions, decryptionKeysFrom, loadConfig, storeOptionsFrom } from '../../backup/options.js';
import { parseTakenAt } from '../../backup/naming.js';
import { openSource } from '../../backup/source.js';
import { parseTarget } from '../../backup/store/target.js';
import { analyzeRdb, type AnalyzeOptions } from '../../inspect/memory/analyze.js';
import { CSV_HEADER, csvRow } from '../../inspect/memory/format-csv.js';
import { formatHtml } from '../../inspect/memory/format-html.js';
import { formatText } from '../../inspect/memory/format-text.js';
import type { MemoryReportData, ReportOptions } from '../../inspect/memory/report.js';
import { rulesFor } from '../../inspect/memory/rules.js';
import type { StagedRdb } from '../../restore/local-source.js';
import { redactUrl } from '../../net/redis-url.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { ByteSource } from '../../util/byte-source.js';
import { ExitCode, FormatError, NewerVersionError, UsageError } from '../../util/errors.js';
import { bytesOf, startProgress } from '../progress.js';
import { action, intOption, printJson } from '../run.js';
import { stdoutChunks } from '../stdout-chunks.js';

interface MemoryFlags extends Omit<ReportOptions, 'now'> {
  from?: string;
  backup?: string;
  latest?: boolean;
  before?: string;
  config?: string;
  passphraseFile?: string;
  identity?: string[];
  tmpDir?: string;
  passwordFile?: string;
  redisVersion?: string;
  json?: boolean;
  csv?: boolean;
  html?: string;
}

const HELP = `
Estimates what every key of an RDB costs in the server that loads it, in one streaming pass with
bounded memory, and reports where the memory goes: totals by db, type and encoding; the top keys by
memory and by element count; key prefixes (a tree capped in nodes: the smallest branches are folded
and reported as such); TTLs and the bytes that will expire; big keys with the reason they hurt.

Each key's estimate follows \`MEMORY USAGE key SAMPLES 0\` of the Redis release that wrote the file
(its redis-ver aux field) or of --redis-version: the value in the encoding that release gives it on
load (listpack, quicklist nodes, intset, hashtable, skiplist, stream rax and listpacks, int/embstr/
raw strings), the key's sds and dictEntry, every allocation rounded to jemalloc's size classes. Like
MEMORY USAGE it leaves out the db dicts' bucket arrays and the expires dict: the report shows those
as "keyspace overhead". Checked against redis-server 7.0 (see README for the model and its limits).

Sources:
  FILE                  an RDB file (also gzip and/or OpenPGP, detected from content: staged
                        decrypted to a private temp file, as restore does)
  -                     an RDB on standard input
  redis://host:port     a live node: a snapshot over the replication protocol (like redis-cli --rdb),
                        analysed as it streams; nothing is written to disk. Password: --password-file
                        or REDISCLI_AUTH.
  --from DIR|s3://...|sftp://...  with --latest or --backup NAME (optionally --before ISO): a backup
                        made by \`tsredis-ops backup\`, checked against its manifest first.
Encrypted sources: --passphrase-file, $TSREDIS_PASSPHRASE or --identity KEYFILE (as restore).

Output (stdout): the aligned report; --json one JSON object; --csv one row per key with the columns
of redis-rdb-tools' memory report (database,type,key,size_in_bytes,encoding,num_elements,
len_largest_element,expiry); --html FILE also writes a self-contained page (treemap, bars, tables;
no network needed to view it).

Exit codes: 0 report made, 1 the RDB is damaged (one line: file, byte offset, what was expected),
2 usage, 3 source unreachable (file, node, store), 4 wrong passphrase/key or node password,
6 an RDB version newer than this tool reads.

Examples:
  tsredis-ops rdb-memory /var/lib/redis/dump.rdb --top 20
  tsredis-ops rdb-memory dump.rdb --separators ':' --depth 2 --html report.html
  tsredis-ops rdb-memory dump.rdb --csv > memory.csv
  REDISCLI_AUTH=... tsredis-ops rdb-memory redis://10.0.0.5:6379 --json | jq '.topByBytes[:5]'
  tsredis-ops rdb-memory --from s3://backups/redis --latest --passphrase-file /etc/redis/backup.pass`;

/** A regular file starting with an RDB magic (anything else goes through restore's staging: gzip, OpenPGP, or its error). */
async function isPlainRdb(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    if (!(await fh.stat()).isFile()) return false;
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    const magic = head.subarray(0, bytesRead).toString('latin1');
    return magic.startsWith('REDIS') || magic === 'VALKEY';
  } finally {
    await fh.close();
  }
}

function positive(flag: string): (v: string) => number {
  const parse = intOption(flag);
  return (v) => {
    const n = parse(v);
    if (n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got "${v}".`);
    return n;
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('rdb-memory')
    .description('where the memory goes: per-key memory estimate, biggest keys, prefixes, TTLs (text, JSON, CSV, HTML)')
    .argument('[source]', 'RDB file (plain, gzip, OpenPGP), - for standard input, or redis://host:port (a live snapshot)')
    .option('--from <store>', 'a backup store: directory, s3://bucket/prefix or sftp://... (with --latest or --backup)')
    .option('--backup <name>', 'with --from: which backup')
    .option('--latest', 'with --from: the newest backup')
    .option('--before <iso>', 'with --from: only backups taken before this time')
    .option('--passphrase-file <file>', 'passphrase of an encrypted source (or TSREDIS_PASSPHRASE)')
    .option('--identity <keyfile...>', 'OpenPGP secret key(s) for public-key encrypted sources')
    .option('--tmp-dir <dir>', 'where encrypted/compressed sources are staged (default: system temp)')
    .option('--password-file <file>', 'redis:// source: password (first line; else REDISCLI_AUTH)')
    .option('--redis-version <x.y>', "cost keys as this release would (default: the file's redis-ver)")
    .option('--top <n>', 'keys in the top lists', positive('--top'), 50)
    .option('--separators <chars>', 'bytes that end a key prefix', ':|')
    .option('--depth <n>', 'prefix levels', positive('--depth'), 3)
    .option('--max-prefixes <n>', 'prefix tree cap in nodes (the smallest branches fold beyond it)', positive('--max-prefixes'), 20_000)
    .option('--big-key-bytes <n>', 'warn about keys using at least this many bytes', positive('--big-key-bytes'), 10 * 1024 * 1024)
    .option('--big-key-elements <n>', 'warn about aggregates with at least this many elements', positive('--big-key-elements'), 100_000)
    .option('--json', 'print the report as one JSON object')
    .option('--csv', "print one CSV row per key (redis-rdb-tools' memory report columns)")
    .option('--html <file>', 'write a self-contained HTML report to FILE')
    .addHelpText('after', HELP);
  addStoreOptions(cmd);
  cmd.action(action(async (source: string | undefined, f: MemoryFlags) => run(source, f)));
}

async function run(source: string | undefined, f: MemoryFlags): Promise<number> {
  if (!!source === !!f.from) throw new UsageError('give the source: a FILE, -, redis://host:port, or --from STORE with --latest or --backup NAME');
  if (!f.from && (f.backup || f.latest || f.before)) throw new UsageError('--backup, --latest and --before select a backup in --from');
  if (f.json && f.csv) throw new UsageError('--json and --csv both print on stdout: choose one');
  if (f.redisVersion) rulesFor(f.redisVersion);
  if (f.from) parseTarget(f.from);
  // A password in a redis:// URL never reaches the report or the terminal.
  const label = redactUrl(source ?? f.from!);
  // Progress on a terminal's stderr, unless the CSV rows print on that same terminal (garbled).
  const progress = startProgress(`reading ${label}`, { quiet: f.json || (f.csv && process.stdout.isTTY), terminalOnly: true });
  let staged: StagedRdb | null = null;
  let src: ByteSource;
  let size = 0;
  let done: Promise<void> = Promise.resolve();
  const cfg = await loadConfig(f.config);
  if (f.from) {
    const keys = await decryptionKeysFrom(f as unknown as Record<string, unknown>, cfg);
    const before = f.before ? parseTakenAt(f.before) : undefined;
    progress.update(`fetching a backup from ${f.from}`);
    // Loaded on demand (the S3 client, openpgp): a plain file needs neither.
    const { stageFromStore } = await import('../../restore/store-source.js');
    const s = await stageFromStore(f.from, { backup: f.backup, latest: f.latest, before }, storeOptionsFrom(f as unknown as Record<string, unknown>, cfg, f.from), keys, f.tmpDir);
    staged = s;
    src = ByteSource.fromFile(s.path);
    size = (await stat(s.path)).size;
  } else if (source === '-' || /^rediss?:\/\//.test(source!)) {
    // A live node's snapshot streams straight into the analysis: nothing touches the disk.
    const opened = await openSource(source!, { passwordFile: f.passwordFile, shardOnly: true });
    src = ByteSource.fromStream(opened.stream, opened.location, opened.kind === 'file');
    done = opened.done;
  } else if (await isPlainRdb(source!)) {
    src = ByteSource.fromFile(source!);
    size = (await stat(source!)).size;
  } else {
    const { stageLocalFile } = await import('../../restore/local-source.js');
    const keys = await decryptionKeysFrom(f as unknown as Record<string, unknown>, cfg);
    staged = await stageLocalFile(source!, keys, f.tmpDir);
    src = ByteSource.fromFile(staged.path);
    size = (await stat(staged.path)).size;
  }
  const out = f.csv ? stdoutChunks() : null;
  let rows: string[] = [];
  if (out) await out(Buffer.from(CSV_HEADER));
  const opts: AnalyzeOptions = {
    top: f.top,
    separators: f.separators,
    depth: f.depth,
    maxPrefixes: f.maxPrefixes,
    bigKeyBytes: f.bigKeyBytes,
    bigKeyElements: f.bigKeyElements,
    now: Date.now(),
    redisVersion: f.redisVersion,
    onProgress: (off) => progress.update(`reading ${label}: ${bytesOf(off, size)}`),
    ...(out
      ? {
          onKey: (k) => rows.push(csvRow(k)),
          flush: async () => {
            if (rows.length === 0) return;
            const chunk = Buffer.from(rows.join(''));
            rows = [];
            await out(chunk);
          },
        }
      : {}),
  };
  let report: MemoryReportData;
  try {
    report = await analyzeRdb(src, opts);
    await opts.flush?.();
    await done;
    progress.stop();
  } catch (e) {
    if (process.stderr.isTTY) progress.fail(`${label}: failed`);
    if (f.json && e instanceof FormatError) printJson({ valid: false, source: label, reason: 'corrupt', error: { offset: e.offset, expected: e.expected, message: e.message } });
    else if (f.json && e instanceof NewerVersionError) printJson({ valid: false, source: label, reason: e.reason, error: { offset: e.offset, message: e.message } });
    throw e;
  } finally {
    await src.close();
    await staged?.cleanup();
  }
  report.source = label;
  if (f.html) await writeFileAtomic(f.html, formatHtml(report));
  if (f.json) printJson(report);
  else if (!f.csv) process.stdout.write(formatText(report));
  return ExitCode.OK;
}
