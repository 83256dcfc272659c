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
  /**
   * The allocation `buf` was copied into when a window had to join pieces, or null. `buf` ends at
   * `room`'s index `roomEnd`; bytes after it were never part of a window, so new chunks are
   * appended there in place (earlier views of the window see no change) and a window grown chunk
   * by chunk costs one copy per byte, not one per chunk.
   */
  private room: Buffer | null = null;
  private roomEnd = 0;
  private pos = 0;
  private base = 0;
  private ended = false;
  /** A chunk request `fill` started but did not wait for; the next read consumes it first. */
  private pendingChunk: Promise<IteratorResult<Uint8Array>> | null = null;

  constructor(
    private readonly chunks: AsyncIterator<Uint8Array>,
    /** Name used in error messages (a file path, or "master 10.0.0.1:6379"). */
    readonly name: string,
    /**
     * The stream ends by itself once its bytes are out (a file, a payload of known extent), so
     * `fill` may wait for all it is asked for. False for a live peer that may go quiet after a
     * frame and wait for us (a socket): `fill` then takes only what has arrived.
     */
    readonly bounded = false,
  ) {}

  static fromFile(path: string, start = 0): ByteSource {
    const stream = createReadStream(path, { start, highWaterMark: 1 << 20 });
    const src = ByteSource.fromStream(stream, path, true);
    src.base = start;
    return src;
  }

  static fromStream(stream: Readable | AsyncIterable<Uint8Array>, name: string, bounded = false): ByteSource {
    return new ByteSource((stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator](), name, bounded);
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
    const parts: Buffer[] = [];
    let have = this.available;
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

  /** Makes the unread tail followed by the new chunks `parts` (`have` bytes in all) the window. */
  private adopt(parts: Buffer[], have: number): void {
    if (parts.length === 0) return;
    const tail = this.buf.length - this.pos;
    this.base += this.pos;
    if (tail === 0 && parts.length === 1) {
      // The common case: the window is the chunk itself, no copy.
      this.buf = parts[0]!;
      this.pos = 0;
      this.room = null;
      return;
    }
    let room = this.room;
    let at = this.roomEnd;
    const start = at - tail;
    if (room === null || this.buf.buffer !== room.buffer || at + (have - tail) > room.length) {
      // A new allocation with spare room: a window that keeps growing is copied O(log n) times.
      room = Buffer.allocUnsafe(have + Math.max(have >> 1, 1 << 16));
      at = this.buf.copy(room, 0, this.pos);
      this.room = room;
      for (const part of parts) at += part.copy(room, at);
      this.buf = room.subarray(0, at);
    } else {
      for (const part of parts) at += part.copy(room, at);
      this.buf = room.subarray(start, at);
    }
    this.roomEnd = at;
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
   * bytes a live peer has not sent (a replication stream pauses right after the RDB). A bounded
   * source waits for `max` (or its end): the growth is then geometric however the chunks arrive.
   */
  async fill(min: number, max: number): Promise<boolean> {
    if (this.bounded) {
      await this.ensure(max);
      return this.available >= min;
    }
    if (!(await this.ensure(min))) return false;
    const parts: Buffer[] = [];
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
    this.adopt(parts, have);
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
