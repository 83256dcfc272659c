import type { RedisType } from '../codec/rdb/model.js';
import { RdbDecoder, type PieceState } from '../codec/rdb/reader.js';
import type { ValueSink } from '../codec/rdb/value-sink.js';
import { ByteSource } from '../util/byte-source.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { serializeError, type SerializedError } from '../util/thread-error.js';
import { JsonOut } from './json-out.js';
import { KeyJsonSink } from './key-json-sink.js';
import { KeyRespSink } from './key-resp-sink.js';
import type { ByteEncoding } from './key-json.js';

/** One record-aligned piece of an RDB for rdb-dump (jsonl or RESP), and what it printed. */

export interface PieceSettings {
  name: string;
  format: 'jsonl' | 'resp';
  encoding: ByteEncoding;
  db?: number;
  type?: RedisType;
  match?: Uint8Array;
  allowNewer?: boolean;
}

export interface PieceJob {
  seq: number;
  /** The piece is the first `length` bytes of its input. */
  length: number;
  /** File offset of the piece's first byte. */
  base: number;
  /** null for the piece that starts with the header. */
  resume: PieceState | null;
  /**
   * Set for a huge piece (a big key): its output goes out in chunks of about this many bytes
   * (see dumpPiece's `chunk`) instead of being held whole.
   */
  streamAt?: number;
}

/** A chunk of a huge piece's output (a view valid during the call), with the piece's first SELECT when it is the first chunk. */
export type PieceChunk = (out: Buffer, firstSelect: PieceOutput['firstSelect']) => void;

/**
 * Takes the keys and prints nothing: the checking pass before a huge piece is streamed. It takes
 * streams node by node in file order (one pass, never held whole) and notes whether every
 * stream's nodes are in key order, as Redis writes them: the printing pass may then take them in
 * file order too (a stream out of order is printed sorted, from its decoded value).
 */
class CheckOnly implements ValueSink {
  readonly nodesInFileOrder = true;
  ordered = true;
  private lastMs = -1n;
  private lastSeq = 0n;
  key(): boolean {
    this.lastMs = -1n;
    return true;
  }
  streamListpack(_bytes: number, ms: bigint, seq: bigint): void {
    if (ms < this.lastMs || (ms === this.lastMs && seq < this.lastSeq)) this.ordered = false;
    this.lastMs = ms;
    this.lastSeq = seq;
  }
  str(): void {}
  int(): void {}
  score(): void {}
  scoreText(): void {}
  value(): void {}
  streamNode(): void {}
  streamEnd(): void {}
  arrayStart(): void {}
  arrayElement(): void {}
  end(): void {}
  discard(): void {}
  func(): void {}
}

export interface PieceOutput {
  /** The printed keys; with a defect, those of the keys before it. */
  out: Buffer;
  keys: number;
  /** The first defect in the piece. */
  error: SerializedError | null;
  /** resp: the piece's first SELECT (its bytes out[start, end)), dropped when that db is selected already. */
  firstSelect: { db: number; start: number; end: number } | null;
  /** resp: the db selected at the end of the piece (-1: none). */
  lastDb: number;
}

/**
 * Validates the piece in full (all but the file's CRC, which the splitter checks) and prints its
 * keys (jsonl through KeyJsonSink, RESP through KeyRespSink), into `reuse` when it is large
 * enough (memory handed back by the writer). `shared`: new output memory is a SharedArrayBuffer
 * (and `out` starts at its byte 0). With `job.streamAt` and `chunk`, the output goes to `chunk`
 * as it is written (at element or command boundaries) and `out` holds only the rest: a big key's
 * text is never held whole. That piece is checked first without printing, so a defect still
 * stops the output exactly before its key (the piece is then printed whole, as any other).
 */
export async function dumpPiece(job: PieceJob, input: Uint8Array, s: PieceSettings, reuse?: ArrayBufferLike, shared = false, chunk?: PieceChunk): Promise<PieceOutput> {
  const check = new CheckOnly();
  const stream = job.streamAt !== undefined && chunk !== undefined && (await parse(job, input, s, check)) === null;
  // The check's duplicate-member table (tens of MB for a key of millions) goes before printing starts.
  if (stream) collectGarbage();
  const match = s.match ? Buffer.from(s.match.buffer, s.match.byteOffset, s.match.byteLength) : undefined;
  const filter = { db: s.db, type: s.type, match };
  // Room for the output of a piece that holds a big key, so it need not grow by doubling (a copy
  // with both buffers alive): RESP of small elements is up to ~3x their stored size, of stream
  // entries ~5x (XADD, key and ID each); jsonl ~2x and ~3x. Pages never written cost no memory.
  // A streamed piece needs room for one chunk and the element that crosses its end.
  const room = stream ? 2 * job.streamAt! : Math.max(1 << 22, job.length * (s.format === 'resp' ? 5 : 3));
  const out = new JsonOut(room, reuse, shared);
  const sink = s.format === 'resp' ? new KeyRespSink(filter, out) : new KeyJsonSink(s.encoding, filter, out);
  sink.nodesInFileOrder = stream && check.ordered;
  let streamed = false;
  if (stream) {
    out.flushAt = job.streamAt!;
    out.drain = (b) => {
      chunk!(b, streamed ? null : (sink instanceof KeyRespSink ? sink.firstSelect : null));
      streamed = true;
    };
  }
  // Checked already: the print pass builds no duplicate-member table (a second one of tens of MB).
  const error = await parse(job, input, s, sink, stream);
  // And the printing's (member arrays of a set or zset sorted for jsonl) before the next big key.
  if (stream) collectGarbage();
  const resp = sink instanceof KeyRespSink ? { firstSelect: streamed ? null : sink.firstSelect, lastDb: sink.db } : { firstSelect: null, lastDb: -1 };
  return { out: sink.out.written(), keys: sink.keys, error, ...resp };
}

/** Runs the reader's validating pass over the piece into `sink`: the first defect, or null. */
async function parse(job: PieceJob, input: Uint8Array, s: PieceSettings, sink: ValueSink, checked = false): Promise<SerializedError | null> {
  const dec = new RdbDecoder(ByteSource.fromBuffer(input.subarray(0, job.length), s.name, job.base), { sink, piece: { resume: job.resume }, allowNewer: s.allowNewer, checked });
  try {
    while (await dec.nextBatch(1 << 16));
  } catch (e) {
    return serializeError(e);
  }
  return null;
}
