import type { Command } from 'commander';
import { readCatalog } from '../../backup/manifest.js';
import { addStoreOptions, loadConfig, storeOptionsFrom, targetsFrom } from '../../backup/options.js';
import { openStore } from '../../backup/store/store.js';
import { ExitCode } from '../../util/errors.js';
import { formatBytes } from '../progress.js';
import { action, printJson } from '../run.js';

export function register(program: Command): void {
  const cmd = program
    .command('list')
    .summary('list the backups on a target')
    .description('List complete backups (those with a manifest) on a target, newest first, and objects left without a manifest. A target that does not exist or cannot be listed is exit 3, never "0 backup(s)".')
    .option('--target <target>', 'directory, s3://bucket/prefix or sftp://[user@]host[:port]/path')
    .option('--name <name>', 'only backups with this name')
    .option('--pitr', 'the point-in-time archives (replicate --archive) instead of backups: see README "Point-in-time recovery"')
    .option('--from <target>', 'with --pitr: the target (same as --target)')
    .option('--json', 'print JSON');
  addStoreOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  tsredis-ops list --target /srv/backups/redis
  tsredis-ops list --target s3://my-bucket/redis --name cache-01
  tsredis-ops list --target /srv/backups/redis --json | jq -r '.backups[0].object'   # the newest
  tsredis-ops list --config /etc/tsredis-ops.json          # every target of the config
  tsredis-ops list --pitr --from s3://acme-pitr/redis      # point-in-time archives: windows, gaps, bases, segments`,
  );
  cmd.action(
    action(async (flags: Record<string, unknown>) => {
      const cfg = await loadConfig(flags.config as string | undefined);
      if (flags.pitr) return (await import('./pitr.js')).listPitr(flags, cfg);
      const all: unknown[] = [];
      for (const target of targetsFrom(flags, cfg)) {
        const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
        const { backups, incomplete } = await readCatalog(store, flags.name as string | undefined);
        if (flags.json) {
          all.push({ target: store.describe(), backups: backups.map((b) => (b.set ? { ...b.manifest, set: b.set.manifest } : b.manifest)), incomplete });
          continue;
        }
        process.stdout.write(`${store.describe()}: ${backups.length} backup(s)\n`);
        for (const { manifest: m, set } of backups) {
          if (set) {
            const sm = set.manifest;
            process.stdout.write(
              `  ${m.takenAt.replace('.000Z', 'Z')}  ${m.object}  cluster set of ${sm.shards.length} shards  ${formatBytes(m.plain.size)} -> ${formatBytes(m.stored.size)}  keys=${m.keys.total}  ${sm.consistency === 'paused-instant' ? `writes paused ${sm.pause?.usedMs} ms` : `snapshots within ${sm.snapshotSpreadMs} ms`}\n`,
            );
            continue;
          }
          const enc = m.encryption.mode === 'recipients' ? `gpg:${m.encryption.recipients?.length ?? 0} key(s)` : m.encryption.mode === 'passphrase' ? 'gpg:passphrase' : 'plain';
          process.stdout.write(
            `  ${m.takenAt.replace('.000Z', 'Z')}  ${m.object}  ${formatBytes(m.plain.size)} -> ${formatBytes(m.stored.size)}  ${m.compression} ${enc}  keys=${m.keys.total}  sha256=${m.plain.sha256.slice(0, 16)}…\n`,
          );
        }
        for (const f of incomplete) process.stdout.write(`  (no manifest: ${f} — an interrupted or failed backup, not usable)\n`);
      }
      if (flags.json) printJson(all.length === 1 ? all[0] : { targets: all });
      return ExitCode.OK;
    }),
  );
}
