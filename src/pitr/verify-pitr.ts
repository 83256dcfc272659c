import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecryptionKeys } from '../backup/crypto.js';
import type { BackupStore } from '../backup/store/store.js';
import { Keyspace } from '../engine/keyspace.js';
import { replay, type ReplayItem } from '../engine/replay.js';
import { readAofBatches } from '../codec/aof/reader.js';
import { download } from '../restore/store-source.js';
import { ExitCode, ToolError, oneLine } from '../util/errors.js';
import { fetchObject } from './fetch.js';
import { readPitrCatalog, type PitrCatalog } from './manifest.js';
import { cutItems } from './restore-pitr.js';
import { buildTimeline, iso, type Timeline } from './timeline.js';

export interface PitrVerifyReport {
  where: string;
  name: string;
  ok: boolean;
  objects: number;
  /** One line per defect, each naming the object or the chain. */
  problems: string[];
  windows: Array<{ chain: string; from: string; to: string }>;
  deep: boolean;
  /** --deep: per run, what the replay went through. */
  replayed: Array<{ chain: string; commands: number; keys: number; errors: number }>;
}

/**
 * Every object against its manifest (listed size, then the stored sha256 over a full read; with
 * `deep` also decrypted, decompressed and the plain sha256) and the chains' joins; `deep` then
 * replays each run from its first base through its last segment with the keyspace engine.
 */
export async function verifyPitr(store: BackupStore, name: string, opts: { deep?: boolean; keys?: DecryptionKeys; tmpRoot?: string } = {}): Promise<PitrVerifyReport> {
  let cat: PitrCatalog;
  const report: PitrVerifyReport = { where: store.describe(), name, ok: false, objects: 0, problems: [], windows: [], deep: !!opts.deep, replayed: [] };
  try {
    cat = await readPitrCatalog(store, name);
  } catch (e) {
    report.problems.push(oneLine(e));
    return report;
  }
  if (cat.manifests.length === 0) {
    report.problems.push(`${cat.where}: no point-in-time archive named "${name}"`);
    return report;
  }
  const t: Timeline = buildTimeline(cat.manifests, cat.chains);
  report.problems.push(...t.problems);
  report.windows = t.runs.filter((r) => r.to >= r.from).map((r) => ({ chain: r.chain, from: iso(r.from), to: iso(r.to) }));
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'tsredis-pitr-verify-'));
  try {
    const plainOf = new Map<string, string>();
    for (const m of cat.manifests) {
      report.objects++;
      const stored = join(dir, 'stored.tmp');
      try {
        if (opts.deep) {
          const plain = join(dir, `${m.seq}.${m.kind === 'base' ? 'rdb' : 'aof'}`);
          await fetchObject(store, cat, m, opts.keys ?? {}, stored, plain);
          plainOf.set(m.object, plain);
        } else {
          const listed = cat.objects.get(m.object);
          if (listed === undefined) throw new ToolError(`${cat.where}/${m.object}: object missing (its manifest exists)`, ExitCode.DATA);
          if (listed !== m.stored.size) throw new ToolError(`${cat.where}/${m.object}: ${listed} bytes, its manifest says ${m.stored.size}`, ExitCode.DATA);
          const sha = await download(store, m.object, m.stored.size, stored);
          if (sha !== m.stored.sha256) throw new ToolError(`${cat.where}/${m.object}: stored sha256 ${sha}, its manifest says ${m.stored.sha256} (damaged, tampered or swapped)`, ExitCode.DATA);
        }
      } catch (e) {
        report.problems.push(oneLine(e));
      } finally {
        await rm(stored, { force: true });
      }
    }
    if (opts.deep && report.problems.length === 0) {
      for (const r of t.runs) {
        const segments = r.segments.slice(r.bases[0]!.segIndex).map((s) => ({ path: plainOf.get(s.object)!, m: s }));
        async function* items(): AsyncGenerator<readonly ReplayItem[]> {
          yield* readAofBatches(plainOf.get(r.bases[0]!.base.object)!);
          yield* cutItems(segments, { kind: 'none' });
        }
        try {
          const ks = new Keyspace();
          const stats = await replay(ks, items());
          report.replayed.push({ chain: r.chain, commands: stats.commands, keys: ks.size, errors: stats.errors });
        } catch (e) {
          report.problems.push(`chain ${r.chain}: replay failed: ${oneLine(e)}`);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  report.ok = report.problems.length === 0;
  return report;
}
