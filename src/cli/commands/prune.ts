import type { Command } from 'commander';
import { DEFAULT_STALE_AFTER, sweepDebris } from '../../backup/debris.js';
import { addRetentionOptions, addStoreOptions, loadConfig, policyFrom, storeOptionsFrom, targetsFrom } from '../../backup/options.js';
import { pruneTarget, type PruneReport } from '../../backup/prune-target.js';
import { parseDuration } from '../../backup/retention.js';
import { openStore } from '../../backup/store/store.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { action, printJson } from '../run.js';

export function register(program: Command): void {
  const cmd = program
    .command('prune')
    .summary('remove backups a retention policy does not keep (restic forget rules)')
    .description(
      `Apply a retention policy with restic's "forget" semantics, in UTC: rules are ORed; each count rule keeps the newest backup of each of the N most recent hours/days/weeks/months/years that hold backups (-1 = all); the oldest backup is kept while a count rule has budget left; the within rules measure back from the newest backup. Each backup name is pruned on its own, and its newest backup is never removed. Durations: 36h, 2d, 60d, 1y6m.`,
    )
    .option('--target <target>', 'directory, s3://bucket/prefix or sftp://[user@]host[:port]/path')
    .option('--name <name>', 'only backups with this name')
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('--stale-after <duration>', `also remove leftovers of killed backups (temp files, unfinished S3 uploads, objects without a manifest) older than this (default ${DEFAULT_STALE_AFTER})`)
    .option('--pitr', 'the point-in-time archives (replicate --archive) instead of backups: see README "Point-in-time recovery"')
    .option('--from <target>', 'with --pitr: the target (same as --target)')
    .option('--json', 'print every backup with keep/remove and the reasons');
  addRetentionOptions(cmd);
  addStoreOptions(cmd);
  cmd.addHelpText('after', '\nExample:\n  tsredis-ops prune --target s3://my-bucket/redis --keep-hourly 48 --keep-daily 60 --dry-run\n  tsredis-ops prune --pitr --from s3://acme-pitr/redis --name cache-01 --keep-within 7d   # archive: every second of the last 7 days stays restorable');
  cmd.action(
    action(async (flags: Record<string, unknown>) => {
      const cfg = await loadConfig(flags.config as string | undefined);
      if (flags.pitr) return (await import('./pitr.js')).prunePitrCommand(flags, cfg);
      const policy = policyFrom(flags, cfg);
      if (!policy) throw new UsageError('no retention rule: give --keep-last/--keep-hourly/--keep-daily/... or --keep-within*');
      const staleAfter = (flags.staleAfter as string | undefined) ?? cfg.staleAfter;
      if (staleAfter !== undefined) parseDuration(staleAfter);
      const reports: Array<PruneReport & { leftovers: string[] }> = [];
      const warn = (line: string): void => void process.stderr.write(`tsredis-ops: ${line}\n`);
      for (const target of targetsFrom(flags, cfg)) {
        const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
        const name = flags.name as string | undefined;
        const report = { ...(await pruneTarget(store, policy, { name, dryRun: !!flags.dryRun })), leftovers: await sweepDebris(store, { name, staleAfter, dryRun: !!flags.dryRun, warn }) };
        reports.push(report);
        if (!flags.json) {
          const kept = report.decisions.filter((d) => d.keep).length;
          const gone = report.decisions.length - kept;
          for (const d of report.decisions) {
            process.stdout.write(`  ${d.keep ? 'keep  ' : report.dryRun ? 'would remove' : 'remove'}  ${d.object}${d.keep ? `  (${d.reasons.join(', ')})` : ''}\n`);
          }
          for (const l of report.leftovers) process.stdout.write(`  ${report.dryRun ? 'would remove' : 'remove'}  leftover ${l}\n`);
          process.stdout.write(`${report.target}: ${kept} kept, ${gone} ${report.dryRun ? 'would be removed (dry run)' : 'removed'}\n`);
        }
      }
      if (flags.json) printJson(reports.length === 1 ? reports[0] : { targets: reports });
      return ExitCode.OK;
    }),
  );
}
