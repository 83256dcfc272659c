import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipStream } from '../backup/compress.js';
import { decryptStream, type DecryptionKeys } from '../backup/crypto.js';
import { FormatError, IoError, ToolError } from '../util/errors.js';

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

/**
 * A failure inside a layer as one line naming the file (decryption failures already are
 * CryptoErrors: wrong key, or ciphertext altered so the MDC failed).
 */
function layerError(file: string, layers: string[], e: unknown): ToolError {
  if (e instanceof ToolError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if ((e as NodeJS.ErrnoException)?.code?.startsWith('Z_')) return new FormatError(`${file} (${layers.join(' → ')})`, 0, `valid gzip data (${msg})`);
  return new IoError(`${file}: ${msg}`);
}

/** The first bytes of a file (fewer when it is shorter). */
async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new IoError(`cannot read ${path}: ${e.code ?? e.message}`);
  });
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A local source file: used in place when it is a plain RDB; otherwise each layer (gpg, gzip, in
 * any order, detected from content) is peeled into a private temp file and the next layer is
 * detected only on that complete output — so nothing decrypted is interpreted before its OpenPGP
 * MDC (or gzip CRC) has been checked at the end of the stream.
 */
export async function stageLocalFile(file: string, keys: DecryptionKeys, tmpRoot?: string): Promise<StagedRdb> {
  const layers: string[] = [];
  let current = file;
  let dir: string | null = null;
  const cleanup = async (): Promise<void> => {
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let depth = 0; depth < 6; depth++) {
      const first = await head(current, 32);
      const kind = detectKind(first);
      if (kind === 'rdb') return { path: current, layers, cleanup };
      if (kind === 'unknown') {
        throw new FormatError(
          `${file}${layers.length ? ` (after ${layers.join(' → ')})` : ''}`,
          0,
          first.length === 0 ? 'data, found an empty file' : 'an RDB file (REDIS/VALKEY magic), gzip or OpenPGP data',
        );
      }
      dir ??= await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-restore-'));
      const next = join(dir, `layer-${depth}`);
      const input = createReadStream(current, { highWaterMark: 1 << 20 });
      try {
        let out: Readable;
        if (kind === 'gzip') {
          const gz = gunzipStream();
          input.on('error', (e) => gz.destroy(e));
          out = input.pipe(gz) as unknown as Readable;
        } else out = await decryptStream(input, keys, file);
        layers.push(kind);
        await pipeline(out, createWriteStream(next, { mode: 0o600 }));
      } catch (e) {
        input.destroy();
        throw layerError(file, layers, e);
      }
      if (current !== file) await rm(current, { force: true });
      current = next;
    }
    throw new FormatError(file, 0, 'at most a few gpg/gzip layers');
  } catch (e) {
    await cleanup();
    throw e;
  }
}
