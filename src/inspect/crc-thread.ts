import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Crc64 } from '../codec/rdb/crc64.js';
import type { CrcAccumulator } from '../codec/rdb/reader.js';

/** What crc-worker.ts is given, told (a batch of slots[i]: `length` bytes; or "done") and answers. */
export interface CrcWorkerData {
  /** [0]: batches sent and not yet added, shared so that this thread can block on it. */
  inFlight: Int32Array;
  slots: SharedArrayBuffer[];
}
export type ToCrcWorker = { slot: number; length: number } | { done: true };
export type FromCrcWorker = { value: bigint };

const workerFile = fileURLToPath(new URL('./crc-worker.js', import.meta.url));
const BATCH = 1 << 20;
/** Batches that may wait in the worker; beyond it this thread blocks until one is added (memory cap). */
const IN_FLIGHT_MAX = 4;

/**
 * The RDB's CRC-64 on another thread: in JavaScript it is a sixth of rdb-check's time on this
 * thread, and the parse does not need it before the EOF record. Bytes are copied (the reader's
 * windows are views it still uses) into a ring of 1 MiB shared buffers that both threads keep:
 * a buffer passed by message counts as new external memory, which makes V8 collect garbage.
 * Batches go round the ring in order, so the next slot is free once fewer than IN_FLIGHT_MAX + 1
 * wait. Run from the TypeScript sources (no compiled worker beside this file) it is computed on
 * this thread.
 */
export function crcAccumulator(): CrcAccumulator {
  if (!existsSync(workerFile)) return new Crc64();
  const data: CrcWorkerData = {
    inFlight: new Int32Array(new SharedArrayBuffer(4)),
    slots: Array.from({ length: IN_FLIGHT_MAX + 1 }, () => new SharedArrayBuffer(BATCH)),
  };
  const inFlight = data.inFlight;
  const worker = new Worker(workerFile, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  let result: { resolve: (v: bigint) => void; reject: (e: Error) => void } | null = null;
  worker.on('message', (m: FromCrcWorker) => {
    result?.resolve(m.value);
    void worker.terminate();
  });
  worker.on('error', (e) => result?.reject(e));
  // A failed check ends the process without waiting for this thread (after the listeners: adding
  // a 'message' listener refs the worker again).
  worker.unref();
  let slot = 0;
  let buf = new Uint8Array(data.slots[0]!);
  let len = 0;
  const send = (): void => {
    if (len === 0) return;
    Atomics.add(inFlight, 0, 1);
    const m: ToCrcWorker = { slot, length: len };
    worker.postMessage(m);
    slot = (slot + 1) % data.slots.length;
    buf = new Uint8Array(data.slots[slot]!);
    len = 0;
    // The slot about to be filled was sent IN_FLIGHT_MAX + 1 batches ago: wait until it was added.
    for (let n = Atomics.load(inFlight, 0); n > IN_FLIGHT_MAX; n = Atomics.load(inFlight, 0)) Atomics.wait(inFlight, 0, n, 1000);
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
