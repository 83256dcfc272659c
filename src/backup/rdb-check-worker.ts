import { parentPort, workerData } from 'node:worker_threads';
import { gcEvery } from './memory.js';
import { serializeError } from '../util/thread-error.js';
import type { FromWorker, ToWorker } from './rdb-check-thread.js';
import { startRdbCheck } from './rdb-facts.js';
import { writeTo } from './stream-util.js';

/** Worker entry of startRdbCheckInWorker: checks the chunks it is sent, acks each once taken. */
const port = parentPort!;
const check = startRdbCheck((workerData as { name: string }).name);
// Chunks arrive as fresh off-heap buffers here too: collect them as the main thread does.
const collectGarbage = gcEvery();
const reply = (m: FromWorker): void => port.postMessage(m);
check.result.then(
  (ok) => reply({ ok }),
  (e: unknown) => reply({ error: serializeError(e) }),
);
// Chunks are taken one at a time, in order: the next waits until the check accepted the previous.
let queue = Promise.resolve();
port.on('message', (m: ToWorker) => {
  queue = queue.then(async () => {
    if ('end' in m) {
      check.input.end();
      return;
    }
    const chunk = Buffer.from(m.chunk);
    collectGarbage(chunk.length);
    await writeTo(check.input, chunk);
    reply({ ack: chunk.length });
  });
});
