import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readRdb } from '../../codec/rdb/reader.js';
import { WRITABLE_RDB_VERSIONS } from '../../codec/rdb/value-writer.js';
import { writeRdbFile, type DroppedItem } from '../../codec/rdb/writer.js';
import { ExitCode, RefusedError } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, printJson } from '../run.js';
import { openRdbSource } from './rdb-check.js';

const HELP = `
Rewrites an RDB file for another Redis version, e.g. a 7.4 backup for a 7.0 node, or a 7.0 file
for a 6.2 replica. Every key is validated while it is read. Values whose stored encoding the target
loads are copied byte for byte; the others are decoded and re-encoded the way a Redis of the
target version writes them (listpack/ziplist/intset under the default thresholds, else the plain
forms). AUX fields are kept. The output is written to a temporary file, fsynced and renamed, so
OUT is either the old file or the complete new one.

Target versions: 9 (Redis 5.0-6.2), 10 (7.0), 11 (7.2, Valkey 7.2/8.x), 12 (7.4-8.x).

What an older target cannot represent stops the conversion with an error naming the key:
hash-field TTLs below 12, function libraries below 10, stream consumer-group counters
(entries-added, max-deleted-id, entries-read) below 10, and Redis 8.6 (RDB 13) per-key module
metadata and stream IDMP state, Redis 8.8 (RDB 14) arrays and stream NACK zones, and Valkey 9.2
UPDATE commands for every target (RDB 15 template hashes convert to plain hashes, nothing lost).
With --lossy those are dropped
(hash fields are kept without their TTL) and each drop is listed. Module values are copied as
they are: the target server needs the module to load them. Empty keys (which Redis skips on
load) are left out and listed.

Exit codes: 0 written, 1 the input is corrupt or holds data the target cannot represent
(without --lossy), 2 usage, 3 a file cannot be read or written, 5 OUT exists (use --force).

Examples:
  tsredis-ops rdb-convert dump-7.4.rdb -o dump-7.0.rdb --rdb-version 10
  tsredis-ops rdb-convert dump-7.4.rdb -o dump-7.0.rdb --rdb-version 10 --lossy --json
  gpg -d backup.rdb.gpg | tsredis-ops rdb-convert - -o /var/lib/redis/dump.rdb --rdb-version 9`;

interface ConvertFlags {
  output: string;
  rdbVersion: string;
  lossy?: boolean;
  json?: boolean;
  force?: boolean;
  compress: boolean;
}

export function register(program: Command): void {
  program
    .command('rdb-convert')
    .description('rewrite an RDB file for another target RDB version (written atomically)')
    .argument('<in>', 'RDB file, or - for standard input')
    .requiredOption('-o, --output <out>', 'file to write')
    .addOption(new Option('--rdb-version <n>', 'target RDB version').choices(WRITABLE_RDB_VERSIONS.map(String)).makeOptionMandatory())
    .option('--lossy', 'drop what the target cannot represent (and list it) instead of failing')
    .option('--force', 'replace OUT when it exists')
    .option('--no-compress', 'do not LZF-compress strings (as rdbcompression no)')
    .option('--json', 'print one JSON object describing the result')
    .addHelpText('after', HELP)
    .action(
      action(async (input: string, flags: ConvertFlags) => {
        const out = resolve(flags.output);
        if (input !== '-' && resolve(input) === out) throw new RefusedError(`${flags.output}: refusing to write over the input; choose another output file`);
        if (!flags.force && (await stat(out).catch(() => null))) throw new RefusedError(`${flags.output}: exists; use --force to replace it`);
        const version = Number(flags.rdbVersion);
        const src = await openRdbSource(input);
        const notices: string[] = [];
        const progress = startProgress(`converting ${input}`, { quiet: flags.json });
        let fromVersion = 0;
        let seen = 0;
        try {
          const records = (async function* () {
            for await (const r of readRdb(src, { raw: true, onNotice: (m, at) => notices.push(`byte ${at}: ${m}`) })) {
              if (r.kind === 'header') fromVersion = r.version;
              else if (r.kind === 'key' && ++seen % 10000 === 0) progress.update(`converting ${input}: ${seen} keys, ${formatBytes(r.entry.offset)} read`);
              yield r;
            }
          })();
          const w = await writeRdbFile(out, records, { version, lossy: flags.lossy, compress: flags.compress });
          const summary = {
            input,
            output: flags.output,
            fromVersion,
            toVersion: version,
            keys: w.keyCount,
            bytes: w.bytesWritten,
            dropped: w.dropped,
            notices,
          };
          progress.succeed(`${flags.output}: RDB ${version}, ${w.keyCount} keys, ${formatBytes(w.bytesWritten)}`);
          if (flags.json) printJson(summary);
          else process.stdout.write(formatReport(summary.dropped, notices));
          return ExitCode.OK;
        } catch (e) {
          if (process.stderr.isTTY) progress.fail(`${input}: not converted`);
          throw e;
        } finally {
          await src.close();
        }
      }),
    );
}

function formatReport(dropped: DroppedItem[], notices: string[]): string {
  const lines: string[] = [];
  for (const d of dropped) lines.push(`dropped: ${d.key === null ? '' : `db ${d.db} key "${d.key}": `}${d.what}`);
  for (const n of notices) lines.push(`note: ${n}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
