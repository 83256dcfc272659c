/**
 * SHA-1 of short byte ranges into a caller's buffer, with no allocation per call. Hand-written
 * because DEBUG DIGEST-VALUE needs two to five SHA-1 per element of a value (xorDigest/mixDigest
 * in redis:src/debug.c): node:crypto costs about 1 us per call for the object and the native
 * crossing, which dominated --verify on big keys, while most inputs fit one or two 64-byte blocks.
 * Checked against node:crypto in test/restore/digest-sink.test.ts.
 */
export class Sha1 {
  private readonly w = new Int32Array(80);
  private readonly block = new Uint8Array(64);
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;

  /** Writes SHA-1(b[start, end)) to out[at, at + 20). `out` may overlap the input. */
  digest(b: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
    this.h0 = 0x67452301;
    this.h1 = 0xefcdab89 | 0;
    this.h2 = 0x98badcfe | 0;
    this.h3 = 0x10325476;
    this.h4 = 0xc3d2e1f0 | 0;
    const len = end - start;
    let p = start;
    for (; end - p >= 64; p += 64) this.compress(b, p);
    // The tail, 0x80, zeros, and the bit length (big-endian 64-bit) in one or two blocks.
    const blk = this.block;
    const rest = end - p;
    blk.fill(0);
    for (let i = 0; i < rest; i++) blk[i] = b[p + i]!;
    blk[rest] = 0x80;
    if (rest >= 56) {
      this.compress(blk, 0);
      blk.fill(0);
    }
    const bits = len * 8;
    const hi = Math.floor(bits / 0x100000000);
    blk[56] = hi >>> 24;
    blk[57] = (hi >>> 16) & 0xff;
    blk[58] = (hi >>> 8) & 0xff;
    blk[59] = hi & 0xff;
    blk[60] = bits >>> 24;
    blk[61] = (bits >>> 16) & 0xff;
    blk[62] = (bits >>> 8) & 0xff;
    blk[63] = bits & 0xff;
    this.compress(blk, 0);
    put(out, at, this.h0);
    put(out, at + 4, this.h1);
    put(out, at + 8, this.h2);
    put(out, at + 12, this.h3);
    put(out, at + 16, this.h4);
  }

  private compress(b: Uint8Array, p: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++, p += 4) w[i] = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = this.h0;
    let bb = this.h1;
    let c = this.h2;
    let d = this.h3;
    let e = this.h4;
    // Four loops, one per round function: a branch per round cost a third of the time.
    let i = 0;
    for (; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + 0x5a827999 + e + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + 0x6ed9eba1 + e + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + 0x8f1bbcdc + e + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + 0xca62c1d6 + e + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    this.h0 = (this.h0 + a) | 0;
    this.h1 = (this.h1 + bb) | 0;
    this.h2 = (this.h2 + c) | 0;
    this.h3 = (this.h3 + d) | 0;
    this.h4 = (this.h4 + e) | 0;
  }
}

function put(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
