import { BlobBuilder } from './blob-writer.js';
import { canonicalInt } from './encoding.js';

/**
 * Builds a listpack blob (formats digest §2.10.1) the way Redis's lpAppend does: elements that
 * canonically spell an int64 get the smallest integer encoding, other strings the 6/12/32-bit
 * length forms, every entry followed by its back-length. Hand-written: exact layout, hot path.
 */
/** Listpack tags of the int16, int24, int32 and int64 encodings. */
const LP_INT_TAGS = [0xf1, 0xf2, 0xf3, 0xf4] as const;

export class ListpackBuilder extends BlobBuilder {
  constructor() {
    super(6);
  }

  /** Appends a byte string (integer-encoded when it is a canonical int64). */
  add(e: Uint8Array): this {
    const v = e.length <= 20 ? canonicalInt(e) : null;
    if (v !== null) return this.addInt(v);
    const len = e.length;
    const head = len < 64 ? 1 : len < 4096 ? 2 : 5;
    this.reserve(head + len + 5);
    const start = this.pos;
    const b = this.buf;
    if (head === 1) b[this.pos++] = 0x80 | len;
    else if (head === 2) {
      b[this.pos++] = 0xe0 | (len >>> 8);
      b[this.pos++] = len & 0xff;
    } else {
      b[this.pos++] = 0xf0;
      b.writeUInt32LE(len, this.pos);
      this.pos += 4;
    }
    b.set(e, this.pos);
    this.pos += len;
    this.backlen(this.pos - start);
    return this;
  }

  /** Appends an integer with the smallest encoding that holds it. */
  addInt(v: number | bigint): this {
    this.reserve(16);
    const b = this.buf;
    const start = this.pos;
    if (typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n) v = Number(v);
    if (typeof v === 'number' && v >= 0 && v <= 127) {
      b[this.pos++] = v;
    } else if (typeof v === 'number' && v >= -4096 && v <= 4095) {
      const u = v & 0x1fff;
      b[this.pos++] = 0xc0 | (u >>> 8);
      b[this.pos++] = u & 0xff;
    } else {
      this.putWideInt(v, LP_INT_TAGS);
    }
    this.backlen(this.pos - start);
    return this;
  }

  /** The finished blob (the builder must not be used afterwards). */
  finish(): Buffer {
    this.reserve(1);
    this.buf[this.pos++] = 0xff;
    this.buf.writeUInt32LE(this.pos, 0);
    this.buf.writeUInt16LE(this.n < 65535 ? this.n : 65535, 4);
    return this.buf.subarray(0, this.pos);
  }

  private backlen(l: number): void {
    const b = this.buf;
    if (l <= 127) b[this.pos++] = l;
    else if (l < 16383) {
      b[this.pos++] = l >>> 7;
      b[this.pos++] = (l & 127) | 128;
    } else if (l < 2097151) {
      b[this.pos++] = l >>> 14;
      b[this.pos++] = ((l >>> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    } else if (l < 268435455) {
      b[this.pos++] = l >>> 21;
      b[this.pos++] = ((l >>> 14) & 127) | 128;
      b[this.pos++] = ((l >>> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    } else {
      b[this.pos++] = Math.floor(l / 2 ** 28);
      b[this.pos++] = ((l >>> 21) & 127) | 128;
      b[this.pos++] = ((l >>> 14) & 127) | 128;
      b[this.pos++] = ((l >>> 7) & 127) | 128;
      b[this.pos++] = (l & 127) | 128;
    }
    this.n++;
  }
}

/** Byte size an element adds to a listpack (for node-size decisions before appending). */
export function lpEntrySize(e: Uint8Array): number {
  const len = e.length;
  if (len <= 20 && canonicalInt(e) !== null) return 10; // upper bound for an integer entry
  const enc = (len < 64 ? 1 : len < 4096 ? 2 : 5) + len;
  return enc + (enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5);
}
