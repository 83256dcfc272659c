import { encodeCommand } from '../codec/resp/encoder.js';
import type { RdbKey, RedisType } from '../codec/rdb/model.js';
import { RdbDecoder, type PieceState } from '../codec/rdb/reader.js';
import { functionToCommand, valueToCommands } from '../codec/rdb/to-commands.js';
import type { ByteSource } from '../util/byte-source.js';
import { globMatch } from './glob.js';
import type { ByteEncoding } from './key-json.js';
import { PiecePool, type PieceResult } from './piece-pool.js';
import type { PieceSettings } from './rdb-dump-piece.js';
import { deserializeError } from '../util/thread-error.js';

/** rdb-dump: every key of an RDB as jsonl, or as the commands that recreate it (RESP). */

export interface DumpOptions {
  format: 'jsonl' | 'resp';
  encoding: ByteEncoding;
  db?: number;
  type?: RedisType;
  match?: Buffer;
  onProgress?: (offset: number) => void;
  /** jsonl: the size of the pieces worker threads print (default 1 MiB; tests use tiny ones). */
  pieceBytes?: number;
}

/**
 * A sink that may apply backpressure. It must be done with the chunk when its promise resolves:
 * the jsonl output buffer is reused (allocating one per chunk keeps the GC busy).
 */
export type Sink = (chunk: Buffer) => Promise<void> | void;

const FLUSH_AT = 1 << 20;
/**
 * Records per decoder batch for the RESP output. Small on purpose: a batch's decoded values are
 * alive while it is printed, and with thousands of keys in flight most of them survive
 * young-generation GCs (1.6x the CPU time of the whole dump with the decoder's default 4096).
 */
const BATCH = 128;

/** Pieces of about this many bytes are printed by worker threads (the file is cut at key boundaries). */
const PIECE_BYTES = 1 << 20;

export async function dumpRdb(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  return opts.format === 'jsonl' ? dumpJsonl(src, opts, sink, opts.pieceBytes ?? PIECE_BYTES) : dumpResp(src, opts, sink);
}

/**
 * jsonl: this thread only skims the file (record boundaries and the CRC, see ReadRdbOptions.skim)
 * and cuts it into pieces of whole records; worker threads validate and print the pieces
 * (dumpPiece: the reader's validating pass writes JSON through KeyJsonSink, no decoded model),
 * and their output is written here in file order. A file that fits in one piece is printed on
 * this thread. The first defect in file order wins, wherever it was found.
 */
async function dumpJsonl(src: ByteSource, opts: DumpOptions, sink: Sink, pieceBytes: number): Promise<{ keys: number }> {
  const settings: PieceSettings = { name: src.name, encoding: opts.encoding, db: opts.db, type: opts.type, match: opts.match };
  let parts: Buffer[] = [];
  let partsLen = 0;
  let base = src.offset;
  let resume: PieceState | null = null;
  let seq = 0;
  let pool = null as PiecePool | null; // made at the first cut: with threads unless it is the last
  const pending: Array<Promise<PieceResult>> = [];
  let keys = 0;
  const dec = new RdbDecoder(src, {
    skim: true,
    onBytes: (b, from, to) => {
      parts.push(b.subarray(from, to));
      partsLen += to - from;
    },
  });
  const cut = (last: boolean): void => {
    if (partsLen === 0) return;
    pool ??= new PiecePool(settings, pieceBytes, !last);
    const slot = pool.acquire(partsLen);
    let at = 0;
    for (const part of parts) at += part.copy(slot.input, at);
    pending.push(pool.run(slot, { seq: seq++, length: partsLen, base, resume }));
    base += partsLen;
    parts = [];
    partsLen = 0;
  };
  const drainOne = async (): Promise<void> => {
    const r = await pending.shift()!;
    if (r.out.length > 0) await sink(r.out);
    pool!.release(r.slot);
    keys += r.keys;
    if (r.error) throw deserializeError(r.error);
  };
  try {
    for (;;) {
      let batch;
      try {
        batch = await dec.nextBatch(4096);
      } catch (e) {
        // The whole records before the defect, then the failing record's bytes: the pieces'
        // full parse reports the first defect in file order (a skim may see a later one first).
        cut(true);
        while (pending.length > 0) await drainOne();
        throw e;
      }
      if (!batch) break;
      opts.onProgress?.(src.offset);
      const next = dec.pieceState();
      if (next && partsLen >= pieceBytes) {
        cut(false);
        resume = next;
      }
      while (pending.length > (pool?.capacity ?? 1)) await drainOne();
    }
    cut(true);
    while (pending.length > 0) await drainOne();
    return { keys };
  } finally {
    // A failed drain leaves pieces in flight: they are dropped with the workers.
    pending.forEach((p) => p.catch(() => {}));
    await pool?.close();
  }
}

async function dumpResp(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  const dec = new RdbDecoder(src);
  const selected = (k: RdbKey): boolean =>
    (opts.db === undefined || k.db === opts.db) && (opts.type === undefined || k.value!.type === opts.type) && (!opts.match || globMatch(opts.match, k.key));
  let keys = 0;
  let bufs: Buffer[] = [];
  let bufLen = 0;
  let respDb = -1;
  const pushCmd = (argv: Buffer[]): void => {
    const b = encodeCommand(argv);
    bufs.push(b);
    bufLen += b.length;
  };
  const flush = async (): Promise<void> => {
    if (bufs.length > 0) {
      const b = Buffer.concat(bufs, bufLen);
      bufs = [];
      bufLen = 0;
      await sink(b);
    }
  };
  for (;;) {
    const batch = await dec.nextBatch(BATCH);
    if (!batch) break;
    for (const r of batch) {
      if (r.kind === 'function') pushCmd(functionToCommand(r.code));
      else if (r.kind === 'key') {
        const k = r.entry;
        if (!selected(k)) continue;
        keys++;
        if (k.db !== respDb) {
          pushCmd([Buffer.from('SELECT'), Buffer.from(String(k.db))]);
          respDb = k.db;
        }
        for (const argv of valueToCommands(k.key, k.value!, k.expireAtMs)) pushCmd(argv);
      }
    }
    opts.onProgress?.(src.offset);
    if (bufLen >= FLUSH_AT) await flush();
  }
  await flush();
  return { keys };
}
