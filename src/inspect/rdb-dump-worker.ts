import { parentPort, workerData } from 'node:worker_threads';
import type { SerializedError } from '../util/thread-error.js';
import { dumpPiece, type PieceJob, type PieceOutput, type PieceSettings } from './rdb-dump-piece.js';

/**
 * A piece to print in a slot's memory. The slot's input and output (SharedArrayBuffers) come
 * along only when they are new to this worker: a buffer that arrives by message counts as new
 * external memory, and receiving one per piece made V8 collect garbage for it every few pieces.
 * `drop`: forget a slot (one that grew for a huge key).
 */
export interface PieceMessage {
  job: PieceJob;
  slot: number;
  input?: SharedArrayBuffer;
  output?: SharedArrayBuffer;
}
export type ToPieceWorker = { piece: PieceMessage } | { drop: number };

/** The printed piece: the slot's output holds `length` bytes of output from byte 0 (`output` when it had to grow). */
export interface FromPieceWorker {
  seq: number;
  length: number;
  keys: number;
  error: SerializedError | null;
  firstSelect: PieceOutput['firstSelect'];
  lastDb: number;
  output?: SharedArrayBuffer;
}

/** Worker entry of the piece pool: prints the pieces it is sent, in the order they arrive. */
const port = parentPort!;
const settings = workerData as PieceSettings;
const slots = new Map<number, { input: Uint8Array; output?: SharedArrayBuffer }>();
let queue = Promise.resolve();
port.on('message', (message: ToPieceWorker) => {
  if ('drop' in message) {
    slots.delete(message.drop);
    return;
  }
  const m = message.piece;
  const slot = slots.get(m.slot) ?? { input: new Uint8Array(0) };
  if (m.input) slot.input = new Uint8Array(m.input);
  if (m.output) slot.output = m.output;
  slots.set(m.slot, slot);
  queue = queue.then(async () => {
    const r = await dumpPiece(m.job, slot.input, settings, slot.output, true);
    const memory = r.out.buffer as SharedArrayBuffer;
    const grown = memory !== slot.output;
    slot.output = memory;
    const reply: FromPieceWorker = { seq: m.job.seq, length: r.out.length, keys: r.keys, error: r.error, firstSelect: r.firstSelect, lastDb: r.lastDb, output: grown ? memory : undefined };
    port.postMessage(reply);
  });
});
