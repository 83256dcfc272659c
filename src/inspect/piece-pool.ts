import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { dumpPiece, type PieceJob, type PieceOutput, type PieceSettings } from './rdb-dump-piece.js';
import type { FromPieceWorker, PieceChunkMessage, PieceMessage, PieceWorkerData, ToPieceWorker } from './rdb-dump-worker.js';

const workerFile = fileURLToPath(new URL('./rdb-dump-worker.js', import.meta.url));

/** The memory of one piece in flight: its bytes, and its output once printed (reused for later pieces). */
export interface Slot {
  readonly id: number;
  input: Buffer;
  output: ArrayBufferLike | null;
  /** The input grows in place (a big key's slot, see PiecePool.hold). */
  growable?: boolean;
}

/**
 * A big key's input memory is reserved at this size and committed as it grows: the splitter
 * copies the record in as it reads it, once (a second copy held until the record's end, then a
 * grown copy, cost two or three times its size), and the worker's view of it follows.
 */
const GROWABLE_MAX = 2 ** 32;

/** What a piece printed, and the slot to release once its output is written. */
export interface PieceResult extends PieceOutput {
  slot: Slot;
}

/** A chunk of a streamed piece's output; `done()` once it is written (the printer waits for that). */
export interface OutChunk {
  out: Buffer;
  firstSelect: PieceOutput['firstSelect'];
  done: () => void;
}

/** A streamed piece's chunks in order, as they arrive; null after the last (the piece's result then holds the rest). */
export class ChunkQueue {
  private readonly items: OutChunk[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  push(c: OutChunk): void {
    this.items.push(c);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async next(): Promise<OutChunk | null> {
    while (this.items.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return this.items.shift() ?? null;
  }
}

/** A piece on its way: its chunks (streamed pieces) and its result. */
export interface PieceRun {
  chunks: ChunkQueue | null;
  result: Promise<PieceResult>;
}

/** A worker thread, its pieces in progress, and the slot memory it has been sent (by slot id). */
interface PieceWorker {
  w: Worker;
  /** Where the writer tells the worker that a chunk is written (see PieceChunkMessage). */
  control: Int32Array;
  busy: number;
  known: Map<number, { input: ArrayBufferLike; output: ArrayBufferLike | null }>;
}

/**
 * Worker threads that print RDB pieces (one per core, at most 4), each piece going to the least
 * busy one; a worker is started only when every one started is busy (a file of big keys, printed
 * one at a time, keeps one isolate rather than one per core). Pieces live in slots of shared
 * memory that the main thread and the workers keep for the whole dump: fresh memory costs a page
 * fault per 4 KiB, and a buffer passed by message counts as new external memory (one per piece
 * kept V8 collecting garbage in every thread).
 * Without `threads` (a file of one piece), or run from the TypeScript sources (tests import src/
 * directly, there is no compiled worker beside this file), the pieces are printed on this thread.
 */
export class PiecePool {
  private readonly workers: PieceWorker[] = [];
  private readonly waiting = new Map<number, { slot: Slot; chunks: ChunkQueue | null; resolve: (r: PieceResult) => void; reject: (e: Error) => void }>();
  private readonly free: Slot[] = [];
  private big: Slot | null = null;
  private slots = 0;
  /** Workers that may be started (0: pieces are printed on this thread). */
  private readonly maxWorkers: number;

  constructor(
    private readonly settings: PieceSettings,
    private readonly pieceBytes: number,
    threads: boolean,
  ) {
    this.maxWorkers = threads && existsSync(workerFile) ? Math.max(1, Math.min(availableParallelism(), 4)) : 0;
  }

  /** The least busy worker, a new one when every one started is busy and another may start. */
  private pick(): PieceWorker {
    const idle = this.workers.reduce<PieceWorker | null>((a, b) => (a === null || b.busy < a.busy ? b : a), null);
    return idle !== null && (idle.busy === 0 || this.workers.length === this.maxWorkers) ? idle : this.spawn();
  }

  private spawn(): PieceWorker {
    const control = new SharedArrayBuffer(4);
    const workerData: PieceWorkerData = { settings: this.settings, control };
    const w = new Worker(workerFile, { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    const worker: PieceWorker = { w, control: new Int32Array(control), busy: 0, known: new Map() };
    worker.w.on('message', (r: FromPieceWorker | PieceChunkMessage) => {
      if (r.chunk) {
        const done = (): void => {
          Atomics.store(worker.control, 0, 1);
          Atomics.notify(worker.control, 0);
        };
        this.waiting.get(r.seq)?.chunks?.push({ out: Buffer.from(r.output, 0, r.length), firstSelect: r.firstSelect, done });
        return;
      }
      worker.busy--;
      const p = this.waiting.get(r.seq);
      if (!p) return;
      this.waiting.delete(r.seq);
      p.chunks?.end();
      if (r.output) {
        p.slot.output = r.output;
        worker.known.get(p.slot.id)!.output = r.output;
      }
      p.resolve({ out: Buffer.from(p.slot.output!, 0, r.length), keys: r.keys, error: r.error, firstSelect: r.firstSelect, lastDb: r.lastDb, slot: p.slot });
    });
    // A worker that dies fails every piece still waiting: the dump cannot go on without them.
    const fail = (e: Error): void => {
      for (const p of this.waiting.values()) {
        p.reject(e);
        p.chunks?.end();
      }
      this.waiting.clear();
    };
    worker.w.on('error', fail);
    worker.w.on('exit', (code) => code !== 0 && fail(new Error(`an rdb-dump worker exited with code ${code}`)));
    this.workers.push(worker);
    return worker;
  }

  /**
   * How many pieces may usefully wait at once: two per worker, so one that finishes early finds
   * the next piece queued while the writer waits for an older one (one each left the two cores
   * 15 % idle; more only costs memory).
   */
  get capacity(): number {
    return this.maxWorkers * 2 + 1;
  }

  /** A free slot whose input holds at least `n` bytes (a growable one when `n` is big). */
  acquire(n: number): Slot {
    if (n > this.pieceBytes * 4) {
      const slot = this.hold();
      this.fit(slot, n);
      return slot;
    }
    const slot = this.free.pop() ?? { id: this.slots++, input: Buffer.alloc(0), output: null };
    // Some room above the piece size: a piece ends at the first key boundary past it.
    if (slot.input.length < n) slot.input = this.memory(Math.max(n, this.pieceBytes + (this.pieceBytes >>> 1)));
    return slot;
  }

  /** A slot for a big key whose input grows (fit) as its bytes arrive: the one kept from the last big key, or a new one. */
  hold(): Slot {
    const kept = this.big;
    this.big = null;
    if (kept) return kept;
    const memory = this.maxWorkers > 0 ? new SharedArrayBuffer(0, { maxByteLength: GROWABLE_MAX }) : new ArrayBuffer(0, { maxByteLength: GROWABLE_MAX });
    return { id: this.slots++, input: Buffer.from(memory), output: null, growable: true };
  }

  /** Grows a held slot's input to at least `n` bytes (in place: a worker's view of it follows). */
  fit(slot: Slot, n: number): void {
    if (slot.input.length >= n) return;
    const memory = slot.input.buffer;
    const size = Math.min(GROWABLE_MAX, Math.max(n, 2 * memory.byteLength, 4 * this.pieceBytes));
    if (memory instanceof SharedArrayBuffer) memory.grow(size);
    else (memory as ArrayBuffer).resize(size);
    slot.input = Buffer.from(memory, 0, size);
  }

  /** The writer is done with the slot's output. */
  release(slot: Slot): void {
    if (!slot.growable) {
      this.free.push(slot);
      return;
    }
    // Big keys are printed one at a time (see rdb-dump): one slot grown for them is kept for the
    // next (fresh memory for each would wait for garbage collection in two threads); a smaller
    // one gives its memory back.
    const drop = this.big === null || this.big.input.length < slot.input.length ? this.big : slot;
    if (drop !== slot) this.big = slot;
    if (drop === null) return;
    for (const w of this.workers) {
      if (!w.known.delete(drop.id)) continue;
      const m: ToPieceWorker = { drop: drop.id };
      w.w.postMessage(m);
    }
  }

  /**
   * Prints the piece held in `slot.input` (the output is a view of the slot's memory: valid until
   * it is released). A piece with `job.streamAt` gives its output in chunks first.
   */
  run(slot: Slot, job: PieceJob): PieceRun {
    const chunks = job.streamAt !== undefined ? new ChunkQueue() : null;
    return { chunks, result: this.print(slot, job, chunks) };
  }

  private async print(slot: Slot, job: PieceJob, chunks: ChunkQueue | null): Promise<PieceResult> {
    if (this.maxWorkers === 0) {
      // On this thread the chunks are copies that wait for the writer: the same output, no memory saved.
      const chunk = (b: Buffer, firstSelect: PieceOutput['firstSelect']): void => chunks!.push({ out: Buffer.from(b), firstSelect, done: () => {} });
      const r = await dumpPiece(job, slot.input, this.settings, slot.output ?? undefined, false, chunks ? chunk : undefined);
      chunks?.end();
      slot.output = r.out.buffer;
      return { ...r, slot };
    }
    // Huge pieces all go to the first worker: a heap grown for one is reused for the next rather
    // than every worker keeping one of that size.
    const worker = job.length > 4 * this.pieceBytes ? (this.workers[0] ?? this.spawn()) : this.pick();
    worker.busy++;
    const piece: PieceMessage = { job, slot: slot.id };
    const known = worker.known.get(slot.id);
    if (known?.input !== slot.input.buffer) piece.input = slot.input.buffer as SharedArrayBuffer;
    if (slot.output && known?.output !== slot.output) piece.output = slot.output as SharedArrayBuffer;
    worker.known.set(slot.id, { input: slot.input.buffer, output: slot.output });
    const result = new Promise<PieceResult>((resolve, reject) => this.waiting.set(job.seq, { slot, chunks, resolve, reject }));
    const m: ToPieceWorker = { piece };
    worker.w.postMessage(m);
    return result;
  }

  private memory(n: number): Buffer {
    return Buffer.from(this.maxWorkers > 0 ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }
}
