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

Reads RDB 1-15 (Redis 2.x-8.10: arrays, stream NACK zones, hash templates) and Valkey 9
(VALKEY080, VALKEY081 with path hashes and forkless-save UPDATE commands) files. "-" reads standard input.
Redis Enterprise opcodes 107 (RAM_LRU) and 121 (SLOT_NUM) are skipped with a note.

A newer version than that exits 6 naming the version found and those read; --allow-newer reads it
anyway as the newest known version and stops (exit 6) at the first type or opcode it does not know,
naming its byte offset. Types named in public sources whose layout is not public (33 GCRA, 34-35
set-member TTLs) also exit 6 with their offset.

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
    .option('--allow-newer', 'read a newer RDB version as the newest known; stop at the first unknown type or opcode')
    .addHelpText('after', HELP)
    .action(
      action(async (file: string, flags: { json?: boolean; allowNewer?: boolean }) => {
        const src = await openRdbSource(file);
        const size = file === '-' ? 0 : (await stat(file)).size;
        // The report goes to stdout; the spinner (a terminal only) just shows how far the read is.
        const progress = startProgress(`checking ${file}`, { quiet: flags.json, terminalOnly: true });
        try {
          const summary = await summarizeRdb(src, {
            allowNewer: flags.allowNewer,
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
            printJson(e.toJson());
          }
          throw e;
        } finally {
          await src.close();
        }
      }),
    );
}
