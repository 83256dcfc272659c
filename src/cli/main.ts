import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode } from '../util/errors.js';
import { hideUrlPasswords } from './argv-secrets.js';
// Each subcommand lives in its own module under ./commands and exports `register(program)`.
type CommandModule = { register(program: Command): void };
/**
 * In the order help lists them. Loaded on demand: every command's modules together (openpgp, the
 * S3 client, ora...) cost about 0.1 s of CPU at start-up, which rdb-check or aof-check of a small
 * file would mostly spend importing what they never use.
 */
const COMMANDS: [string, () => Promise<CommandModule>][] = [
  ['restore', () => import('./commands/restore.js')],
  ['rdb-check', () => import('./commands/rdb-check.js')],
  ['rdb-dump', () => import('./commands/rdb-dump.js')],
  ['rdb-convert', () => import('./commands/rdb-convert.js')],
  ['rdb-memory', () => import('./commands/rdb-memory.js')],
  ['replicate', () => import('./commands/replicate.js')],
  ['snapshot', () => import('./commands/snapshot.js')],
  ['backup', () => import('./commands/backup.js')],
  ['list', () => import('./commands/list.js')],
  ['prune', () => import('./commands/prune.js')],
  ['verify', () => import('./commands/verify.js')],
  ['aof-check', () => import('./commands/aof-check.js')],
  ['aof-dump', () => import('./commands/aof-dump.js')],
  ['aof-rewrite', () => import('./commands/aof-rewrite.js')],
];

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

/** The program with command `only` alone when it names one (argv's subcommand), else with every command (help, typos). */
export async function buildProgram(only?: string): Promise<Command> {
  const known = COMMANDS.some(([name]) => name === only);
  const mods = await Promise.all(COMMANDS.filter(([name]) => !known || name === only).map(async ([name, load]) => [name, await load()] as const));
  const program = new Command('tsredis-ops')
    .version(version)
    .description('Keep Redis data safe: check, repair and rewrite RDB/AOF files, replicate, back up and restore.')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes (all subcommands):
  0  success / file valid            1  data damaged, check or verification failed
  2  usage error                     3  I/O: Redis, S3 or a file could not be reached
  4  crypto: wrong passphrase/key    5  refused for safety (needs --yes, --force, ...)
  6  RDB newer than this tool reads  70 internal error
  130 interrupted

Secrets are never taken as arguments: use --passphrase-file / --password-file or the
environment (TSREDIS_PASSPHRASE, REDISCLI_AUTH, AWS_* for S3).`,
    );
  // restore is registered before exitOverride (so it does not inherit it), as it always was.
  for (const [name, mod] of mods) if (name === 'restore') mod.register(program);
  program.exitOverride();
  for (const [name, mod] of mods) if (name !== 'restore') mod.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `tsredis-ops rdb-dump big.rdb | head` closes our stdout early: that is a normal end, not a crash.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK);
    throw e;
  });
  hideUrlPasswords(argv, (line) => process.stderr.write(`tsredis-ops: warning: ${line}\n`));
  const program = await buildProgram(argv[2]);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
      return;
    }
    throw e;
  }
}
