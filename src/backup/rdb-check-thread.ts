import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deserializeError, type SerializedError } from '../util/thread-error.js';
import { startRdbCheck, type RdbFacts } from './rdb-facts.js';

/** Messages between this thread and rdb-check-worker.ts. */
export type ToWorker = { chunk: ArrayBuffer } | { end: true };
export type FromWorker = { ack: number } | { ok: RdbFacts } | { error: SerializedError };

/** Bytes sent to the worker but not yet taken by its check: caps memory while keeping it busy. */
const IN_FLIGHT_MAX = 4 << 20;

const workerFile = fileURLToPath(new URL('./rdb-check-worker.js', import.meta.url));

/**
 * startRdbCheck in a worker thread, so that parsing the RDB (the costliest stage) runs on a
 * second core while this thread hashes, compresses, encrypts and uploads, as the shell pipeline
 * spreads gzip, gpg and sha256sum over processes. Each chunk is copied into a fresh buffer that is
 * transferred, or, with `takeChunks` (the caller is done with every chunk it writes), transferred
 * itself when it is the whole of its ArrayBuffer; at most IN_FLIGHT_MAX bytes wait in the worker.
 * Run from the TypeScript sources (tests import src/ directly) there is no compiled worker beside
 * this file, and the check runs on this thread.
 */
export function startRdbCheckInWorker(name: string, opts: { takeChunks?: boolean } = {}): { input: Writable; result: Promise<RdbFacts> } {
  if (!existsSync(workerFile)) return startRdbCheck(name);
  // A small young generation keeps the worker's share of the backup's 200 MB RSS budget small.
  const worker = new Worker(workerFile, { workerData: { name }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  let inFlight = 0;
  let waiting: (() => void) | null = null;
  let stopped = false;
  let settle!: { resolve: (f: RdbFacts) => void; reject: (e: Error) => void };
  const result = new Promise<RdbFacts>((resolve, reject) => (settle = { resolve, reject }));
  const send = (m: ToWorker, transfer?: ArrayBuffer[]): void => worker.postMessage(m, transfer);
  worker.on('message', (m: FromWorker) => {
    if ('ack' in m) {
      inFlight -= m.ack;
      if (waiting && inFlight < IN_FLIGHT_MAX) {
        const w = waiting;
        waiting = null;
        w();
      }
    } else if ('ok' in m) settle.resolve(m.ok);
    else settle.reject(deserializeError(m.error));
  });
  worker.on('error', (e) => settle.reject(e));
  worker.on('exit', () => stopped || settle.reject(new Error('the RDB check worker exited early')));
  const input = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      const whole = opts.takeChunks && chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && chunk.buffer.byteLength === chunk.length;
      const moved = whole ? (chunk.buffer as ArrayBuffer) : new Uint8Array(chunk).buffer;
      inFlight += chunk.length;
      send({ chunk: moved }, [moved]);
      if (inFlight < IN_FLIGHT_MAX) cb();
      else waiting = () => cb();
    },
    final(cb) {
      send({ end: true });
      result.then(() => cb(), cb);
    },
    // Torn down by the pipeline (a failed store, say): stop the worker, as the in-thread check stops.
    destroy(err, cb) {
      stopped = true;
      void worker.terminate();
      cb(err);
    },
  });
  // The failure reaches the caller through `result`; the destroyed input must not throw it again.
  input.on('error', () => {});
  result.then(
    () => void worker.terminate(),
    (e: unknown) => {
      input.destroy(e as Error);
      // A writer blocked on backpressure must wake up to see the failure.
      waiting?.();
      void worker.terminate();
    },
  );
  return { input, result };
}
