import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode } from '../util/errors.js';
import { hideUrlPasswords } from './argv-secrets.js';
import { register as registerRdbCheck } from './commands/rdb-check.js';
import { register as registerRdbDump } from './commands/rdb-dump.js';
import { register as registerRdbConvert } from './commands/rdb-convert.js';
import { register as registerRestore } from './commands/restore.js';
import { register as registerReplicate } from './commands/replicate.js';
import { register as registerSnapshot } from './commands/snapshot.js';
import { register as registerBackup } from './commands/backup.js';
import { register as registerList } from './commands/list.js';
import { register as registerPrune } from './commands/prune.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerAofCheck } from './commands/aof-check.js';
import { register as registerAofDump } from './commands/aof-dump.js';
import { register as registerAofRewrite } from './commands/aof-rewrite.js';

// Each subcommand lives in its own module under ./commands and exports `register(program)`.

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export function buildProgram(): Command {
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
  registerRestore(program);
  program.exitOverride();
  registerRdbCheck(program);
  registerRdbDump(program);
  registerRdbConvert(program);
  registerReplicate(program);
  registerSnapshot(program);
  registerBackup(program);
  registerList(program);
  registerPrune(program);
  registerVerify(program);
  registerAofCheck(program);
  registerAofDump(program);
  registerAofRewrite(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `tsredis-ops rdb-dump big.rdb | head` closes our stdout early: that is a normal end, not a crash.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK);
    throw e;
  });
  hideUrlPasswords(argv, (line) => process.stderr.write(`tsredis-ops: warning: ${line}\n`));
  const program = buildProgram();
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
