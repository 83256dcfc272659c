import { parentPort, workerData } from 'node:worker_threads';
import { dumpPiece, type PieceJob, type PieceSettings } from './rdb-dump-piece.js';

/** Messages to a piece worker: a piece to print, or an output buffer it may write into again. */
export type ToPieceWorker = { job: PieceJob } | { recycle: ArrayBuffer };

/** Worker entry of the piece pool: prints the pieces it is sent, in the order they arrive. */
const port = parentPort!;
const settings = workerData as PieceSettings;
const free: ArrayBuffer[] = [];
let queue = Promise.resolve();
port.on('message', (m: ToPieceWorker) => {
  if ('recycle' in m) {
    free.push(m.recycle);
    return;
  }
  queue = queue.then(async () => {
    const r = await dumpPiece(m.job, settings, free.pop());
    port.postMessage(r, [r.out, r.bytes]);
  });
});
