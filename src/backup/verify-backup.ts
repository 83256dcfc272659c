import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExitCode, FormatError, NewerVersionError, ToolError, oneLine } from '../util/errors.js';
import { gunzipStream } from './compress.js';
import { decryptStream, type DecryptionKeys } from './crypto.js';
import type { BackupManifest, CatalogEntry } from './manifest.js';
import { gcEvery } from './memory.js';
import { startRdbCheck, type RdbFacts } from './rdb-facts.js';
import { HashTap, writeTo } from './stream-util.js';
import type { BackupStore } from './store/store.js';

export interface VerifyResult {
  object: string;
  ok: boolean;
  deep: boolean;
  checked: string[];
  error?: string;
  /** Why it failed, for scripts: as rdb-check --json says it ("newer-version", "corrupt"), else "mismatch" or "io". */
  reason?: VerifyReason;
  exitCode: number;
}

export type VerifyReason = 'newer-version' | 'corrupt' | 'mismatch' | 'io';

function reasonOf(e: unknown): VerifyReason {
  if (e instanceof NewerVersionError) return 'newer-version';
  if (e instanceof FormatError) return 'corrupt';
  return e instanceof ToolError ? 'mismatch' : 'io';
}

/**
 * Turns a stored object back into the plain RDB stream (decrypt, then decompress). Decrypted
 * bytes are unauthenticated until the stream ends cleanly (the OpenPGP MDC is at the end):
 * consumers must not keep anything before that, and should compare the plain sha256.
 */
export async function decodeStored(stored: Readable, manifest: Pick<BackupManifest, 'compression' | 'encryption'>, keys: DecryptionKeys, name: string): Promise<Readable> {
  let s = stored;
  if (manifest.encryption.mode !== 'none') s = await decryptStream(s, keys, name);
  if (manifest.compression === 'gzip') {
    const gunzip = gunzipStream();
    s.on('error', (e) => gunzip.destroy(e));
    s = s.pipe(gunzip);
  }
  return s;
}

/**
 * Re-reads a stored backup and checks its size and sha256 against the manifest; `deep` also
 * decrypts, decompresses and parses the whole RDB (CRC included) and checks the plain size,
 * sha256 and sha1 and the key counts — in the same single read of the object.
 */
export async function verifyBackup(store: BackupStore, entry: CatalogEntry, opts: { deep?: boolean; keys?: DecryptionKeys } = {}): Promise<VerifyResult> {
  const m = entry.manifest;
  const where = `${store.describe()}/${m.object}`;
  const result: VerifyResult = { object: m.object, ok: false, deep: !!opts.deep, checked: [], exitCode: ExitCode.DATA };
  const fail = (e: unknown): VerifyResult => {
    result.error = oneLine(e);
    result.reason = reasonOf(e);
    result.exitCode = e instanceof ToolError ? e.exitCode : ExitCode.IO;
    return result;
  };
  try {
    const head = await store.head(m.object);
    if (!head) throw new ToolError(`${where}: object missing (manifest ${entry.manifestFile} exists)`, ExitCode.DATA);
    if (head.size !== m.stored.size) throw new ToolError(`${where}: size ${head.size}, manifest says ${m.stored.size}`, ExitCode.DATA);
    result.checked.push('size');

    // Deep: the decode chain reads from a branch; the stored hash is finished even if it fails.
    const branch = opts.deep ? new PassThrough({ highWaterMark: 1 << 20 }) : null;
    let facts: Promise<{ facts: RdbFacts; sha256: string; sha1: string; bytes: number }> | null = null;
    if (branch) {
      facts = (async () => {
        const plain = await decodeStored(branch, m, opts.keys ?? {}, where);
        const check = startRdbCheck(`${where} (decoded)`);
        const tap = new HashTap(['sha256', 'sha1'], (c) => writeTo(check.input, c));
        await pipeline(plain, tap, new Writable({ write: (_c, _e, cb) => cb() }));
        check.input.end();
        const f = await check.result;
        const [sha256, sha1] = tap.digests();
        return { facts: f, sha256: sha256!, sha1: sha1!, bytes: tap.bytes };
      })().catch((e: unknown) => {
        // zlib and stream errors are damaged data here, not I/O.
        throw e instanceof ToolError ? e : new ToolError(`${where}: cannot decode: ${oneLine(e)}`, ExitCode.DATA);
      });
      facts.catch(() => branch.destroy());
    }
    const collectGarbage = gcEvery();
    const storedTap = new HashTap(['sha256'], (c) => {
      collectGarbage(c.length);
      return branch ? writeTo(branch, c) : undefined;
    });
    await pipeline(await store.get(m.object), storedTap, new Writable({ write: (_c, _e, cb) => cb() }));
    branch?.end();
    const [storedSha] = storedTap.digests();
    if (storedTap.bytes !== m.stored.size || storedSha !== m.stored.sha256) {
      facts?.catch(() => {});
      throw new ToolError(`${where}: stored sha256 ${storedSha} (${storedTap.bytes} bytes), manifest says ${m.stored.sha256} (${m.stored.size} bytes)`, ExitCode.DATA);
    }
    result.checked.push('stored sha256');
    if (facts) {
      const got = await facts;
      if (got.bytes !== m.plain.size || got.sha256 !== m.plain.sha256 || got.sha1 !== m.plain.sha1) {
        throw new ToolError(`${where}: decoded RDB sha256 ${got.sha256} (${got.bytes} bytes), manifest says ${m.plain.sha256} (${m.plain.size} bytes)`, ExitCode.DATA);
      }
      if (got.facts.keys !== m.keys.total) throw new ToolError(`${where}: RDB holds ${got.facts.keys} keys, manifest says ${m.keys.total}`, ExitCode.DATA);
      result.checked.push(m.encryption.mode === 'none' ? 'decompressed' : 'decrypted', 'RDB parsed (CRC-64 ok)', 'plain sha256', 'plain sha1', 'key count');
    }
    result.ok = true;
    result.exitCode = ExitCode.OK;
    return result;
  } catch (e) {
    return fail(e);
  }
}

/** A cluster set is verified shard by shard (each as verifyBackup does); it is good when every shard is. */
export async function verifyEntry(store: BackupStore, entry: CatalogEntry, opts: { deep?: boolean; keys?: DecryptionKeys } = {}): Promise<VerifyResult & { shards?: VerifyResult[] }> {
  if (!entry.set) return verifyBackup(store, entry, opts);
  const set = entry.set.manifest;
  const shards: VerifyResult[] = [];
  for (const [i, shard] of entry.set.shards.entries()) {
    const listed = set.shards[i]!;
    // The set manifest and each shard's own manifest must tell the same story.
    if (listed.object !== shard.manifest.object || listed.keys !== shard.manifest.keys.total) {
      const error = `${store.describe()}/${entry.manifestFile}: shard #${listed.index} is ${listed.object} with ${listed.keys} keys, its manifest says ${shard.manifest.object} with ${shard.manifest.keys.total}`;
      shards.push({ object: shard.manifest.object, ok: false, deep: !!opts.deep, checked: [], error, reason: 'mismatch', exitCode: ExitCode.DATA });
      continue;
    }
    shards.push(await verifyBackup(store, shard, opts));
  }
  const bad = shards.find((s) => !s.ok);
  return {
    object: entry.manifestFile,
    ok: !bad,
    deep: !!opts.deep,
    checked: [`${shards.length} shards`, ...shards[0]!.checked],
    ...(bad ? { error: bad.error, ...(bad.reason ? { reason: bad.reason } : {}) } : {}),
    exitCode: bad ? bad.exitCode : ExitCode.OK,
    shards,
  };
}
