import { parentPort, workerData } from 'node:worker_threads';
import { Crc64 } from '../codec/rdb/crc64.js';
import type { CrcWorkerData, FromCrcWorker, ToCrcWorker } from './crc-thread.js';

/** Worker entry of crcAccumulator: adds the batches it is told about, in order. */
const port = parentPort!;
const crc = new Crc64();
const { inFlight, slots } = workerData as CrcWorkerData;
const views = slots.map((s) => new Uint8Array(s));
port.on('message', (m: ToCrcWorker) => {
  if ('done' in m) {
    const reply: FromCrcWorker = { value: crc.value() };
    port.postMessage(reply);
    return;
  }
  crc.update(views[m.slot]!, 0, m.length);
  Atomics.sub(inFlight, 0, 1);
  Atomics.notify(inFlight, 0);
});
