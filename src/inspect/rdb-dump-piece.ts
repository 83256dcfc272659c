import type { RedisType } from '../codec/rdb/model.js';
import { RdbDecoder, type PieceState } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { serializeError, type SerializedError } from '../util/thread-error.js';
import { JsonOut } from './json-out.js';
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
  /** The piece is the first `length` bytes of its input. */
  length: number;
  /** File offset of the piece's first byte. */
  base: number;
  /** null for the piece that starts with the header. */
  resume: PieceState | null;
}

export interface PieceOutput {
  /** The jsonl lines; with a defect, those of the keys before it. */
  out: Buffer;
  keys: number;
  /** The first defect in the piece. */
  error: SerializedError | null;
}

/**
 * Validates the piece in full (all but the file's CRC, which the splitter checks) and prints its
 * keys, into `reuse` when it is large enough (memory handed back by the writer). `shared`: new
 * output memory is a SharedArrayBuffer (and `out` starts at its byte 0).
 */
export async function dumpPiece(job: PieceJob, input: Uint8Array, s: PieceSettings, reuse?: ArrayBufferLike, shared = false): Promise<PieceOutput> {
  const match = s.match ? Buffer.from(s.match.buffer, s.match.byteOffset, s.match.byteLength) : undefined;
  const sink = new KeyJsonSink(s.encoding, { db: s.db, type: s.type, match }, new JsonOut(1 << 22, reuse, shared));
  const dec = new RdbDecoder(ByteSource.fromBuffer(input.subarray(0, job.length), s.name, job.base), { sink, piece: { resume: job.resume } });
  let error: SerializedError | null = null;
  try {
    while (await dec.nextBatch(1 << 16));
  } catch (e) {
    error = serializeError(e);
  }
  return { out: sink.out.written(), keys: sink.keys, error };
}
