import { BlobBuilder } from './blob-writer.js';
import { canonicalInt } from './encoding.js';

/**
 * Builds a ziplist blob (formats digest §2.10.2) as Redis ≤ 6.2's ziplistPush does: strings
 * shorter than 32 bytes that canonically spell an int64 use the smallest integer encoding
 * (4-bit immediate, int8, int16, int24, int32, int64); each entry starts with the previous entry's
 * length. Used only for RDB 9 targets. Hand-written: exact layout.
 */
/** Ziplist tags of the int16, int24, int32 and int64 encodings. */
const ZL_INT_TAGS = [0xc0, 0xf0, 0xd0, 0xe0] as const;

export class ZiplistBuilder extends BlobBuilder {
  private prevLen = 0;
  private tail = 10;

  constructor() {
    super(10);
  }

  add(e: Uint8Array): this {
    const v = e.length < 32 ? canonicalInt(e) : null;
    this.reserve(e.length + 16);
    const start = this.pos;
    this.writePrevLen();
    const b = this.buf;
    if (typeof v === 'number' && v >= 0 && v <= 12) b[this.pos++] = 0xf1 + v;
    else if (typeof v === 'number' && v >= -128 && v <= 127) {
      b[this.pos++] = 0xfe;
      b.writeInt8(v, this.pos++);
    } else if (v !== null) {
      this.putWideInt(v, ZL_INT_TAGS);
    } else {
      const len = e.length;
      if (len <= 63) b[this.pos++] = len;
      else if (len <= 16383) {
        b[this.pos++] = 0x40 | (len >>> 8);
        b[this.pos++] = len & 0xff;
      } else {
        b[this.pos++] = 0x80;
        b.writeUInt32BE(len, this.pos);
        this.pos += 4;
      }
      b.set(e, this.pos);
      this.pos += len;
    }
    this.tail = start;
    this.prevLen = this.pos - start;
    this.n++;
    return this;
  }

  finish(): Buffer {
    this.reserve(1);
    this.buf[this.pos++] = 0xff;
    this.buf.writeUInt32LE(this.pos, 0);
    this.buf.writeUInt32LE(this.tail, 4);
    this.buf.writeUInt16LE(this.n < 65535 ? this.n : 65535, 8);
    return this.buf.subarray(0, this.pos);
  }

  private writePrevLen(): void {
    if (this.prevLen < 254) this.buf[this.pos++] = this.prevLen;
    else {
      this.buf[this.pos++] = 0xfe;
      this.buf.writeUInt32LE(this.prevLen, this.pos);
      this.pos += 4;
    }
  }
}
