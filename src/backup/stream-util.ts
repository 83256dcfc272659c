import { createHash, type Hash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';

/** Resolves once `w` can take more (at once unless it asked for a drain); a torn-down stream counts as drained. */
export function drained(w: Writable): Promise<void> {
  if (w.destroyed || w.writableEnded || !w.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.once('drain', done);
    w.once('close', done);
  });
}

/** Writes with backpressure; resolves at once for a branch that was already torn down. */
export function writeTo(w: Writable, chunk: Buffer): Promise<void> {
  if (w.destroyed || w.writableEnded) return Promise.resolve();
  if (w.write(chunk)) return Promise.resolve();
  return drained(w);
}

/** A pass-through that hashes and counts what flows by. */
export class HashTap extends Transform {
  private readonly hashes: Hash[];
  bytes = 0;

  constructor(
    readonly algorithms: string[],
    private readonly onChunk?: (chunk: Buffer) => Promise<void> | void,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.hashes = algorithms.map((a) => createHash(a));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    for (const h of this.hashes) h.update(chunk);
    this.bytes += chunk.length;
    const r = this.onChunk?.(chunk);
    if (r) r.then(() => cb(null, chunk), cb);
    else cb(null, chunk);
  }

  /** Hex digests, in the order of `algorithms` (call once, after the stream ended). */
  digests(): string[] {
    return this.hashes.map((h) => h.digest('hex'));
  }
}
