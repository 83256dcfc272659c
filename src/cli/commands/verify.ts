import type { Command } from 'commander';
import { readCatalog } from '../../backup/manifest.js';
import { addStoreOptions, collect, decryptionKeysFrom, loadConfig, storeOptionsFrom, targetsFrom } from '../../backup/options.js';
import { openStore } from '../../backup/store/store.js';
import type { VerifyResult } from '../../backup/verify-backup.js';
import { ExitCode, ToolError, UsageError } from '../../util/errors.js';
import { startProgress } from '../progress.js';
import { action, printJson } from '../run.js';

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .summary('re-read stored backups and check them against their manifests')
    .description(
      `Re-read a stored backup and check its size and sha256 against the manifest. --deep also decrypts, decompresses and fully parses the RDB (CRC-64 included) and checks the plain sha256, sha1 and key count, in the same single read. A cluster set is one backup: every shard is checked. Without NAME, --latest is assumed.`,
    )
    .argument('[name]', 'backup object or manifest name (or its stem)')
    .option('--target <target>', 'directory, s3://bucket/prefix or sftp://[user@]host[:port]/path')
    .option('--latest', 'the newest backup (per backup name with --name)')
    .option('--all', 'every backup on the target')
    .option('--name <name>', 'only backups with this backup name')
    .option('--deep', 'decrypt, decompress and parse the RDB too')
    .option('--passphrase-file <file>', 'passphrase for --deep (or TSREDIS_PASSPHRASE)')
    .option('--identity <secret-key.asc>', 'OpenPGP secret key for --deep on key-encrypted backups (repeatable)', collect)
    .option('--pitr', 'the point-in-time archives (replicate --archive) instead of backups: see README "Point-in-time recovery"')
    .option('--from <target>', 'with --pitr: the target (same as --target)')
    .option('--json', 'print results as JSON');
  addStoreOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 every backup checked is good, 1 damaged or not what its manifest says, 2 usage,
3 the target cannot be read, 4 wrong passphrase or key, 6 (--deep) the RDB is of a newer version
than this tool reads. --json gives each failed result a "reason": "corrupt", "newer-version",
"mismatch" (size, hash or key count) or "io".

Examples (the passphrase comes from a file or TSREDIS_PASSPHRASE, never an argument):
  tsredis-ops verify --target /srv/backups/redis                      # newest backup: size, sha256
  tsredis-ops verify --target s3://my-bucket/redis --all --deep --passphrase-file /etc/tsredis-ops/passphrase
  tsredis-ops verify --target /srv/backups/redis --name cache-01 --latest --deep \\
      --identity /etc/tsredis-ops/backup-secret.asc
  tsredis-ops verify --target /srv/backups/redis cache-01-20260301T020000Z --json | jq .ok
  tsredis-ops verify --pitr --from s3://acme-pitr/redis --name cache-01      # archive: objects + chain joins (--deep replays)`,
  );
  cmd.action(
    action(async (name: string | undefined, flags: Record<string, unknown>) => {
      const cfg = await loadConfig(flags.config as string | undefined);
      if (flags.pitr) return (await import('./pitr.js')).verifyPitrCommand(flags, cfg, name);
      if ([name, flags.latest, flags.all].filter(Boolean).length > 1) throw new UsageError('give one of NAME, --latest, --all');
      const keys = flags.deep ? await decryptionKeysFrom(flags, cfg) : {};
      const { verifyEntry } = await import('../../backup/verify-backup.js');
      const results: Array<VerifyResult & { target: string }> = [];
      for (const target of targetsFrom(flags, cfg)) {
        const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
        const { backups } = await readCatalog(store, flags.name as string | undefined);
        const chosen = flags.all
          ? backups
          : name
            ? backups.filter((b) => [b.manifest.object, b.manifestFile, b.manifestFile.replace(/\.(manifest|set)\.json$/, '')].includes(name))
            : backups.slice(0, 1);
        if (chosen.length === 0) throw new ToolError(`${store.describe()}: no ${name ? `backup named ${name}` : 'complete backup'} found`, ExitCode.DATA);
        for (const entry of chosen) {
          const progress = startProgress(`verify ${entry.manifest.object}${flags.deep ? ' (deep)' : ''}`, { quiet: !!flags.json });
          const r = await verifyEntry(store, entry, { deep: !!flags.deep, keys });
          if (r.ok) progress.succeed(`ok    ${store.describe()}/${r.object}: ${r.checked.join(', ')}`);
          else progress.fail(`FAIL  ${r.error}`);
          results.push({ ...r, target: store.describe() });
        }
      }
      if (flags.json) printJson({ ok: results.every((r) => r.ok), results });
      return results.find((r) => !r.ok)?.exitCode ?? ExitCode.OK;
    }),
  );
}
