import { checkBackupName } from '../../backup/naming.js';
import { decryptionKeysFrom, storeOptionsFrom, type BackupConfig } from '../../backup/options.js';
import { spanMs } from '../../pitr/duration.js';
import { openStore } from '../../backup/store/store.js';
import { parseTarget } from '../../backup/store/target.js';
import { readPitrCatalog } from '../../pitr/manifest.js';
import { parsePitrName } from '../../pitr/names.js';
import { prunePitr } from '../../pitr/prune-pitr.js';
import { buildTimeline, iso } from '../../pitr/timeline.js';
import { verifyPitr } from '../../pitr/verify-pitr.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { formatBytes } from '../progress.js';
import { printJson } from '../run.js';

/** `list|verify|prune --pitr`: the point-in-time archives of --from (or --target). */
type Flags = Record<string, unknown>;

function targetOf(flags: Flags): string {
  const t = (flags.from ?? flags.target) as string | undefined;
  if (!t) throw new UsageError('--pitr needs --from TARGET (a directory, s3://bucket/prefix or sftp://…)');
  parseTarget(t);
  return t;
}

function nameOf(flags: Flags, positional?: string): string {
  const n = (flags.name as string | undefined) ?? positional;
  if (!n) throw new UsageError('--pitr needs --name NAME (the archive name; list --pitr --from TARGET shows them)');
  return checkBackupName(n);
}

export async function listPitr(flags: Flags, cfg: BackupConfig): Promise<number> {
  const target = targetOf(flags);
  const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
  let names = flags.name ? [nameOf(flags)] : [];
  if (!names.length) {
    const found = new Set<string>();
    for await (const o of store.list('')) {
      const p = parsePitrName(o.name);
      if (p) found.add(p.name);
    }
    names = [...found].sort();
  }
  const out: unknown[] = [];
  for (const name of names) {
    const cat = await readPitrCatalog(store, name);
    const t = buildTimeline(cat.manifests, cat.chains);
    const chains = [...new Set(cat.manifests.map((m) => m.chain))].sort().map((chain) => {
      const ms = cat.manifests.filter((m) => m.chain === chain);
      const segs = ms.filter((m) => m.kind === 'segment');
      return {
        chain,
        reason: cat.chains.find((c) => c.chain === chain)?.reason ?? null,
        bases: ms.filter((m) => m.kind === 'base').map((b) => ({ object: b.object, offset: b.startOffset, at: b.openedAt, keys: b.keys ?? null, source: b.source ?? null, storedBytes: b.stored.size })),
        segments: { count: segs.length, storedBytes: segs.reduce((n, s) => n + s.stored.size, 0), plainBytes: segs.reduce((n, s) => n + s.plain.size, 0), commands: segs.reduce((n, s) => n + s.commands, 0) },
      };
    });
    const doc = {
      target: cat.where,
      name,
      windows: t.runs.filter((r) => r.to >= r.from).map((r) => ({ chain: r.chain, from: iso(r.from), to: iso(r.to) })),
      gaps: t.gaps.map((g) => ({ from: iso(g.from), to: iso(g.to), reason: g.reason })),
      chains,
      problems: t.problems,
      withoutManifest: [...cat.objects.keys()].filter((o) => !cat.manifests.some((m) => m.object === o)),
    };
    out.push(doc);
    if (flags.json) continue;
    process.stdout.write(`${cat.where}: archive ${name}\n`);
    for (const w of doc.windows) process.stdout.write(`  restorable ${w.from} → ${w.to}  (chain ${w.chain})\n`);
    for (const g of doc.gaps) process.stdout.write(`  GAP        ${g.from} → ${g.to}  ${g.reason}\n`);
    for (const c of chains) {
      process.stdout.write(`  chain ${c.chain}${c.reason ? `: ${c.reason}` : ''}\n`);
      for (const b of c.bases) process.stdout.write(`    base ${b.at}  offset ${b.offset}  ${b.keys ?? '?'} keys  ${formatBytes(b.storedBytes)} (${b.source})\n`);
      process.stdout.write(`    ${c.segments.count} segment(s), ${c.segments.commands} commands, ${formatBytes(c.segments.plainBytes)} -> ${formatBytes(c.segments.storedBytes)}\n`);
    }
    for (const p of t.problems) process.stdout.write(`  PROBLEM: ${p}\n`);
    for (const o of doc.withoutManifest) process.stdout.write(`  (no manifest: ${o} — not yet verified or interrupted, not used)\n`);
  }
  if (flags.json) printJson(out.length === 1 ? out[0] : { archives: out });
  return ExitCode.OK;
}

export async function verifyPitrCommand(flags: Flags, cfg: BackupConfig, positional?: string): Promise<number> {
  const target = targetOf(flags);
  const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
  const keys = flags.deep ? await decryptionKeysFrom(flags, cfg) : {};
  const r = await verifyPitr(store, nameOf(flags, positional), { deep: !!flags.deep, keys });
  if (flags.json) printJson(r);
  else {
    for (const p of r.problems) process.stderr.write(`tsredis-ops: ${p}\n`);
    const what = `${r.where}: archive ${r.name}: ${r.objects} object(s)${r.deep ? ' decoded and replayed' : ''}`;
    process.stdout.write(r.ok ? `${what}: ok; windows ${r.windows.map((w) => `${w.from} → ${w.to}`).join(', ')}\n` : `${what}: ${r.problems.length} problem(s)\n`);
  }
  return r.ok ? ExitCode.OK : ExitCode.DATA;
}

export async function prunePitrCommand(flags: Flags, cfg: BackupConfig): Promise<number> {
  const target = targetOf(flags);
  const within = flags.keepWithin as string | undefined;
  if (!within) throw new UsageError('prune --pitr needs --keep-within DURATION (e.g. 7d, 36h, 600s): every second within it of the newest stays restorable');
  const withinS = Math.floor(spanMs(within) / 1000);
  const store = await openStore(target, storeOptionsFrom(flags, cfg, target));
  const r = await prunePitr(store, nameOf(flags), withinS, !!flags.dryRun);
  if (flags.json) printJson(r);
  else {
    process.stdout.write(`${r.where}: archive ${r.name}: every second from ${r.keepFrom ?? '(nothing restorable yet)'} stays restorable; ${r.dryRun ? 'would remove' : 'removed'} ${r.deleted.length}, kept ${r.kept}\n`);
    for (const d of r.deleted) process.stdout.write(`  ${r.dryRun ? 'would remove' : 'removed'} ${d}\n`);
  }
  return ExitCode.OK;
}
