import { text } from 'node:stream/consumers';
import { ExitCode, ToolError } from '../util/errors.js';
import type { Compression } from './compress.js';
import { MANIFEST_SUFFIX, SET_SUFFIX, parseBackupFileName } from './naming.js';
import { readSetManifest, summaryOf, type SetManifest } from './set-manifest.js';
import type { BackupStore } from './store/store.js';

/**
 * The manifest written beside each backup object, last, once the object was verified on that
 * target: a backup without a manifest is never taken for a good one. Never holds secrets.
 */
export interface BackupManifest {
  format: 'tsredis-ops-backup/1';
  name: string;
  object: string;
  takenAt: string;
  completedAt: string;
  source: { kind: 'file' | 'bgsave' | 'replication' | 'cluster'; location: string };
  redisVersion: string | null;
  rdbVersion: number;
  keys: { total: number; perDb: Record<string, number> };
  plain: { size: number; sha256: string; sha1: string };
  stored: { size: number; sha256: string };
  compression: Compression;
  encryption: { mode: 'none' | 'passphrase' | 'recipients'; cipher?: 'aes256'; recipients?: string[] };
  tool: { name: 'tsredis-ops'; version: string };
}

export function manifestBytes(m: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

/** A small JSON file of a target (a manifest), parsed; invalid JSON is damage (exit 1). */
export async function readJsonFile<T>(store: BackupStore, file: string, what: string): Promise<T> {
  const body = await text(await store.get(file));
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new ToolError(`${store.describe()}/${file}: ${what} is not valid JSON`, ExitCode.DATA);
  }
}

export async function readManifest(store: BackupStore, file: string): Promise<BackupManifest> {
  const m = await readJsonFile<BackupManifest>(store, file, 'manifest');
  if (m.format !== 'tsredis-ops-backup/1' || typeof m.object !== 'string' || !m.stored?.sha256) {
    throw new ToolError(`${store.describe()}/${file}: not a tsredis-ops manifest`, ExitCode.DATA);
  }
  return m;
}

export interface CatalogEntry {
  manifestFile: string;
  manifest: BackupManifest;
  takenAt: Date;
  /** A cluster set: its manifest and one entry per shard (`manifest` above is the set's summary). */
  set?: { manifest: SetManifest; shards: CatalogEntry[] };
}

/**
 * Every complete backup on a target (those with a manifest; a set with its set manifest), newest
 * first; plus stray objects. A shard's files count only through their set.
 */
export async function readCatalog(store: BackupStore, name?: string): Promise<{ backups: CatalogEntry[]; incomplete: string[] }> {
  const files = new Map<string, number>();
  for await (const o of store.list(name ? `${name}-` : '')) files.set(o.name, o.size);
  const mine = (f: string): boolean => {
    const parsed = parseBackupFileName(f);
    return parsed !== null && (!name || parsed.name === name);
  };
  const manifestFiles = [...files.keys()].filter((f) => f.endsWith(MANIFEST_SUFFIX) && mine(f) && !parseBackupFileName(f)!.setStem);
  const setFiles = [...files.keys()].filter((f) => f.endsWith(SET_SUFFIX) && mine(f));
  // Manifests are small: read several at once, S3 latency dominates.
  const backups: CatalogEntry[] = [];
  for (let i = 0; i < manifestFiles.length; i += 16) {
    const batch = await Promise.all(manifestFiles.slice(i, i + 16).map((f) => readManifest(store, f)));
    batch.forEach((manifest, j) => backups.push({ manifestFile: manifestFiles[i + j]!, manifest, takenAt: new Date(manifest.takenAt) }));
  }
  const claimed = new Set(backups.map((b) => b.manifest.object));
  for (const f of setFiles) {
    const set = await readSetManifest(store, f);
    const shards = await Promise.all(
      set.shards.map(async (s) => {
        if (!(await store.head(s.manifest))) throw new ToolError(`${store.describe()}/${f}: shard #${s.index}'s manifest ${s.manifest} is missing (the set is damaged)`, ExitCode.DATA);
        const manifest = await readManifest(store, s.manifest);
        claimed.add(manifest.object);
        return { manifestFile: s.manifest, manifest, takenAt: new Date(manifest.takenAt) };
      }),
    );
    backups.push({ manifestFile: f, manifest: summaryOf(f, set, shards.map((s) => s.manifest)), takenAt: new Date(set.takenAt), set: { manifest: set, shards } });
  }
  const incomplete = [...files.keys()].filter((f) => !f.endsWith(MANIFEST_SUFFIX) && !claimed.has(f) && mine(f) && /\.rdb/.test(f));
  backups.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  return { backups, incomplete };
}
