import type { Command } from 'commander';
import { aofLoadFiles, readAof, type AofItem } from '../../codec/aof/reader.js';
import { needsQuoting, quoteArg } from '../../codec/aof/manifest.js';
import { ExitCode, FormatError } from '../../util/errors.js';
import { action, intOption, jsonReplacer } from '../run.js';

const HELP = `
Prints every command of the AOF in the order Redis loads it (RDB preamble/base content is
summarized, not listed), one per line:

  <file> <offset> <line> db=<db> ts=<last #TS annotation> <command and arguments>

so you can find where to cut (aof-check --truncate-to-timestamp / --undo-flush, or by hand).
Offsets are bytes from the start of that file; lines count CRLF lines as redis-check-aof does.
Arguments are printed as-is when printable, else double-quoted with C escapes.

--from-offset N starts at byte N of the last file (where cuts happen; earlier files are skipped).
--db N keeps commands run in db N; --match GLOB keeps commands whose key (first argument) matches
the Redis-style GLOB (* ? [abc] [^a-z] \\x). --json prints one JSON object streamed as it goes:
{"files": [...], "commands": [{"file","offset","line","db","timestampS","argv"}], "error"}; arguments
that are not UTF-8 are given as {"base64": "..."}.

Exit codes: 0 read to the end, 1 the AOF is damaged (everything before the damage is printed,
then one line naming file, offset and what was expected), 2 usage.

Examples:
  tsredis-ops aof-dump /var/lib/redis/appendonlydir | grep -n -i flushall
  tsredis-ops aof-dump appendonlydir --db 0 --match 'user:*' | tail
  tsredis-ops aof-dump appendonlydir --from-offset 1048576 --json | jq '.commands[0]'`;

interface Flags {
  json?: boolean;
  fromOffset?: number;
  db?: number;
  match?: string;
}

/** Redis's glob (stringmatchlen) as a RegExp over latin1 text. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (glob[j] === '^') {
        cls += '^';
        j++;
      }
      for (; j < glob.length && glob[j] !== ']'; j++) {
        if (glob[j] === '\\' && j + 1 < glob.length) cls += escapeRe(glob[++j]!);
        else if (glob[j] === '-' && cls.length > 0 && glob[j + 1] !== ']') cls += '-';
        else cls += escapeRe(glob[j]!);
      }
      re += `[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function showArg(a: Buffer): string {
  return needsQuoting(a) ? quoteArg(a) : a.toString('latin1');
}

function jsonArg(a: Buffer): string | { base64: string } {
  const s = a.toString('utf8');
  return Buffer.from(s, 'utf8').equals(a) ? s : { base64: a.toString('base64') };
}

export function register(program: Command): void {
  program
    .command('aof-dump')
    .description('print the commands of an AOF with file, offset, line, db and timestamp')
    .argument('<path>', 'AOF file, manifest, or appendonlydir')
    .option('--json', 'print one JSON object (streamed)')
    .option('--from-offset <n>', 'start at this byte of the last file', intOption('--from-offset'))
    .option('--db <n>', 'only commands applied to this db', intOption('--db'))
    .option('--match <glob>', 'only commands whose key (first argument) matches GLOB')
    .addHelpText('after', HELP)
    .action(action((path: string, flags: Flags) => runAofDump(path, flags)));
}

async function runAofDump(path: string, flags: Flags): Promise<number> {
  const files = await aofLoadFiles(path);
  const last = files.at(-1);
  const re = flags.match !== undefined ? globToRegExp(flags.match) : null;
  const out = process.stdout;
  let pending = '';
  const write = async (s: string): Promise<void> => {
    pending += s;
    if (pending.length < 1 << 16) return;
    const chunk = pending;
    pending = '';
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', r));
  };
  let first = true;
  let rdbKeys = 0;
  if (flags.json) await write(`{"files":${JSON.stringify(files)},"commands":[`);
  const keep = (it: Extract<AofItem, { kind: 'command' }>): boolean => {
    if (flags.fromOffset !== undefined && (it.file !== last || it.offset < flags.fromOffset)) return false;
    const name = it.argv[0]!.toString('latin1').toLowerCase();
    if ((flags.db !== undefined || re) && name === 'select') return false;
    if (flags.db !== undefined && it.db !== flags.db) return false;
    if (re && (it.argv.length < 2 || !re.test(it.argv[1]!.toString('latin1')))) return false;
    return true;
  };
  let error: FormatError | null = null;
  try {
    for await (const it of readAof(path)) {
      if (it.kind === 'rdb') {
        if (it.record.kind === 'key') rdbKeys++;
        if (it.record.kind === 'eof' && !flags.json && flags.fromOffset === undefined && flags.db === undefined && !re) {
          await write(`# ${it.file}: RDB part with ${rdbKeys} keys (use rdb-dump to list them)\n`);
          rdbKeys = 0;
        }
        continue;
      }
      if (it.kind !== 'command' || !keep(it)) continue;
      if (flags.json) {
        const rec = { file: it.file, offset: it.offset, line: it.line, db: it.db, timestampS: it.timestampS, argv: it.argv.map(jsonArg) };
        await write(`${first ? '\n' : ',\n'}${JSON.stringify(rec, jsonReplacer)}`);
        first = false;
      } else {
        const ts = it.timestampS === null ? '-' : String(it.timestampS);
        await write(`${it.file}\t${it.offset}\t${it.line}\tdb=${it.db}\tts=${ts}\t${it.argv.map(showArg).join(' ')}\n`);
      }
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    error = e;
  }
  if (flags.json) await write(`\n],"error":${error ? JSON.stringify(error.message) : 'null'}}\n`);
  out.write(pending);
  if (error) {
    process.stderr.write(`tsredis-ops: ${error.message}\n`);
    return ExitCode.DATA;
  }
  return ExitCode.OK;
}
