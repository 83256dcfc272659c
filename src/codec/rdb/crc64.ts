/**
 * CRC-64/Jones as Redis computes it (reflected polynomial 0x95AC9329AC4BC9B5, start 0, no final
 * XOR): the RDB trailer and the DUMP footer. Hand-written for speed: slicing-by-8 over two
 * 32-bit halves, so no BigInt arithmetic happens per byte (BigInt only at the API boundary).
 */

const POLY_LO = 0xac4bc9b5 | 0;
const POLY_HI = 0x95ac9329 | 0;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** TLO[k*256+n] / THI[k*256+n]: CRC of byte n followed by k zero bytes (low and high halves). */
const TLO = new Int32Array(8 * 256);
const THI = new Int32Array(8 * 256);

for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let i = 0; i < 8; i++) {
    const bit = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi = hi >>> 1;
    if (bit) {
      lo ^= POLY_LO;
      hi ^= POLY_HI;
    }
  }
  TLO[n] = lo;
  THI[n] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const plo = TLO[(k - 1) * 256 + n]!;
    const phi = THI[(k - 1) * 256 + n]!;
    const idx = plo & 0xff;
    TLO[k * 256 + n] = TLO[idx]! ^ ((plo >>> 8) | (phi << 24));
    THI[k * 256 + n] = THI[idx]! ^ (phi >>> 8);
  }
}

/** Result registers of mix8 (a pair without allocating; V8 inlines the call). */
let outLo = 0;
let outHi = 0;

/** One slicing-by-8 step: the CRC state after 8 bytes already XOR-ed into (lo, hi). */
function mix8(lo: number, hi: number): void {
  const a = 7 * 256 + (lo & 0xff);
  const b = 6 * 256 + ((lo >>> 8) & 0xff);
  const c = 5 * 256 + ((lo >>> 16) & 0xff);
  const d = 4 * 256 + (lo >>> 24);
  const e = 3 * 256 + (hi & 0xff);
  const f = 2 * 256 + ((hi >>> 8) & 0xff);
  const g = 256 + ((hi >>> 16) & 0xff);
  const h = hi >>> 24;
  outLo = TLO[a]! ^ TLO[b]! ^ TLO[c]! ^ TLO[d]! ^ TLO[e]! ^ TLO[f]! ^ TLO[g]! ^ TLO[h]!;
  outHi = THI[a]! ^ THI[b]! ^ THI[c]! ^ THI[d]! ^ THI[e]! ^ THI[f]! ^ THI[g]! ^ THI[h]!;
}

/** Running CRC state as two 32-bit halves (avoids BigInt in hot loops that feed many pieces). */
export class Crc64 {
  lo = 0;
  hi = 0;

  constructor(start: bigint = 0n) {
    this.lo = Number(start & 0xffffffffn) | 0;
    this.hi = Number((start >> 32n) & 0xffffffffn) | 0;
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    if (end - start >= 256 && LITTLE_ENDIAN) return this.updateAligned(data, start, end);
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const fast = end - 8;
    while (i <= fast) {
      mix8(lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)), hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)));
      lo = outLo;
      hi = outHi;
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = TLO[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = THI[idx]! ^ (hi >>> 8);
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  /** Same as update, reading 32-bit words through an aligned Int32Array view (about twice as fast). */
  private updateAligned(data: Uint8Array, start: number, end: number): this {
    let i = start;
    const headEnd = start + ((4 - ((data.byteOffset + start) & 3)) & 3);
    if (headEnd > start) this.update(data, start, headEnd);
    i = headEnd;
    const words = (end - i) >>> 3 << 1;
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    let lo = this.lo;
    let hi = this.hi;
    for (let w = 0; w < words; w += 2) {
      mix8(lo ^ view[w]!, hi ^ view[w + 1]!);
      lo = outLo;
      hi = outHi;
    }
    this.lo = lo;
    this.hi = hi;
    i += words * 4;
    if (i < end) this.update(data, i, end);
    return this;
  }

  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

/** CRC-64/Jones of `data`, continuing from `crc` (default 0). */
export function crc64(data: Uint8Array, crc: bigint = 0n): bigint {
  return new Crc64(crc).update(data).value();
}
