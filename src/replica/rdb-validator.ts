import { readRdb } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';

/** What the validator learned from a complete, checksum-verified RDB. */
export interface RdbSummary {
  version: number;
  keys: number;
  /** AUX fields as text (repl-id, repl-offset, repl-stream-db, redis-ver...). */
  aux: Record<string, string>;
  bytes: number;
}

const HIGH_WATER = 8 << 20;

/**
 * Validates an RDB while it streams past: chunks pushed here are fed through the RDB reader
 * (validate-only mode: every check rdb-check makes and the CRC, no value decoded, big values
 * checked element by element as their bytes arrive) concurrently with writing them to disk, so a
 * transfer is checked in the same pass that stores it. `push` applies backpressure when the reader
 * falls behind, so memory stays bounded whatever the dataset or key size.
 */
export class RdbValidator {
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private wake: (() => void) | null = null;
  private drained: (() => void) | null = null;
  private failure: unknown = null;
  private readonly done: Promise<RdbSummary>;

  constructor(readonly name: string) {
    const self = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const c = self.queue.shift();
        if (c) {
          self.queued -= c.length;
          if (self.queued < HIGH_WATER / 2) self.release();
          yield c;
          continue;
        }
        if (self.ended) return;
        await new Promise<void>((r) => (self.wake = r));
      }
    }
    // Bounded: the payload ends at finish(), so the reader may wait for all the bytes it wants.
    this.done = this.run(ByteSource.fromStream(chunks(), name, true));
    this.done.catch((e: unknown) => {
      this.failure = e;
      this.release();
    });
  }

  private release(): void {
    const d = this.drained;
    this.drained = null;
    d?.();
  }

  private async run(src: ByteSource): Promise<RdbSummary> {
    const summary: RdbSummary = { version: 0, keys: 0, aux: {}, bytes: 0 };
    let sawEof = false;
    for await (const rec of readRdb(src, { validateOnly: true, verifyChecksum: true })) {
      if (rec.kind === 'key') summary.keys++;
      else if (rec.kind === 'aux') summary.aux[rec.key.toString('latin1')] = rec.value.toString('latin1');
      else if (rec.kind === 'header') summary.version = rec.version;
      else if (rec.kind === 'eof') sawEof = true; // the reader has verified the CRC-64 by now
    }
    if (!sawEof) throw new FormatError(this.name, src.offset, 'the RDB EOF opcode');
    if (src.available > 0 || (await src.more())) throw new FormatError(this.name, src.offset, `end of the RDB payload after its checksum`);
    summary.bytes = src.offset;
    return summary;
  }

  /** Feeds a chunk (the validator keeps a reference; do not reuse the buffer). */
  async push(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.queue.push(chunk);
    this.queued += chunk.length;
    const w = this.wake;
    this.wake = null;
    w?.();
    if (this.queued > HIGH_WATER) {
      await new Promise<void>((r) => (this.drained = r));
      if (this.failure) throw this.failure;
    }
  }

  /** Marks the end of the payload and waits for the verdict (throws FormatError if invalid). */
  async finish(): Promise<RdbSummary> {
    this.ended = true;
    const w = this.wake;
    this.wake = null;
    w?.();
    return this.done;
  }

  /** Abandons validation (the transfer failed); never throws. */
  abort(): void {
    this.ended = true;
    this.queue = [];
    const w = this.wake;
    this.wake = null;
    w?.();
    this.done.catch(() => {});
  }
}
