import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DecryptionKeys } from '../backup/crypto.js';
import { readCatalog, type CatalogEntry } from '../backup/manifest.js';
import { startRdbCheckInWorker } from '../backup/rdb-check-thread.js';
import { HashTap, writeTo } from '../backup/stream-util.js';
import { openStore, type BackupStore, type StoreOptions } from '../backup/store/store.js';
import { decodeStored } from '../backup/verify-backup.js';
import { CryptoError, ExitCode, IoError, ToolError, UsageError, oneLine } from '../util/errors.js';
import type { StagedRdb } from './local-source.js';

export interface BackupSelector {
  /** A backup's stem, object or manifest name, or a backup name (its newest backup). */
  backup?: string;
  latest?: boolean;
  /** Only backups taken before this time. */
  before?: Date;
}

export interface StoreStaged extends StagedRdb {
  entry: CatalogEntry;
  where: string;
  checked: string[];
  /** A cluster set: every shard staged and checked (`path` is the first shard's). */
  shards?: StoreStaged[];
}

const ATTEMPTS = 5;

/** Picks one backup of the catalog, newest first. */
export function selectBackup(backups: CatalogEntry[], sel: BackupSelector, where: string): CatalogEntry {
  let list = sel.before ? backups.filter((b) => b.takenAt.getTime() < sel.before!.getTime()) : backups;
  if (sel.backup) {
    const id = sel.backup;
    const exact = list.find((b) => b.manifestFile === id || b.manifest.object === id || b.manifestFile === `${id}.manifest.json` || b.manifestFile === `${id}.set.json`);
    if (exact) return exact;
    list = list.filter((b) => b.manifest.name === id);
    if (!list.length) throw new UsageError(`${where}: no backup "${id}"${sel.before ? ` taken before ${sel.before.toISOString()}` : ''} (run tsredis-ops list --target ${where})`);
  } else if (!sel.latest) {
    throw new UsageError('with --from, choose the backup: --backup NAME or --latest (optionally --before ISO)');
  }
  const pick = list[0];
  if (!pick) throw new UsageError(`${where}: no complete backup${sel.before ? ` taken before ${sel.before.toISOString()}` : ''}`);
  return pick;
}

/**
 * Downloads the stored object to a private temp file, resuming with ranged GETs after a broken
 * transfer; the sha256 covers exactly the bytes written, across attempts.
 */
export async function download(store: BackupStore, object: string, size: number, path: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w', 0o600);
  let got = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await store.get(object, got > 0 ? { start: got, end: size - 1 } : undefined);
        await pipeline(
          body,
          new Writable({
            highWaterMark: 1 << 20,
            write(chunk: Buffer, _e, cb) {
              fh.write(chunk, 0, chunk.length, got).then(() => {
                hash.update(chunk);
                got += chunk.length;
                cb();
              }, cb);
            },
          }),
        );
        if (got >= size || attempt >= ATTEMPTS) break;
      } catch (e) {
        if (attempt >= ATTEMPTS || e instanceof ToolError) throw e instanceof ToolError ? e : new IoError(`${store.describe()}/${object}: download failed after ${attempt} attempts: ${oneLine(e)}`);
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (got !== size) throw new ToolError(`${store.describe()}/${object}: downloaded ${got} bytes, manifest says ${size}`, ExitCode.DATA);
  return hash.digest('hex');
}

/**
 * A backup from a directory or S3 target, checked against its manifest before anything uses it:
 * stored size and sha256 after download, then plain size and sha256 after decryption and
 * decompression (which also proves the OpenPGP MDC and the gzip CRC). Only then is the staged RDB
 * handed on; on any failure the temp files are removed and nothing was written anywhere.
 */
export async function stageFromStore(location: string, sel: BackupSelector, storeOpts: StoreOptions, keys: DecryptionKeys, tmpRoot?: string): Promise<StoreStaged> {
  const store = await openStore(location, storeOpts);
  const where = store.describe();
  const { backups } = await readCatalog(store);
  const entry = selectBackup(backups, sel, where);
  if (!entry.set) return stageEntry(store, where, entry, keys, tmpRoot);
  // A set: every shard checked before anything is written anywhere.
  const shards: StoreStaged[] = [];
  const cleanup = async (): Promise<void> => {
    for (const s of shards) await s.cleanup();
  };
  try {
    for (const shard of entry.set.shards) shards.push(await stageEntry(store, where, shard, keys, tmpRoot));
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { path: shards[0]!.path, layers: shards[0]!.layers, cleanup, entry, where, checked: shards[0]!.checked, shards };
}

/** One backup object: downloaded, checked against its manifest, decoded and checked again. */
async function stageEntry(store: BackupStore, where: string, entry: CatalogEntry, keys: DecryptionKeys, tmpRoot?: string): Promise<StoreStaged> {
  const m = entry.manifest;
  const dir = await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-restore-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  // The decoded RDB is parsed as it is staged (a second core), so restore checks what verify
  // --deep checks (CRC-64, key count) before anything is written to the target.
  let check: ReturnType<typeof startRdbCheckInWorker> | undefined;
  try {
    const storedPath = join(dir, 'stored');
    const sha = await download(store, m.object, m.stored.size, storedPath);
    if (sha !== m.stored.sha256) {
      throw new ToolError(`${where}/${m.object}: stored sha256 ${sha}, manifest says ${m.stored.sha256} (damaged or tampered); nothing was written`, ExitCode.DATA);
    }
    const plainPath = join(dir, 'staged.rdb');
    check = startRdbCheckInWorker(`${where}/${m.object} (decoded)`);
    const toCheck = check.input;
    const tap = new HashTap(['sha256'], (c) => writeTo(toCheck, c));
    try {
      const plain = await decodeStored(createReadStream(storedPath, { highWaterMark: 1 << 20 }), m, keys, `${where}/${m.object}`);
      await pipeline(plain, tap, createWriteStream(plainPath, { mode: 0o600 }));
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      // The stored bytes matched the manifest, so garbage after decryption means the wrong key.
      if (m.encryption.mode !== 'none') throw new CryptoError(`cannot decrypt ${where}/${m.object}: wrong passphrase or key (the stored object matches its manifest): ${oneLine(e)}`);
      throw e instanceof ToolError ? e : new ToolError(`${where}/${m.object}: cannot decode: ${oneLine(e)}`, ExitCode.DATA);
    }
    const [plainSha] = tap.digests();
    if (tap.bytes !== m.plain.size || plainSha !== m.plain.sha256) {
      throw new ToolError(`${where}/${m.object}: decoded RDB sha256 ${plainSha} (${tap.bytes} bytes), manifest says ${m.plain.sha256} (${m.plain.size} bytes)`, ExitCode.DATA);
    }
    check.input.end();
    const facts = await check.result;
    if (facts.keys !== m.keys.total) throw new ToolError(`${where}/${m.object}: RDB holds ${facts.keys} keys, manifest says ${m.keys.total}; nothing was written`, ExitCode.DATA);
    await rm(storedPath, { force: true });
    const layers = [...(m.encryption.mode !== 'none' ? ['gpg'] : []), ...(m.compression === 'gzip' ? ['gzip'] : [])];
    return { path: plainPath, layers, cleanup, entry, where, checked: ['stored size', 'stored sha256', ...layers.map((l) => (l === 'gpg' ? 'decrypted' : 'decompressed')), 'plain size', 'plain sha256', 'RDB parsed (CRC-64 ok)', 'key count'] };
  } catch (e) {
    // A failed stage never ends the check's input: stop its worker (it would keep us alive).
    check?.input.destroy();
    await cleanup();
    throw e;
  }
}
