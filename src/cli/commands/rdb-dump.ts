import { InvalidArgumentError, Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import type { RedisType } from '../../codec/rdb/model.js';
import { dumpRdb } from '../../inspect/rdb-dump.js';
import { ExitCode } from '../../util/errors.js';
import { bytesOf, startProgress } from '../progress.js';
import { stdoutChunks } from '../stdout-chunks.js';
import { action } from '../run.js';
import { openRdbSource } from './rdb-check.js';

const HELP = `
jsonl prints one object per key: {"db","key","type","expire_at_ms","value"} (+ "key_base64": true
when the key is not valid UTF-8). Values: string -> string; list -> array; set -> array sorted by
bytes; zset -> [[member, "score"], ...] ascending; hash -> {"fields": {...}} (+ "field_expire_at_ms"
for hash-field TTLs; RDB 15 template hashes print the same, field names resolved from the file's
template section); stream -> entries, ids, consumer groups with PEL and consumers (RDB 14: + each
group's "nacked" IDs; a NACKed PEL entry's owner is ""); array (RDB 14) -> {"insert_idx": "n" or
null, "elements": [{"idx": "n", "val": ...}]} (indexes as decimal strings). Function libraries
print as {"function": {"library_name", "engine", "code"}}; Valkey UPDATE commands (VALKEY081
forkless save) as {"db": n, "command": [...]}, in file order.
  --encoding utf8 (default): byte strings that are valid UTF-8 print as text, others as
                             {"base64": "..."} (hash fields that are not UTF-8: "base64:...")
  --encoding base64:         every byte string inside a value is base64 (the corpus ground-truth shape)

resp prints the commands that recreate the selection in an empty server (SELECT, SET/RPUSH/SADD/
ZADD/HMSET/XADD + XSETID/XGROUP/XCLAIM, PEXPIREAT, FUNCTION LOAD), ready for redis-cli --pipe. An array (RDB 14) has no public
command that builds it: it prints as RESTORE <key> 0 <DUMP payload, RDB 14> REPLACE (Redis 8.8+).
Big collections go out as many commands of 64 items each (as Redis's AOF rewrite writes them), so
no command is larger than a server accepts; a big key costs a few times its stored size in memory,
not an object per element.

Examples:
  tsredis-ops rdb-dump dump.rdb | head
  tsredis-ops rdb-dump dump.rdb --db 0 --type hash --match 'user:*' --encoding base64
  tsredis-ops rdb-dump dump.rdb --format resp | redis-cli -p 6380 --pipe
  tsredis-ops rdb-dump dump-from-redis-9.rdb --allow-newer   # keys up to the first unknown type, then exit 6`;

/** Commander-native parse error (exit 2 with usage hint), for a database number. */
function dbNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a database number (0, 1, ...)');
  return n;
}

interface DumpFlags {
  format: 'jsonl' | 'resp';
  encoding: 'utf8' | 'base64';
  db?: number;
  type?: RedisType;
  match?: string;
  allowNewer?: boolean;
}

export function register(program: Command): void {
  program
    .command('rdb-dump')
    .description('print the keys of an RDB file as JSON lines or as Redis commands')
    .argument('<file>', 'RDB file, or - for standard input')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'resp']).default('jsonl'))
    .addOption(new Option('--encoding <encoding>', 'how byte strings print in jsonl').choices(['utf8', 'base64']).default('utf8'))
    .option('--db <n>', 'only keys of this database', dbNumber)
    .addOption(new Option('--type <type>', 'only keys of this type').choices(['string', 'list', 'set', 'zset', 'hash', 'stream', 'module', 'array', 'pathhash']))
    .option('--match <glob>', 'only keys matching this Redis glob pattern (as SCAN MATCH)')
    .option('--allow-newer', 'read a newer RDB version as the newest known; stop (exit 6) at the first unknown type')
    .addHelpText('after', HELP)
    .action(
      action(async (file: string, flags: DumpFlags) => {
        const src = await openRdbSource(file);
        const size = file === '-' ? 0 : (await stat(file)).size;
        // Progress on a terminal's stderr only while the keys go to a file or a pipe: interleaved
        // with keys printed on the same terminal it would only garble them.
        const progress = startProgress(`reading ${file}`, { quiet: process.stdout.isTTY, terminalOnly: true });
        try {
          const { keys } = await dumpRdb(
            src,
            {
              format: flags.format,
              encoding: flags.encoding,
              db: flags.db,
              type: flags.type,
              match: flags.match === undefined ? undefined : Buffer.from(flags.match, 'utf8'),
              allowNewer: flags.allowNewer,
              onProgress: (off) => progress.update(`reading ${file}: ${bytesOf(off, size)}`),
            },
            stdoutChunks(),
          );
          progress.succeed(`${file}: ${keys} keys`);
          return ExitCode.OK;
        } catch (e) {
          if (process.stderr.isTTY) progress.fail(`${file}: failed`);
          throw e;
        } finally {
          await src.close();
        }
      }),
    );
}
