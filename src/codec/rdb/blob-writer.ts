/** A growable byte buffer for the blob builders (listpack, ziplist): header space, entries, count. */
export abstract class BlobBuilder {
  protected buf = Buffer.allocUnsafe(256);
  protected n = 0;

  constructor(protected pos: number) {}

  /** Size of the finished blob so far (header + entries + terminator). */
  get bytes(): number {
    return this.pos + 1;
  }

  /** Elements appended so far. */
  get count(): number {
    return this.n;
  }

  /** Makes room for `extra` more bytes. */
  protected reserve(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Writes `v` as tag + little-endian int16/int24/int32/int64, the narrowest that holds it; `tags`
   * are the format's tag bytes for those four widths (listpack F1-F4, ziplist C0/F0/D0/E0).
   */
  protected putWideInt(v: number | bigint, tags: readonly [number, number, number, number]): void {
    const b = this.buf;
    if (typeof v === 'number' && v >= -32768 && v <= 32767) {
      b[this.pos++] = tags[0];
      b.writeInt16LE(v, this.pos);
      this.pos += 2;
    } else if (typeof v === 'number' && v >= -8388608 && v <= 8388607) {
      b[this.pos++] = tags[1];
      b.writeIntLE(v, this.pos, 3);
      this.pos += 3;
    } else if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) {
      b[this.pos++] = tags[2];
      b.writeInt32LE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = tags[3];
      b.writeBigInt64LE(BigInt(v), this.pos);
      this.pos += 8;
    }
  }
}
