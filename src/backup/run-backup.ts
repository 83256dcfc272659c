import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { PassThrough, Readable, Writable, pipeline, type Duplex } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { ExitCode, IoError, RefusedError, ToolError, oneLine } from '../util/errors.js';
import { gzipStream, type Compression } from './compress.js';
import { encryptStream, recipientIds, type EncryptionSpec } from './crypto.js';
import { sweepDebris } from './debris.js';
import { manifestBytes, type BackupManifest } from './manifest.js';
import { manifestNameFor, markerNameFor, objectNameFor, stemFor } from './naming.js';
import { pruneTarget, type PruneReport } from './prune-target.js';
import { gcEvery } from './memory.js';
import { startRdbCheckInWorker } from './rdb-check-thread.js';
import { drained, writeTo } from './stream-util.js';
import type { RetentionPolicy } from './retention.js';
import { openSource, type OpenedSource, type SourceOptions } from './source.js';
import { openStore, type BackupStore, type StoreOptions } from './store/store.js';

const require = createRequire(import.meta.url);
const { version: toolVersion } = require('../../package.json') as { version: string };

export interface BackupRequest {
  name: string;
  source: string;
  targets: string[];
  /** One set for every target, or per target (a config file's per-target options). */
  storeOptions?: StoreOptions | ((target: string) => StoreOptions);
  sourceOptions?: SourceOptions;
  compression: Compression;
  compressionLevel?: number;
  encryption: EncryptionSpec;
  /** Label the snapshot with this time instead of now (importing dated dumps). */
  takenAt?: Date;
  /** A source already opened (a cluster shard's snapshot), used instead of opening `source`. */
  opened?: OpenedSource;
  /**
   * One shard of a cluster set: stored under this stem, with its own manifest, but no marker,
   * cleanup or prune (the set does those once its set manifest is written).
   */
  part?: { stem: string };
  /** Prune each target with this policy after its upload verified. */
  retention?: RetentionPolicy;
  /** Leftovers of earlier runs of this name (temp files, multipart uploads, objects without a manifest) older than this are removed (default 6h). */
  staleAfter?: string;
  onProgress?: (p: BackupProgress) => void;
  log?: (line: string) => void;
}

export interface BackupProgress {
  stage: 'reading' | 'finishing';
  plainBytes: number;
  totalBytes: number | null;
  storedBytes: number;
}

export interface TargetOutcome {
  target: string;
  ok: boolean;
  verifiedBy?: string;
  error?: string;
  exitCode?: number;
  prune?: PruneReport;
  /** Leftovers of earlier, interrupted runs of this name that were removed (debris.ts). */
  cleaned?: string[];
  /** Why the leftovers could not be cleaned (the backup itself is fine). */
  cleanupError?: string;
}

export interface BackupOutcome {
  ok: boolean;
  exitCode: number;
  object: string | null;
  manifest: BackupManifest | null;
  targets: TargetOutcome[];
  /** The failure that stopped the whole run (source, validation, encryption), if any. */
  error?: string;
}

interface Branch {
  target: string;
  store: BackupStore;
  pipe: PassThrough;
  put?: Promise<{ size: number; sha256: string; verifiedBy: string }>;
  failure?: unknown;
}

/**
 * One backup run, one pass over the source: the RDB bytes are parsed (structure + CRC) and hashed
 * (sha256, sha1), compressed, encrypted, hashed again and streamed to every target at once. The
 * end of the plain stream is held back until the RDB checked out, so no target ever completes an
 * upload of a damaged RDB. Each target verifies its copy, then gets the manifest (last), the
 * last-success marker and, when a policy is given, a prune.
 */
export async function runBackup(req: BackupRequest): Promise<BackupOutcome> {
  const log = req.log ?? (() => {});
  const optionsFor = (t: string): StoreOptions | undefined => (typeof req.storeOptions === 'function' ? req.storeOptions(t) : req.storeOptions);
  const stores = await Promise.all(req.targets.map((t) => openStore(t, optionsFor(t))));
  const takenAt = req.takenAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const stem = req.part?.stem ?? stemFor(req.name, takenAt);
  const encrypted = req.encryption.mode !== 'none';
  const object = objectNameFor(stem, req.compression === 'gzip', encrypted);
  const manifestName = manifestNameFor(stem);
  const outcomes: TargetOutcome[] = req.targets.map((target) => ({ target, ok: false }));

  // Never overwrite: a second run in the same second (or a re-import) is refused per target.
  const branches: Branch[] = [];
  for (let i = 0; i < stores.length; i++) {
    const store = stores[i]!;
    try {
      if ((await store.head(object)) || (await store.head(manifestName))) {
        throw new RefusedError(`${store.describe()}: ${object} already exists; not overwriting`);
      }
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      // A run that fails before the store attached its reader destroys the branch with the error;
      // the store's put reports it, so it must not also surface as an unhandled 'error' event.
      pipe.on('error', () => {});
      branches.push({ target: req.targets[i]!, store, pipe });
    } catch (e) {
      Object.assign(outcomes[i]!, { error: oneLine(e), exitCode: exitCodeOf(e) });
    }
  }
  if (branches.length === 0) {
    req.opened?.stream.destroy();
    return finish(outcomes, object, null, undefined);
  }

  const src = req.opened ?? (await openSource(req.source, { ...req.sourceOptions, log }));
  log(`backing up ${src.location} as ${object} to ${branches.map((b) => b.store.describe()).join(', ')}`);
  // With gzip a file's chunks go to the RDB check once gzip has consumed them (zlib copied them
  // into its window by then): the worker thread can take each whole instead of a copy.
  const handOver = req.compression === 'gzip' && src.ownsChunks === true;
  // Parsed in a worker thread, in parallel with hashing, compression and encryption here.
  const check = startRdbCheckInWorker(src.location, { takeChunks: handOver });
  const plainSha256 = createHash('sha256');
  const plainSha1 = createHash('sha1');
  const storedSha256 = createHash('sha256');
  // Hashed once here and handed to every store (each would otherwise hash the same bytes again).
  let storedDigest: string | null = null;
  const storedSha256Hex = (): string => (storedDigest ??= storedSha256.digest('hex'));
  let plainBytes = 0;
  let storedBytes = 0;
  const progress = (stage: BackupProgress['stage']): void =>
    req.onProgress?.({ stage, plainBytes, totalBytes: src.size ?? null, storedBytes });

  const collectGarbage = gcEvery();
  const afterPlain: Duplex = req.compression === 'gzip' ? gzipStream(req.compressionLevel) : new PassThrough({ highWaterMark: 1 << 20 });
  const toCheck = (chunk: Buffer): void => {
    if (!check.input.destroyed) check.input.write(chunk);
  };
  // Chunks gzip has not consumed yet (handOver): the check's input ends only after the last one.
  let inGzip = 0;
  let gzipIdle: (() => void) | null = null;
  const consumed = (err?: Error | null, chunk?: Buffer): void => {
    if (!err && chunk) toCheck(chunk);
    if (--inGzip === 0) gzipIdle?.();
  };
  const checkStopped = (cb: (e?: Error | null) => void): void => void check.result.then(() => cb(new IoError('RDB check stopped')), cb);
  const plainTap = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      plainSha256.update(chunk);
      plainSha1.update(chunk);
      plainBytes += chunk.length;
      collectGarbage(chunk.length);
      progress('reading');
      if (check.input.destroyed) return checkStopped(cb);
      if (handOver) {
        inGzip++;
        afterPlain.write(chunk, (e) => consumed(e, chunk));
      } else {
        afterPlain.write(chunk);
        toCheck(chunk);
      }
      Promise.all([drained(afterPlain), drained(check.input)]).then(() => (check.input.destroyed ? checkStopped(cb) : cb()), cb);
    },
    // Hold the end of the stream until the RDB parsed to its checksum and the producer finished.
    final(cb) {
      progress('finishing');
      new Promise<void>((resolve) => (inGzip === 0 ? resolve() : (gzipIdle = resolve)))
        .then(() => {
          check.input.end();
          return Promise.all([check.result, src.done]);
        })
        .then(() => {
          afterPlain.end();
          cb();
        }, cb);
    },
    // Torn down on failure only (autoDestroy also calls this after a clean finish).
    destroy(err, cb) {
      if (err) afterPlain.destroy(err);
      cb(err);
    },
  });
  afterPlain.once('error', (e) => plainTap.destroy(e));

  let sourceError: unknown = null;
  const onStageError = (e: unknown): void => {
    if (e) sourceError ??= e;
  };
  pipeline(src.stream, plainTap, onStageError);
  check.result.catch(onStageError);

  for (const b of branches) {
    b.put = b.store.put(object, b.pipe, { sizeHint: src.size, bodySha256: storedSha256Hex }).catch((e: unknown) => {
      b.failure = e;
      b.pipe.destroy();
      throw e;
    });
    b.put.catch(() => {});
  }

  const fanOut = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      storedSha256.update(chunk);
      storedBytes += chunk.length;
      Promise.all(branches.map((b) => (b.failure ? undefined : writeTo(b.pipe, chunk)))).then(() => {
        const alive = branches.filter((b) => !b.failure);
        cb(alive.length ? null : (branches[0]!.failure as Error));
      }, cb);
    },
    final(cb) {
      for (const b of branches) if (!b.failure) b.pipe.end();
      cb();
    },
    destroy(err, cb) {
      // Tear the uploads down only on failure: on success the branches still drain to the stores.
      if (err) for (const b of branches) b.pipe.destroy(err);
      cb(err);
    },
  });

  let runError: unknown = null;
  try {
    const stored = encrypted ? await encryptStream(afterPlain, req.encryption as Exclude<EncryptionSpec, { mode: 'none' }>) : afterPlain;
    await pipelineAsync(stored, fanOut);
  } catch (e) {
    runError = e;
  }
  if (runError || sourceError) {
    // Name the cause, not its echo: a source/RDB error first, then a store that failed (when
    // every store failed the pipeline stops, and the source side only sees a premature close).
    const storeFailure = branches.every((b) => b.failure) ? branches[0]!.failure : undefined;
    runError = (sourceError instanceof ToolError ? sourceError : undefined) ?? storeFailure ?? sourceError ?? runError;
  }
  // Let every upload settle (aborts included) before reporting anything.
  await Promise.allSettled(branches.map((b) => b.put));
  if (runError) {
    // A failed run never ends the check's input: stop it (its worker thread would keep us alive).
    check.input.destroy();
    for (const b of branches) {
      const o = outcomes[req.targets.indexOf(b.target)]!;
      Object.assign(o, { error: `not stored: ${oneLine(runError)}`, exitCode: exitCodeOf(runError) });
    }
    return finish(outcomes, object, null, runError);
  }

  const facts = await check.result;
  const manifest: BackupManifest = {
    format: 'tsredis-ops-backup/1',
    name: req.name,
    object,
    takenAt: takenAt.toISOString(),
    completedAt: new Date().toISOString(),
    source: { kind: src.kind, location: src.location },
    redisVersion: facts.redisVersion,
    rdbVersion: facts.rdbVersion,
    keys: { total: facts.keys, perDb: facts.keysPerDb },
    plain: { size: plainBytes, sha256: plainSha256.digest('hex'), sha1: plainSha1.digest('hex') },
    stored: { size: storedBytes, sha256: storedSha256Hex() },
    compression: req.compression,
    encryption:
      req.encryption.mode === 'none'
        ? { mode: 'none' }
        : req.encryption.mode === 'passphrase'
          ? { mode: 'passphrase', cipher: 'aes256' }
          : { mode: 'recipients', cipher: 'aes256', recipients: recipientIds(req.encryption.keys) },
    tool: { name: 'tsredis-ops', version: toolVersion },
  };

  await Promise.all(
    branches.map(async (b) => {
      const o = outcomes[req.targets.indexOf(b.target)]!;
      try {
        const put = await b.put!;
        if (put.sha256 !== manifest.stored.sha256 || put.size !== manifest.stored.size) {
          await b.store.delete(object).catch(() => {});
          throw new ToolError(`${b.store.describe()}: the store received ${put.size} bytes (sha256 ${put.sha256}), expected ${manifest.stored.size} (${manifest.stored.sha256}); deleted`, ExitCode.DATA);
        }
        await b.store.put(manifestName, Readable.from([manifestBytes(manifest)]), { contentType: 'application/json' });
        if (req.part) {
          Object.assign(o, { ok: true, verifiedBy: put.verifiedBy });
          return;
        }
        await writeMarker(b.store, req.name, object, manifest.takenAt, manifest.stored.sha256);
        Object.assign(o, { ok: true, verifiedBy: put.verifiedBy });
        log(`${b.store.describe()}: stored ${object} (${put.verifiedBy})`);
      } catch (e) {
        Object.assign(o, { error: oneLine(e), exitCode: exitCodeOf(e) });
        return;
      }
      await afterStored(b.store, o, req, log);
    }),
  );
  return finish(outcomes, object, manifest, undefined);
}

/** The `<name>.last-success.json` marker cron monitors read, written once a backup is complete on a target. */
export async function writeMarker(store: BackupStore, name: string, object: string, takenAt: string, storedSha256: string): Promise<void> {
  const marker = { name, object, takenAt, completedAt: new Date().toISOString(), storedSha256 };
  await store.put(markerNameFor(name), Readable.from([Buffer.from(`${JSON.stringify(marker, null, 2)}\n`)]), { contentType: 'application/json' });
}

/**
 * Only after this run stored its backup on a target: that target is cleaned of what killed runs
 * left, then pruned when a policy is given (a failed prune fails the target's outcome).
 */
export async function afterStored(store: BackupStore, o: TargetOutcome, req: Pick<BackupRequest, 'name' | 'staleAfter' | 'retention'>, log: (line: string) => void): Promise<void> {
  try {
    o.cleaned = await sweepDebris(store, { name: req.name, staleAfter: req.staleAfter, warn: log });
    for (const r of o.cleaned) log(`${store.describe()}: removed leftover ${r}`);
  } catch (e) {
    o.cleanupError = oneLine(e);
    log(`${store.describe()}: leftovers of earlier runs not cleaned: ${o.cleanupError}`);
  }
  if (req.retention) {
    try {
      o.prune = await pruneTarget(store, req.retention, { name: req.name, log });
    } catch (e) {
      Object.assign(o, { ok: false, error: `backup stored, prune failed: ${oneLine(e)}`, exitCode: exitCodeOf(e) });
    }
  }
}

export function exitCodeOf(e: unknown): number {
  return e instanceof ToolError ? e.exitCode : ExitCode.IO;
}

function finish(targets: TargetOutcome[], object: string, manifest: BackupManifest | null, error: unknown): BackupOutcome {
  const failed = targets.find((t) => !t.ok);
  const exitCode = error ? exitCodeOf(error) : failed ? (failed.exitCode ?? ExitCode.IO) : ExitCode.OK;
  return {
    ok: exitCode === ExitCode.OK,
    exitCode,
    object: manifest ? object : null,
    manifest,
    targets,
    ...(error ? { error: oneLine(error) } : {}),
  };
}
