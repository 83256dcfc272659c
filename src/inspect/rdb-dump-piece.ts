import type { RedisType } from '../codec/rdb/model.js';
import { RdbDecoder, type PieceState } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { serializeError, type SerializedError } from '../util/thread-error.js';
import { KeyJsonSink } from './key-json-sink.js';
import type { ByteEncoding } from './key-json.js';

/** One record-aligned piece of an RDB for rdb-dump's jsonl, and what it printed. */

export interface PieceSettings {
  name: string;
  encoding: ByteEncoding;
  db?: number;
  type?: RedisType;
  match?: Uint8Array;
}

export interface PieceJob {
  seq: number;
  /** The piece is bytes[0, length). */
  bytes: ArrayBuffer;
  length: number;
  /** File offset of the piece's first byte. */
  base: number;
  /** null for the piece that starts with the header. */
  resume: PieceState | null;
}

export interface PieceResult {
  seq: number;
  /** The job's input buffer, handed back for the next piece. */
  bytes: ArrayBuffer;
  /** The jsonl lines, out[offset, offset + length) (transferred back from a worker). */
  out: ArrayBuffer;
  offset: number;
  length: number;
  keys: number;
  /** The first defect in the piece; `out` holds the lines of the keys before it. */
  error: SerializedError | null;
}

/**
 * Validates the piece in full (all but the file's CRC, which the splitter checks) and prints its
 * keys, into `reuse` when given (an output buffer handed back by the writer).
 */
export async function dumpPiece(job: PieceJob, s: PieceSettings, reuse?: ArrayBuffer): Promise<PieceResult> {
  const match = s.match ? Buffer.from(s.match.buffer, s.match.byteOffset, s.match.byteLength) : undefined;
  const sink = new KeyJsonSink(s.encoding, { db: s.db, type: s.type, match }, reuse);
  const dec = new RdbDecoder(ByteSource.fromBuffer(new Uint8Array(job.bytes, 0, job.length), s.name, job.base), { sink, piece: { resume: job.resume } });
  let error: SerializedError | null = null;
  try {
    while (await dec.nextBatch(1 << 16));
  } catch (e) {
    error = serializeError(e);
  }
  const out = sink.out.buf;
  return { seq: job.seq, bytes: job.bytes, out: out.buffer as ArrayBuffer, offset: out.byteOffset, length: sink.out.pos, keys: sink.keys, error };
}
