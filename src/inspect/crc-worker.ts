import { parentPort, workerData } from 'node:worker_threads';
import { Crc64 } from '../codec/rdb/crc64.js';
import type { FromCrcWorker, ToCrcWorker } from './crc-thread.js';

/** Worker entry of crcAccumulator: adds the bytes it is sent, in order, handing each buffer back. */
const port = parentPort!;
const crc = new Crc64();
const inFlight = workerData as Int32Array;
const reply = (m: FromCrcWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
port.on('message', (m: ToCrcWorker) => {
  if ('done' in m) reply({ value: crc.value() });
  else {
    crc.update(new Uint8Array(m.bytes, 0, m.length));
    Atomics.sub(inFlight, 0, 1);
    Atomics.notify(inFlight, 0);
    reply({ free: m.bytes }, [m.bytes]);
  }
});
