import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { checkAof, type AofCheckReport, type CutPlan, type FileReport } from '../../aof/check.js';
import { applyCut, type CutResult } from '../../aof/cut.js';
import { analyzeUndoFlush, type UndoFlushAnalysis } from '../../aof/undo-flush.js';
import { ExitCode, NewerVersionError, UsageError } from '../../util/errors.js';
import { formatBytes, startProgress } from '../progress.js';
import { action, printJson } from '../run.js';

const HELP = `
PATH is a single AOF (plain or with an RDB preamble), a Redis 7 manifest, or an appendonlydir.
The files are checked in the order Redis loads them (base, then each incr) with exactly the rules
of redis-check-aof 7: the same valid/invalid verdict, the same ok_up_to offset and line, and with
--fix the very same cut (the last complete command, or before an unterminated MULTI).

Safer than redis-check-aof:
  * the original is copied aside first (<file>.<UTC time>.bak, or into --backup-dir), fsynced;
  * the report says how many bytes and commands are dropped, and whether the damage is only at
    the tail (a crash mid-write) or in the middle (good commands after it are lost: said loudly);
  * --dry-run shows the cut and changes nothing;
  * on a terminal it asks before cutting; without one (cron) it cuts only with --yes and never
    waits for an answer;
  * the cut is a truncate + fsync of the same file, refused if the file grew since it was checked.

--undo-flush recovers from an accidental FLUSHALL/FLUSHDB: it cuts the last AOF just before its
last flush, if nothing was written after it (otherwise it refuses and says what came after).
Stop Redis first, cut, start Redis again on the same directory.

Exit codes: 0 valid (or repaired), 1 damaged / not fixed / refused, 2 usage, 6 an RDB preamble of
a newer version than this tool reads (--json: "reason": "newer-version").

Examples:
  tsredis-ops aof-check /var/lib/redis/appendonlydir
  tsredis-ops aof-check /var/lib/redis/appendonlydir --fix --dry-run
  tsredis-ops aof-check /var/lib/redis/appendonlydir --fix --yes --backup-dir /srv/aof-backups
  tsredis-ops aof-check appendonly.aof --truncate-to-timestamp 1795288289 --yes
  systemctl stop redis && tsredis-ops aof-check /var/lib/redis/appendonlydir --undo-flush \\
      && systemctl start redis
  tsredis-ops aof-check /var/lib/redis/appendonlydir --json | jq .valid`;

interface Flags {
  fix?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  truncateToTimestamp?: string;
  undoFlush?: boolean;
  backupDir?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('aof-check')
    .description('check an AOF like redis-check-aof; --fix, --truncate-to-timestamp and --undo-flush cut it safely')
    .argument('<path>', 'AOF file, manifest, or appendonlydir')
    .option('--fix', 'cut the last file at the last complete command (as redis-check-aof --fix)')
    .option('--truncate-to-timestamp <unix>', 'cut before the first #TS annotation newer than UNIX seconds')
    .option('--undo-flush', 'cut just before the last FLUSHALL/FLUSHDB when nothing was written after it')
    .option('--dry-run', 'show the cut, change nothing')
    .option('--yes', 'cut without asking (required when there is no terminal)')
    .option('--backup-dir <dir>', 'keep the original here instead of beside it')
    .option('--json', 'print one JSON object')
    .addHelpText('after', HELP)
    .action(action((path: string, flags: Flags) => runAofCheck(path, flags)));
}

function parseTimestamp(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0 || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--truncate-to-timestamp expects unix seconds (a positive integer), got "${v}"`);
  }
  return Number(v);
}

async function runAofCheck(path: string, flags: Flags): Promise<number> {
  const actions = [flags.fix, flags.truncateToTimestamp !== undefined, flags.undoFlush].filter(Boolean).length;
  if (actions > 1) throw new UsageError('use only one of --fix, --truncate-to-timestamp, --undo-flush');
  if (actions === 0 && (flags.yes || flags.dryRun || flags.backupDir)) {
    throw new UsageError('--yes, --dry-run and --backup-dir go with --fix, --truncate-to-timestamp or --undo-flush');
  }
  const T = flags.truncateToTimestamp !== undefined ? parseTimestamp(flags.truncateToTimestamp) : undefined;
  const json = !!flags.json;
  let report: AofCheckReport;
  let undo: UndoFlushAnalysis | null = null;
  // A spinner while reading (a multi-GB AOF takes seconds); stopped before any output or prompt.
  const progress = startProgress(`checking ${path}`, { quiet: json, terminalOnly: true });
  try {
    if (flags.undoFlush) {
      undo = await analyzeUndoFlush(path);
      report = undo.check;
    } else {
      const onFile = (f: { name: string }): void => progress.update(`checking ${path}: ${f.name}`);
      report = await checkAof(path, { mode: flags.fix ? 'fix' : T !== undefined ? 'timestamp' : 'check', toTimestamp: T, onFile });
    }
  } catch (e) {
    // Not damage (nothing to fix): scripts get the same JSON as rdb-check gives, then exit 6.
    if (json && e instanceof NewerVersionError) printJson({ path, ...e.toJson() });
    throw e;
  } finally {
    progress.stop();
  }
  const plan = undo ? undo.plan : report.plan;
  const refusal = undo ? undo.refusal : report.refusal;
  const out: string[] = [];
  if (!json) out.push(...describe(report), ...(undo ? describeUndo(undo) : []));

  let applied: CutResult | null = null;
  let after: AofCheckReport | null = null;
  let declined: string | null = null;
  if (plan && !refusal) {
    if (!json) out.push(...describePlan(plan));
    if (plan.damage === 'middle') {
      // Loud on stderr too, so it reaches cron mail and logs even with --json.
      process.stderr.write(
        `WARNING: ${plan.name}: the damage is in the middle of the file; cutting at byte ${plan.toSize} also drops ` +
          `${plan.commands} command(s) after it, including good ones. Keep the backup; consider salvaging them by hand (aof-dump).\n`,
      );
    }
    if (flags.dryRun) {
      if (!json) out.push('Dry run: nothing was changed.');
    } else {
      flush(out);
      const ok = await confirm(plan, !!flags.yes);
      if (ok === true) {
        applied = await applyCut(plan, { backupDir: flags.backupDir });
        after = await checkAof(path, { mode: 'check' });
        if (!json) {
          out.push(`Kept the original as ${applied.backup}`);
          out.push(`Cut ${plan.name} from ${applied.sizeBefore} to ${applied.sizeAfter} bytes (fsynced).`);
          out.push(after.valid ? 'Checked again: the AOF is valid.' : `Checked again: still NOT valid: ${after.refusal}`);
        }
      } else {
        declined = ok;
        if (!json) out.push(ok);
      }
    }
  } else if (refusal && !json) {
    const damaged = report.files.find((f) => f.status === 'damaged');
    if (report.mode === 'check' && damaged?.last && !undo) {
      out.push(`To repair: tsredis-ops aof-check ${path} --fix --dry-run   (then --fix; the original is kept)`);
    } else {
      out.push(`Refused: ${refusal}`);
    }
  }

  // Exit: 0 when the AOF is valid now (checked, or repaired and checked again), 1 otherwise.
  let code: number;
  if (refusal) code = ExitCode.DATA;
  else if (applied) code = after?.valid ? ExitCode.OK : ExitCode.DATA;
  else if (plan && plan.reason === 'fix') code = ExitCode.DATA; // damaged and not (yet) fixed
  else if (plan && declined) code = ExitCode.DATA;
  else code = report.valid ? ExitCode.OK : ExitCode.DATA;

  if (json) {
    printJson({
      path,
      layout: report.layout,
      manifest: report.manifest,
      mode: undo ? 'undo-flush' : report.mode,
      valid: report.valid,
      files: report.files,
      refusal,
      plan,
      undoFlush: undo ? { flush: undo.flush, writesAfter: undo.writesAfter, firstWriteAfter: undo.firstWriteAfter } : undefined,
      dryRun: !!flags.dryRun,
      declined,
      applied,
      validAfter: after ? after.valid : undefined,
      redisCheckAof: report.transcript,
      exitCode: code,
    });
  } else flush(out);
  return code;
}

function flush(lines: string[]): void {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  lines.length = 0;
}

/** true to cut; otherwise the reason nothing was cut. Never waits for input without a terminal. */
async function confirm(plan: CutPlan, yes: boolean): Promise<true | string> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    return 'Not cut: no terminal to ask on; re-run with --yes to cut (or --dry-run to see the cut).';
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Cut ${plan.name} from ${plan.fromSize} to ${plan.toSize} bytes, dropping ${plan.commands} command(s)? The original is kept. [y/N]: `,
    );
    return /^y/i.test(answer.trim()) ? true : 'Aborted: nothing was changed.';
  } finally {
    rl.close();
  }
}

function fileLine(f: FileReport): string[] {
  const role = f.role === 'aof' ? 'AOF' : f.role === 'base' ? `base (${f.format === 'rdb' ? 'RDB' : 'RESP'})` : 'incr';
  const head = `  ${role} ${f.name}: ${f.size} bytes`;
  const rdb = f.rdb ? `RDB v${f.rdb.version ?? '?'} with ${f.rdb.keys} keys${f.rdb.ok ? '' : ` is damaged: ${f.rdb.error}`}; ` : '';
  switch (f.status) {
    case 'valid':
      return [`${head}: ${rdb}valid, ${f.commands} commands (ok_up_to=${f.okUpTo}, ok_up_to_line=${f.okUpToLine})`];
    case 'empty':
      return [`${head}: empty`];
    case 'missing':
      return [`  ${role} ${f.name}: MISSING (listed in the manifest, cannot be opened)`];
    case 'not-checked':
      return [`  ${role} ${f.name}: not checked (an earlier file stopped the check)`];
    case 'rdb-damaged':
      return [`${head}: ${rdb}`.replace(/; $/, '')];
    case 'timestamp-cut':
    case 'timestamp-refused':
      return [`${head}: ${rdb}first annotation newer than the limit at byte ${f.timestampCutAt}`];
    default: {
      const where = f.damage === 'middle' ? `in the MIDDLE: ${f.commandsAfterDamage} good command(s) follow it` : 'at the tail only';
      return [
        `${head}: ${rdb}DAMAGED${f.error ? ` - ${f.error.replace(/^0x\s*([0-9a-f]+):/, 'at 0x$1:')}` : f.formatError ? ' - a record does not start with * or #' : ' - ends inside a command or transaction'}`,
        `    valid up to byte ${f.okUpTo} (line ${f.okUpToLine}); ${f.diff} bytes after it; damage ${where}`,
      ];
    }
  }
}

function describe(r: AofCheckReport): string[] {
  const lines = [r.layout === 'multi' ? `Multi-part AOF, manifest ${r.manifest}` : `AOF ${r.path}`];
  for (const f of r.files) lines.push(...fileLine(f));
  lines.push(r.valid ? 'Verdict: valid.' : 'Verdict: NOT valid.');
  return lines;
}

function describeUndo(u: UndoFlushAnalysis): string[] {
  if (!u.flush) return [];
  const ts = u.flush.timestampS !== null ? ` (written around ${new Date(u.flush.timestampS * 1000).toISOString()})` : '';
  return [`Last flush: ${u.flush.command} in db ${u.flush.db} at byte ${u.flush.offset} of ${u.flush.file}${ts}; ${u.writesAfter} write(s) after it.`];
}

function describePlan(p: CutPlan): string[] {
  const what = p.reason === 'fix' ? 'Repair' : p.reason === 'timestamp' ? 'Truncate to timestamp' : 'Undo flush';
  const lines = [
    `${what}: cut ${p.name} from ${p.fromSize} to ${p.toSize} bytes: ${p.bytes} bytes (${formatBytes(p.bytes)}) and ${p.commands} command(s) dropped.`,
  ];
  if (p.damage === 'middle') lines.push(`!!! The damage is in the MIDDLE of ${p.name}: good commands after it are lost by this cut. !!!`);
  if (p.damage === 'tail') lines.push('The damage is only at the tail (an incomplete last command or transaction).');
  return lines;
}
