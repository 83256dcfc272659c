import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Crc64 } from '../codec/rdb/crc64.js';
import type { CrcAccumulator } from '../codec/rdb/reader.js';

/** Messages to crc-worker.ts (bytes to add, or a request for the value) and back. */
export type ToCrcWorker = { bytes: ArrayBuffer; length: number } | { done: true };
export type FromCrcWorker = { free: ArrayBuffer } | { value: bigint };

const workerFile = fileURLToPath(new URL('./crc-worker.js', import.meta.url));
const BATCH = 1 << 20;
/** Batches that may wait in the worker; beyond it this thread blocks until one is taken (memory cap). */
const IN_FLIGHT_MAX = 4;

/**
 * The RDB's CRC-64 on another thread: in JavaScript it is a sixth of rdb-check's time on this
 * thread, and the parse does not need it before the EOF record. Bytes are copied into 1 MiB
 * buffers that are transferred there and back for reuse, at most IN_FLIGHT_MAX at a time (the reader's windows are views it still
 * uses). Run from the TypeScript sources (no compiled worker beside this file) it is computed on
 * this thread.
 */
export function crcAccumulator(): CrcAccumulator {
  if (!existsSync(workerFile)) return new Crc64();
  // in[0]: batches sent and not yet added, shared so that this thread can block on it.
  const inFlight = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(workerFile, { workerData: inFlight, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const free: ArrayBuffer[] = [];
  let result: { resolve: (v: bigint) => void; reject: (e: Error) => void } | null = null;
  worker.on('message', (m: FromCrcWorker) => {
    if ('free' in m) free.push(m.free);
    else {
      result?.resolve(m.value);
      void worker.terminate();
    }
  });
  worker.on('error', (e) => result?.reject(e));
  // A failed check ends the process without waiting for this thread (after the listeners: adding
  // a 'message' listener refs the worker again).
  worker.unref();
  let buf = new Uint8Array(BATCH);
  let len = 0;
  const send = (): void => {
    if (len === 0) return;
    for (let n = Atomics.load(inFlight, 0); n >= IN_FLIGHT_MAX; n = Atomics.load(inFlight, 0)) Atomics.wait(inFlight, 0, n, 1000);
    Atomics.add(inFlight, 0, 1);
    const m: ToCrcWorker = { bytes: buf.buffer as ArrayBuffer, length: len };
    worker.postMessage(m, [buf.buffer]);
    const next = free.pop();
    buf = next ? new Uint8Array(next) : new Uint8Array(BATCH);
    len = 0;
  };
  return {
    update(b, from, to) {
      while (from < to) {
        const n = Math.min(to - from, BATCH - len);
        buf.set(b.subarray(from, from + n), len);
        len += n;
        from += n;
        if (len === BATCH) send();
      }
    },
    value() {
      send();
      // The answer is awaited now: keep the process alive for it.
      worker.ref();
      const m: ToCrcWorker = { done: true };
      worker.postMessage(m);
      return new Promise<bigint>((resolve, reject) => (result = { resolve, reject }));
    },
  };
}
