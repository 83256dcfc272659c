import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readAofBatches } from '../codec/aof/reader.js';
import { encodeCommand } from '../codec/resp/encoder.js';
import { gzipStream, type Compression } from '../backup/compress.js';
import { encryptStream, type EncryptionSpec } from '../backup/crypto.js';
import { HashTap } from '../backup/stream-util.js';
import { fsyncDir } from '../util/atomic-file.js';
import { dirname } from 'node:path';

export interface PackOptions {
  compression: Compression;
  compressionLevel?: number;
  encryption: EncryptionSpec;
}

export interface Packed {
  plain: { size: number; sha256: string };
  stored: { size: number; sha256: string };
}

/**
 * Compresses and encrypts `plain` into `out` (fsynced; the caller renames it into the queue),
 * hashing both sides once: the same stages as `backup` (gzip, then OpenPGP that `gpg -d` reads).
 */
export async function packStream(plain: Readable, out: string, opts: PackOptions): Promise<Packed> {
  const plainTap = new HashTap(['sha256']);
  const storedTap = new HashTap(['sha256']);
  const compressed = opts.compression === 'gzip' ? gzipStream(opts.compressionLevel) : new PassThrough({ highWaterMark: 1 << 20 });
  plain.on('error', (e) => compressed.destroy(e));
  plain.pipe(plainTap).pipe(compressed);
  plainTap.on('error', (e) => compressed.destroy(e));
  const stored = opts.encryption.mode === 'none' ? compressed : await encryptStream(compressed, opts.encryption);
  await pipeline(stored, storedTap, createWriteStream(out, { flags: 'w', mode: 0o600 }));
  const fh = await open(out, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(out));
  return { plain: { size: plainTap.bytes, sha256: plainTap.digests()[0]! }, stored: { size: storedTap.bytes, sha256: storedTap.digests()[0]! } };
}

/** What a segment holds, from reading it as an AOF (which also proves it is whole and well-formed). */
export interface SegmentFacts {
  commands: number;
  firstTs: number | null;
  lastTs: number | null;
  flushes: Array<{ index: number; ts: number; command: string }>;
}

/**
 * The plain bytes of a segment: `#TS:` and SELECT for the state at its start (so it reads on its
 * own as an AOF fragment), then the incr AOF's bytes [from, to) as the replica wrote them.
 */
export function segmentPrelude(ts: number, db: number): Buffer {
  const parts: Buffer[] = [];
  if (ts > 0) parts.push(Buffer.from(`#TS:${ts}\r\n`));
  parts.push(encodeCommand(['SELECT', String(Math.max(0, db))]));
  return Buffer.concat(parts);
}

/** Writes prelude + incr[from, to) to `path` and reads it back as an AOF. */
export async function writeSegmentPlain(incrPath: string, from: number, to: number, prelude: Buffer, path: string): Promise<SegmentFacts> {
  const out = createWriteStream(path, { flags: 'w', mode: 0o600 });
  const body = to > from ? createReadStream(incrPath, { start: from, end: to - 1, highWaterMark: 1 << 20 }) : null;
  async function* all(): AsyncGenerator<Buffer> {
    yield prelude;
    if (body) for await (const c of body) yield c as Buffer;
  }
  await pipeline(all(), out);
  return segmentFacts(path);
}

/** Counts a segment's commands (SELECT aside), its first/last #TS and where its flushes are. */
export async function segmentFacts(path: string): Promise<SegmentFacts> {
  const f: SegmentFacts = { commands: 0, firstTs: null, lastTs: null, flushes: [] };
  let multiAt = -1;
  for await (const batch of readAofBatches(path, { rdb: false })) {
    for (const it of batch) {
      if (it.kind !== 'command') continue;
      const name = it.argv[0]!.toString('latin1').toLowerCase();
      if (name === 'select') continue;
      const ts = it.timestampS ?? 0;
      if (f.firstTs === null && it.timestampS !== null) f.firstTs = it.timestampS;
      if (it.timestampS !== null) f.lastTs = it.timestampS;
      if (name === 'multi') multiAt = f.commands;
      if (name === 'flushall' || name === 'flushdb') f.flushes.push({ index: multiAt >= 0 ? multiAt : f.commands, ts, command: name.toUpperCase() });
      if (name === 'exec') multiAt = -1;
      f.commands++;
    }
  }
  return f;
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}
