import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * A pull reader over any byte stream (file, socket, stdin, decryption stream) that keeps an
 * absolute byte offset. Parsers work synchronously on `window()` and ask for more with
 * `ensure(n)`; slices they take stay valid because the window is replaced, never mutated.
 * Hand-written because every codec needs exact offsets and zero-copy slices of large values.
 */
export class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private base = 0;
  private ended = false;
  /** A chunk request `fill` started but did not wait for; the next read consumes it first. */
  private pendingChunk: Promise<IteratorResult<Uint8Array>> | null = null;

  constructor(
    private readonly chunks: AsyncIterator<Uint8Array>,
    /** Name used in error messages (a file path, or "master 10.0.0.1:6379"). */
    readonly name: string,
  ) {}

  static fromFile(path: string, start = 0): ByteSource {
    const stream = createReadStream(path, { start, highWaterMark: 1 << 20 });
    const src = ByteSource.fromStream(stream, path);
    src.base = start;
    return src;
  }

  static fromStream(stream: Readable | AsyncIterable<Uint8Array>, name: string): ByteSource {
    return new ByteSource((stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator](), name);
  }

  /** `base`: the file offset of data[0] (a piece of a larger file), for offsets in messages. */
  static fromBuffer(data: Uint8Array, name: string, base = 0): ByteSource {
    const src = new ByteSource((async function* () {})(), name);
    src.base = base;
    src.buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    src.ended = true;
    return src;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.buf.length - this.pos;
  }

  /** True once the underlying stream has ended (buffered bytes may remain). */
  get exhausted(): boolean {
    return this.ended;
  }

  /** The unread bytes buffered so far (a view; do not mutate). */
  window(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** Waits until at least `n` unread bytes are buffered; false if the stream ended first. */
  async ensure(n: number): Promise<boolean> {
    if (this.buf.length - this.pos >= n) return true;
    if (this.ended) return false;
    const parts: Buffer[] = [this.buf.subarray(this.pos)];
    let have = parts[0]!.length;
    while (have < n) {
      const r = await this.nextChunk();
      if (r.done) {
        this.ended = true;
        break;
      }
      const c = r.value;
      if (c.length === 0) continue;
      parts.push(asBuffer(c));
      have += c.length;
    }
    this.adopt(parts, have);
    return have >= n;
  }

  /** Makes `parts` (the unread tail first, then new chunks) the window. */
  private adopt(parts: Buffer[], have: number): void {
    this.base += this.pos;
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    this.pos = 0;
  }

  private nextChunk(): Promise<IteratorResult<Uint8Array>> {
    const p = this.pendingChunk ?? this.chunks.next();
    this.pendingChunk = null;
    return p;
  }

  /**
   * Waits until at least `min` unread bytes are buffered (false if the stream ends first), then
   * also takes chunks that are already available, up to `max`, without waiting for more. Parsers
   * that restart a record use it to grow their window geometrically without ever blocking on
   * bytes a live peer has not sent (a replication stream pauses right after the RDB).
   */
  async fill(min: number, max: number): Promise<boolean> {
    if (!(await this.ensure(min))) return false;
    const parts: Buffer[] = [this.buf.subarray(this.pos)];
    let have = this.available;
    // A chunk that is not there within ~1 ms is not waited for (a file's read-ahead is).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), 1)));
    while (have < max && !this.ended) {
      this.pendingChunk ??= this.chunks.next();
      const ready = await Promise.race([this.pendingChunk, late]);
      if (ready === null) break;
      this.pendingChunk = null;
      if (ready.done) {
        this.ended = true;
        break;
      }
      const c = ready.value;
      if (c.length === 0) continue;
      parts.push(asBuffer(c));
      have += c.length;
    }
    clearTimeout(timer);
    if (parts.length > 1) this.adopt(parts, have);
    return true;
  }

  /** Buffers at least one more byte than now; false at end of stream. */
  async more(): Promise<boolean> {
    return this.ensure(this.available + 1);
  }

  /** Marks `n` buffered bytes consumed. */
  advance(n: number): void {
    if (n > this.buf.length - this.pos) throw new RangeError('advance past buffered data');
    this.pos += n;
  }

  /** Reads exactly `n` bytes, or returns what is left (shorter) at end of stream. */
  async read(n: number): Promise<Buffer> {
    await this.ensure(n);
    const take = Math.min(n, this.available);
    const out = this.buf.subarray(this.pos, this.pos + take);
    this.pos += take;
    return out;
  }

  /**
   * Returns the next piece of at most `max` bytes without growing the buffer, for passing large
   * payloads through (e.g. a replication bulk transfer); null at end of stream.
   */
  async readSome(max: number): Promise<Buffer | null> {
    if (this.available === 0 && !(await this.more())) return null;
    const take = Math.min(max, this.available);
    const out = this.buf.subarray(this.pos, this.pos + take);
    this.pos += take;
    return out;
  }

  /** Stops reading the underlying stream (closes a file, lets a socket be reused elsewhere). */
  async close(): Promise<void> {
    this.ended = true;
    await this.chunks.return?.();
  }
}

function asBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}
