import { fstatSync, write } from 'node:fs';

/**
 * A writer of bulk output to stdout whose promise resolves once the chunk is written (callers
 * reuse their buffers). Redirected to a regular file, process.stdout writes synchronously on the
 * main thread: a third of rdb-dump's main thread on a 4 GB jsonl, time it could not spend reading.
 * fs.write does those writes on libuv's thread pool instead. Pipes and terminals keep
 * process.stdout (asynchronous already; main's 'error' listener handles EPIPE).
 */
export function stdoutChunks(): (chunk: Buffer) => Promise<void> {
  let file = false;
  try {
    file = fstatSync(1).isFile();
  } catch {
    // No usable stdout: process.stdout reports it on the first write.
  }
  if (!file) return (chunk) => new Promise<void>((resolve) => process.stdout.write(chunk, () => resolve()));
  return async (chunk) => {
    for (let at = 0; at < chunk.length; ) at += await writeSome(chunk, at);
  };
}

const writeSome = (b: Buffer, at: number): Promise<number> =>
  new Promise((resolve, reject) => write(1, b, at, b.length - at, null, (e, n) => (e ? reject(e) : resolve(n))));
