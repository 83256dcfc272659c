import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { gunzipStream } from '../backup/compress.js';
import { decryptStream, type DecryptionKeys } from '../backup/crypto.js';
import { CryptoError, FormatError, IoError, ToolError } from '../util/errors.js';

/** A plain RDB file ready to read, and how to clean up what staging left behind. */
export interface StagedRdb {
  path: string;
  /** Layers peeled off, outermost first ("gpg", "gzip"). */
  layers: string[];
  cleanup(): Promise<void>;
}

type Kind = 'rdb' | 'gzip' | 'gpg' | 'unknown';

/** What a file holds, from its first bytes (never its name). */
export function detectKind(head: Buffer): Kind {
  if (head.length >= 5 && (head.subarray(0, 5).toString('latin1') === 'REDIS' || head.subarray(0, 6).toString('latin1') === 'VALKEY')) return 'rdb';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 27).toString('latin1') === '-----BEGIN PGP MESSAGE-----') return 'gpg';
  // OpenPGP binary: a packet header (bit 7 set) for SKESK (tag 3), PKESK (tag 1) or SEIPD/SED first.
  const b = head[0];
  if (b !== undefined && b & 0x80) {
    const tag = b & 0x40 ? b & 0x3f : (b >> 2) & 0x0f;
    if (tag === 1 || tag === 3 || tag === 9 || tag === 18) return 'gpg';
  }
  return 'unknown';
}

/** Reads at least `n` bytes (or to the end) and pushes them back, so the stream is unchanged. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const c = stream.read() as Buffer | null;
    if (c !== null) {
      parts.push(c);
      have += c.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const done = (v: boolean) => () => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
        resolve(v);
      };
      const onReadable = done(false);
      const onEnd = done(true);
      const onError = (e: Error) => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        reject(e);
      };
      stream.once('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', onError);
    });
    if (ended) break;
  }
  const head = Buffer.concat(parts);
  if (head.length) stream.unshift(head);
  return head;
}

/**
 * Peels gpg and gzip layers (any order, detected from content) off a stream down to the RDB.
 * Integrity is proven only when the stream ends cleanly (OpenPGP MDC, gzip CRC), so callers stage
 * the result to a file before using it.
 */
export async function peelLayers(input: Readable, name: string, keys: DecryptionKeys, layers: string[] = []): Promise<Readable> {
  let stream = input;
  for (let depth = 0; depth < 6; depth++) {
    const head = await peek(stream, 32);
    const kind = detectKind(head);
    if (kind === 'rdb') return stream;
    if (kind === 'gzip') {
      layers.push('gzip');
      const src = stream;
      const gz = gunzipStream();
      src.on('error', (e) => gz.destroy(e));
      stream = src.pipe(gz) as unknown as Readable;
    } else if (kind === 'gpg') {
      layers.push('gpg');
      stream = await decryptStream(stream, keys, name);
    } else {
      stream.destroy();
      throw new FormatError(
        `${name}${layers.length ? ` (after ${layers.join(' → ')})` : ''}`,
        0,
        head.length === 0 ? 'data, found an empty file' : 'an RDB file (REDIS/VALKEY magic), gzip or OpenPGP data',
      );
    }
  }
  throw new FormatError(name, 0, 'at most a few gpg/gzip layers');
}

/**
 * A failure inside a layer as one line naming the file. Under a gpg layer, data that does not
 * decompress means the ciphertext was altered (the MDC would have failed at the end).
 */
function layerError(file: string, layers: string[], e: unknown): ToolError {
  if (e instanceof ToolError) return e;
  const msg = (e as Error)?.message ?? String(e);
  const after = layers.length ? ` after ${layers.join(' → ')}` : '';
  if (layers.includes('gpg')) return new CryptoError(`${file}: damaged or tampered data${after} (${msg}); nothing was written`);
  return new FormatError(`${file}${after}`, 0, `valid compressed data (${msg})`);
}

/** Writes a stream to a private temp file; on any failure nothing is left behind. */
export async function stageStream(stream: Readable, tmpRoot: string | undefined, label: string): Promise<StagedRdb> {
  const dir = await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-restore-'));
  const path = join(dir, 'staged.rdb');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(stream, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    await cleanup();
    if (e instanceof ToolError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') throw new FormatError(`${label} (gzip)`, 0, `valid gzip data (${err.message})`);
    throw new IoError(`${label}: staging to ${dir} failed: ${err.message}`);
  }
  return { path, layers: [], cleanup };
}

/** A local source file: used in place when it is a plain RDB, else decrypted/decompressed to a temp file first. */
export async function stageLocalFile(file: string, keys: DecryptionKeys, tmpRoot?: string): Promise<StagedRdb> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (e: NodeJS.ErrnoException) => reject(new IoError(`cannot read ${file}: ${e.code ?? e.message}`)));
  });
  await opened;
  const layers: string[] = [];
  const plain = await peelLayers(input, file, keys, layers).catch((e: unknown) => {
    throw layerError(file, layers, e);
  });
  if (layers.length === 0) {
    plain.destroy();
    return { path: file, layers, cleanup: async () => {} };
  }
  const staged = await stageStream(plain, tmpRoot, file).catch((e: unknown) => {
    throw layerError(file, layers, e);
  });
  return { ...staged, layers };
}
