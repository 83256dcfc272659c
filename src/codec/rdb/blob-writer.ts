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
}
