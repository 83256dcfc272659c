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

/**
 * A chunk of a streamed piece's output: `length` bytes of `output` from byte 0. The worker waits
 * (Atomics.wait on `control[0]`, set to 0 before the message) until the writer is done with them
 * and stores 1 there.
 */
export interface PieceChunkMessage {
  chunk: true;
  seq: number;
  length: number;
  output: SharedArrayBuffer;
  firstSelect: PieceOutput['firstSelect'];
}

/** What a worker is started with. */
export interface PieceWorkerData {
  settings: PieceSettings;
  control: SharedArrayBuffer;
}

/** The printed piece: the slot's output holds `length` bytes of output from byte 0 (`output` when it had to grow). */
export interface FromPieceWorker {
  chunk?: undefined;
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
const { settings, control: controlMemory } = workerData as PieceWorkerData;
const control = new Int32Array(controlMemory);
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
    // A streamed piece's chunks are written in file order: this worker waits for the writer.
    const chunk = (b: Buffer, firstSelect: PieceOutput['firstSelect']): void => {
      Atomics.store(control, 0, 0);
      const c: PieceChunkMessage = { chunk: true, seq: m.job.seq, length: b.length, output: b.buffer as SharedArrayBuffer, firstSelect };
      port.postMessage(c);
      Atomics.wait(control, 0, 0);
    };
    const r = await dumpPiece(m.job, slot.input, settings, slot.output, true, chunk);
    const memory = r.out.buffer as SharedArrayBuffer;
    const grown = memory !== slot.output;
    slot.output = memory;
    const reply: FromPieceWorker = { seq: m.job.seq, length: r.out.length, keys: r.keys, error: r.error, firstSelect: r.firstSelect, lastDb: r.lastDb, output: grown ? memory : undefined };
    port.postMessage(reply);
  });
});
