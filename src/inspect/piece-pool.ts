import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { dumpPiece, type PieceJob, type PieceResult, type PieceSettings } from './rdb-dump-piece.js';
import type { ToPieceWorker } from './rdb-dump-worker.js';

const workerFile = fileURLToPath(new URL('./rdb-dump-worker.js', import.meta.url));

/**
 * Worker threads that print RDB pieces (one per core, at most 4), each job going to the least
 * busy one. Buffers travel both ways (transferred, never copied) and are reused: fresh memory
 * costs a page fault per 4 KiB, which was a third of the CPU time with a new buffer per piece.
 * Run from the TypeScript sources (tests import src/ directly) there is no compiled worker
 * beside this file, and the pieces are printed on this thread, one after the other.
 */
export class PiecePool {
  private readonly workers: Array<{ w: Worker; busy: number }> = [];
  private readonly waiting = new Map<number, { resolve: (r: PieceResult) => void; reject: (e: Error) => void }>();
  /** The worker each piece went to (its output buffer goes back there). */
  private readonly owner = new Map<number, Worker>();
  /** Input buffers handed back by the workers. */
  private readonly inputs: ArrayBuffer[] = [];

  constructor(
    private readonly settings: PieceSettings,
    private readonly pieceBytes: number,
  ) {
    if (!existsSync(workerFile)) return;
    const n = Math.max(1, Math.min(availableParallelism(), 4));
    for (let i = 0; i < n; i++) {
      const slot = { w: new Worker(workerFile, { workerData: settings, resourceLimits: { maxYoungGenerationSizeMb: 8 } }), busy: 0 };
      slot.w.on('message', (r: PieceResult) => {
        slot.busy--;
        const p = this.waiting.get(r.seq);
        this.waiting.delete(r.seq);
        this.inputs.push(r.bytes);
        p?.resolve(r);
      });
      // A worker that dies fails every piece still waiting: the dump cannot go on without them.
      const fail = (e: Error): void => {
        for (const p of this.waiting.values()) p.reject(e);
        this.waiting.clear();
      };
      slot.w.on('error', fail);
      slot.w.on('exit', (code) => code !== 0 && fail(new Error(`an rdb-dump worker exited with code ${code}`)));
      this.workers.push(slot);
    }
  }

  /** How many pieces may usefully wait at once. */
  get capacity(): number {
    return this.workers.length + 1;
  }

  run(job: PieceJob): Promise<PieceResult> {
    if (this.workers.length === 0) return dumpPiece(job, this.settings);
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    const result = new Promise<PieceResult>((resolve, reject) => this.waiting.set(job.seq, { resolve, reject }));
    this.owner.set(job.seq, slot.w);
    const m: ToPieceWorker = { job };
    slot.w.postMessage(m, [job.bytes]);
    return result;
  }

  /** A buffer of at least `n` bytes for a piece's input: one handed back, or a new one. */
  inputBuffer(n: number): ArrayBuffer {
    const i = this.inputs.findIndex((b) => b.byteLength >= n);
    if (i >= 0) return this.inputs.splice(i, 1)[0]!;
    // Some room above the piece size: a piece ends at the first key boundary past it.
    return new ArrayBuffer(Math.max(n, this.pieceBytes + (this.pieceBytes >>> 1)));
  }

  /** The writer is done with a result's output: its worker may write into that buffer again. */
  recycle(r: PieceResult): void {
    const w = this.owner.get(r.seq);
    this.owner.delete(r.seq);
    if (!w) return;
    const m: ToPieceWorker = { recycle: r.out };
    w.postMessage(m, [r.out]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }
}
