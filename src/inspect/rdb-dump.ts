import type { RedisType } from '../codec/rdb/model.js';
import { RdbDecoder, type PieceState } from '../codec/rdb/reader.js';
import type { ByteSource } from '../util/byte-source.js';
import type { ByteEncoding } from './key-json.js';
import { ChunkQueue, PiecePool, type PieceResult, type Slot } from './piece-pool.js';
import type { PieceSettings } from './rdb-dump-piece.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { deserializeError } from '../util/thread-error.js';

/** rdb-dump: every key of an RDB as jsonl, or as the commands that recreate it (RESP). */

export interface DumpOptions {
  format: 'jsonl' | 'resp';
  encoding: ByteEncoding;
  db?: number;
  type?: RedisType;
  match?: Buffer;
  onProgress?: (offset: number) => void;
  /** Read a newer RDB version as the newest known (ReadRdbOptions.allowNewer). */
  allowNewer?: boolean;
  /** The size of the pieces worker threads print (default 1 MiB; tests use tiny ones). */
  pieceBytes?: number;
}

/**
 * A sink that may apply backpressure. It must be done with the chunk when its promise resolves:
 * the output buffer is reused (allocating one per chunk keeps the GC busy).
 */
export type Sink = (chunk: Buffer) => Promise<void> | void;

/** Pieces of about this many bytes are printed by worker threads (the file is cut at key boundaries). */
const PIECE_BYTES = 1 << 20;
/**
 * Input bytes of the pieces in flight, at most: a piece holding one big key (a record of tens of
 * MB, its output a few times that) is printed alone rather than beside others of its kind.
 */
const IN_FLIGHT_BYTES = 16 << 20;
/** A piece of more than this many pieces' bytes (a big key) streams its output in chunks of that size. */
const HUGE_PIECES = 4;

export async function dumpRdb(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  return dumpPieces(src, opts, sink, opts.pieceBytes ?? PIECE_BYTES);
}

/**
 * This thread only skims the file (record boundaries and the CRC, see ReadRdbOptions.skim) and
 * cuts it into pieces of whole records; worker threads validate and print the pieces (dumpPiece:
 * the reader's validating pass writes JSON or RESP through a ValueSink, no decoded model), and
 * their output is written here in file order. A file that fits in one piece is printed on this
 * thread. The first defect in file order wins, wherever it was found. RESP pieces each SELECT
 * their first key's db; that SELECT is dropped when the output has selected that db already.
 */
async function dumpPieces(src: ByteSource, opts: DumpOptions, sink: Sink, pieceBytes: number): Promise<{ keys: number }> {
  const settings: PieceSettings = { name: src.name, format: opts.format, encoding: opts.encoding, db: opts.db, type: opts.type, match: opts.match, allowNewer: opts.allowNewer };
  // The bytes not yet cut into a piece: those of a big key held in a growable slot (copied in as
  // they arrive, so this thread holds them once), then views of the source's windows.
  let held: Slot | null = null;
  let heldLen = 0;
  let parts: Buffer[] = [];
  let partsLen = 0;
  let base = src.offset;
  let resume: PieceState | null = null;
  let seq = 0;
  let pool = null as PiecePool | null; // made at the first cut: with threads unless it is the last
  const pending: Array<{ chunks: ChunkQueue | null; result: Promise<PieceResult>; bytes: number }> = [];
  let inFlight = 0;
  let keys = 0;
  let respDb = -1;
  const dec = new RdbDecoder(src, {
    skim: true,
    returnInSteps: true,
    allowNewer: opts.allowNewer,
    onBytes: (b, from, to) => {
      parts.push(b.subarray(from, to));
      partsLen += to - from;
    },
  });
  /** Copies the parts' first `n` bytes into `slot` from its byte `at` on; the rest stays. */
  const move = (slot: Slot, at: number, n: number): void => {
    partsLen -= n;
    for (const end = at + n; at < end; ) {
      const part = parts[0]!;
      const take = Math.min(part.length, end - at);
      at += part.copy(slot.input, at, 0, take);
      if (take === part.length) parts.shift();
      else parts[0] = part.subarray(take);
    }
  };
  /** Moves the parts into the held slot: the big key being read is kept once, in memory a worker can read. */
  const hold = (): void => {
    pool ??= new PiecePool(settings, pieceBytes, true);
    held ??= pool.hold();
    pool.fit(held, heldLen + partsLen);
    const n = partsLen;
    move(held, heldLen, n);
    heldLen += n;
  };
  /** Cuts the first `n` pending bytes (all by default) into a piece; the rest stays for the next. */
  const cut = (last: boolean, n = heldLen + partsLen): void => {
    if (n === 0) return;
    pool ??= new PiecePool(settings, pieceBytes, !last);
    const slot = held ?? pool.acquire(n);
    if (held) pool.fit(held, n);
    move(slot, heldLen, n - heldLen);
    held = null;
    heldLen = 0;
    // A huge piece (a big key) streams its output in chunks of a few pieces' size.
    const streamAt = n > HUGE_PIECES * pieceBytes ? HUGE_PIECES * pieceBytes : undefined;
    pending.push({ ...pool.run(slot, { seq: seq++, length: n, base, resume, streamAt }), bytes: n });
    inFlight += n;
    base += n;
  };
  const drainOne = async (): Promise<void> => {
    const p = pending.shift()!;
    inFlight -= p.bytes;
    // The piece's first SELECT is in its first chunk, or in its result when nothing was streamed.
    let first = true;
    const write = async (out: Buffer, select: PieceResult['firstSelect']): Promise<void> => {
      if (first && select?.db === respDb) {
        if (select.start > 0) await sink(out.subarray(0, select.start));
        if (out.length > select.end) await sink(out.subarray(select.end));
      } else if (out.length > 0) await sink(out);
      first = false;
    };
    for (let c = await p.chunks?.next(); c; c = await p.chunks!.next()) {
      await write(c.out, c.firstSelect);
      c.done();
    }
    const r = await p.result;
    await write(r.out, r.firstSelect);
    if (r.lastDb >= 0) respDb = r.lastDb;
    pool!.release(r.slot);
    // A big key's read windows, copied into its slot, are garbage: collected before the next one's pile up.
    if (p.chunks) collectGarbage();
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
      let big: ReturnType<RdbDecoder['bigRecordStart']> = null;
      if (next && heldLen + partsLen >= pieceBytes) {
        cut(false);
        resume = next;
      } else if (!next) {
        // A batch ends inside a big value: the keys before it are a piece of their own, so the
        // big key is one alone (printed by streaming, see PieceJob.streamAt).
        big = dec.bigRecordStart();
        if (big && big.at > base) {
          cut(false, big.at - base);
          resume = big.state;
        }
      }
      // Bytes not yet cut count as in flight: a big key is read on once the one before it is
      // printed, so no more than one is in memory at a time.
      while (pending.length > 0 && (pending.length > (pool?.capacity ?? 1) || inFlight + heldLen + partsLen > IN_FLIGHT_BYTES)) await drainOne();
      if (big && heldLen + partsLen >= pieceBytes) hold();
    }
    cut(true);
    while (pending.length > 0) await drainOne();
    return { keys };
  } finally {
    // A failed drain leaves pieces in flight: they are dropped with the workers.
    pending.forEach((p) => p.result.catch(() => {}));
    await pool?.close();
  }
}
