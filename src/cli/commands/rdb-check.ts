import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { formatSummary, summarizeRdb } from '../../inspect/rdb-summary.js';
import { ByteSource } from '../../util/byte-source.js';
import { ExitCode, FormatError, IoError, NewerVersionError, oneLine } from '../../util/errors.js';
import { bytesOf, startProgress } from '../progress.js';
import { action, printJson } from '../run.js';

const HELP = `
Reads the whole file once, validating every record the way redis-check-rdb does (lengths, string
encodings, LZF, listpack/ziplist/intset integrity, duplicate members, stream consistency, the
CRC-64 trailer), and reports what an operator wants to know before loading it: RDB version, aux
fields (redis-ver, ctime, used-mem, repl-id/offset), key counts per db and type, keys with a TTL
and keys already expired (a master drops those at load), function libraries, checksum status.

Reads RDB 1-13 (Redis 2.x-8.x) and Valkey 8/9 (VALKEY080) files. "-" reads standard input.

Exit codes: 0 valid, 1 corrupt (one line: file, byte offset, what was expected), 2 usage,
3 the file cannot be read, 6 an RDB version newer than this tool reads (--json: "reason":
"newer-version"; a corrupt file has "reason": "corrupt").

Examples:
  tsredis-ops rdb-check /var/lib/redis/dump.rdb
  tsredis-ops rdb-check dump.rdb --json | jq '.databases[] | {db, keys}'
  gpg -d backup.rdb.gpg | tsredis-ops rdb-check -`;

export async function openRdbSource(file: string): Promise<ByteSource> {
  if (file === '-') return ByteSource.fromStream(process.stdin, 'stdin');
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new IoError(`${file}: not a regular file`);
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw new IoError(`${file}: cannot read: ${oneLine(e)}`);
  }
  return ByteSource.fromFile(file);
}

export function register(program: Command): void {
  program
    .command('rdb-check')
    .description('validate an RDB file and summarize its contents (like redis-check-rdb, plus counts)')
    .argument('<file>', 'RDB file, or - for standard input')
    .option('--json', 'print one JSON object (also for a corrupt file: {"valid": false, "error": ...})')
    .addHelpText('after', HELP)
    .action(
      action(async (file: string, flags: { json?: boolean }) => {
        const src = await openRdbSource(file);
        const size = file === '-' ? 0 : (await stat(file)).size;
        // The report goes to stdout; the spinner (a terminal only) just shows how far the read is.
        const progress = startProgress(`checking ${file}`, { quiet: flags.json, terminalOnly: true });
        try {
          const summary = await summarizeRdb(src, {
            onProgress: (off) => progress.update(`checking ${file}: ${bytesOf(off, size)}`),
          });
          progress.stop();
          if (flags.json) printJson({ valid: true, ...summary });
          else process.stdout.write(`${formatSummary(summary)}\n`);
          return ExitCode.OK;
        } catch (e) {
          if (process.stderr.isTTY) progress.fail(`${file}: corrupt`);
          if (flags.json && e instanceof FormatError) {
            printJson({ valid: false, file, reason: 'corrupt', error: { offset: e.offset, expected: e.expected, message: e.message } });
          } else if (flags.json && e instanceof NewerVersionError) {
            printJson({ valid: false, file, reason: e.reason, error: { offset: e.offset, found: e.found, supported: e.supported, message: e.message } });
          }
          throw e;
        } finally {
          await src.close();
        }
      }),
    );
}
