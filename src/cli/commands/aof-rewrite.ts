import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { WRITABLE_RDB_VERSIONS } from '../../codec/rdb/value-writer.js';
import { rewriteAof, rewriteInPlace, type RewriteFormat, type RewriteSummary } from '../../engine/rewrite.js';
import { UsageError } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, intOption, printJson } from '../run.js';

const HELP = `
Compacts an AOF offline, without a running Redis: every command is replayed into an in-memory
keyspace exactly as a loading Redis applies it (keys are never expired while replaying, as on a
loading server or a replica), then the dataset is written out in the smallest equivalent form.
PATH may be a single AOF (plain or with an RDB preamble), a Redis 7 manifest, or an appendonlydir.

Output formats:
  multipart (default)  a new directory OUT like Redis 7's appendonlydir: an RDB base (or a command
                       base with --base aof), an empty incr file and the manifest
  preamble             one file OUT: an RDB, as a Redis 4-6 rewrite with aof-use-rdb-preamble yes
  resp                 one file OUT: plain commands (SET/RPUSH/SADD/ZADD/HMSET/XADD..., PEXPIREAT)
Big lists, sets, sorted sets and hashes are written as they are walked, 64 items per command in
command output (as Redis's own rewrite does), so the output never needs memory of its own.

Keys (and hash fields) whose TTL is at or before --now (default: the current time) are left out,
as a server rewriting at that moment would. The RDB version defaults to what the producer loads
(the version of the input's RDB part, else 10 for a Redis 7+ AOF, 12 with hash-field TTLs, else 9);
--rdb-version overrides it.

--in-place on a multi-part directory does what BGREWRITEAOF does: a new base and a new empty incr
(next sequence numbers) are written and fsynced, the manifest is replaced atomically with the old
files marked history, and only once that manifest is durable are the old files deleted
(--keep-history keeps them listed as history). A crash at any point leaves a directory Redis
loads. Stop Redis first: a running server keeps appending to the incr file it has open.

A command that Redis would answer with an error changes nothing, as when Redis loads the file,
and is counted. A command the engine cannot replay (EVAL in an old AOF, a module command) stops
the rewrite with its file and byte offset, unless --skip-unsupported (the summary counts them).

Exit codes: 0 written, 1 the AOF is damaged or holds a command that cannot be replayed,
2 usage, 3 a file cannot be read or written, 5 OUT exists.

Examples:
  tsredis-ops aof-rewrite /var/lib/redis/appendonlydir -o /backup/appendonlydir
  tsredis-ops aof-rewrite appendonly.aof -o compact.aof --format resp --now 2026-11-21T00:00:00Z
  tsredis-ops aof-rewrite /var/lib/redis/appendonlydir --in-place --json`;

interface RewriteFlags {
  output?: string;
  format: RewriteFormat;
  base: 'rdb' | 'aof';
  now?: string;
  inPlace?: boolean;
  keepHistory?: boolean;
  skipUnsupported?: boolean;
  rdbVersion?: string;
  lossy?: boolean;
  hllSparseMaxBytes?: number;
  databases?: number;
  json?: boolean;
}

/** --now as an ISO date or unix milliseconds. */
export function parseNow(text: string | undefined): number {
  if (text === undefined) return Date.now();
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--now expects an ISO date (2026-11-21T10:00:00Z) or unix milliseconds, got "${text}"`);
  return t;
}

function report(s: RewriteSummary): string[] {
  const lines = [
    `input: ${s.input.files.length} file(s), ${formatBytes(s.input.bytes)}, ${s.input.commands} commands, ${s.input.rdbKeys} keys from RDB`,
    `output: ${s.output.path} (${s.output.format}${s.output.rdbVersion !== null ? `, RDB ${s.output.rdbVersion}` : ''}), ${formatBytes(s.output.bytes)}`,
    `keys: ${s.keys} written, ${s.expiredLeftOut} expired at --now left out; functions: ${s.functions}`,
  ];
  if (s.replay.errors) lines.push(`${s.replay.errors} command(s) Redis would have refused were without effect; first: ${s.replay.firstError}`);
  if (s.replay.skipped.size) lines.push(`skipped unsupported: ${[...s.replay.skipped].map(([n, c]) => `${n} x${c}`).join(', ')}`);
  return lines;
}

export function register(program: Command): void {
  program
    .command('aof-rewrite')
    .description('compact an AOF offline (replay it, write the equivalent multi-part dir, preamble AOF or command AOF)')
    .argument('<path>', 'AOF file, manifest, or appendonlydir')
    .option('-o, --output <out>', 'output directory (multipart) or file (preamble, resp)')
    .addOption(new Option('--format <format>', 'output form').choices(['multipart', 'preamble', 'resp']).default('multipart'))
    .addOption(new Option('--base <kind>', 'base file of a multipart output').choices(['rdb', 'aof']).default('rdb'))
    .option('--now <time>', 'leave out keys expired at this time (ISO date or unix ms; default now)')
    .option('--in-place', 'rewrite a multi-part directory in place, as BGREWRITEAOF does')
    .option('--keep-history', 'with --in-place: keep the old files, listed as history')
    .option('--skip-unsupported', 'leave out commands that cannot be replayed (counted) instead of stopping')
    .addOption(new Option('--rdb-version <n>', 'RDB version of RDB output').choices(WRITABLE_RDB_VERSIONS.map(String)))
    .option('--lossy', 'drop what --rdb-version cannot represent (listed) instead of failing')
    .option('--hll-sparse-max-bytes <n>', "the producer's hll-sparse-max-bytes (default 3000)", intOption('--hll-sparse-max-bytes'))
    .option('--databases <n>', "the producer's databases setting (default 16)", intOption('--databases'))
    .option('--json', 'print one JSON object describing the result')
    .addHelpText('after', HELP)
    .action(
      action(async (path: string, flags: RewriteFlags) => {
        if (flags.inPlace && flags.output) throw new UsageError('--in-place and -o/--output exclude each other');
        if (!flags.inPlace && !flags.output) throw new UsageError('give -o/--output (or --in-place for a multi-part directory)');
        if (flags.output && resolve(flags.output) === resolve(path)) throw new UsageError('the output must differ from the input (or use --in-place)');
        const progress = startProgress(`rewriting ${path}`, { quiet: flags.json });
        const opts = {
          format: flags.format,
          base: flags.base,
          nowMs: parseNow(flags.now),
          rdbVersion: flags.rdbVersion ? Number(flags.rdbVersion) : undefined,
          lossy: flags.lossy,
          skipUnsupported: flags.skipUnsupported,
          hllSparseMaxBytes: flags.hllSparseMaxBytes,
          databases: flags.databases,
          keepHistory: flags.keepHistory,
          onProgress: (t: string) => progress.update(t),
        };
        let s: RewriteSummary;
        try {
          s = flags.inPlace ? await rewriteInPlace(path, opts) : await rewriteAof(path, flags.output!, opts);
        } catch (e) {
          if (process.stderr.isTTY) progress.fail(`rewrite of ${path} failed`);
          throw e;
        }
        if (flags.json) {
          printJson({ ...s, replay: { ...s.replay, skipped: Object.fromEntries(s.replay.skipped) } });
        } else {
          progress.succeed(`rewrote ${path}`);
          for (const l of report(s)) process.stdout.write(`${l}\n`);
        }
      }),
    );
}
