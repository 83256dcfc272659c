import { CommandError } from './errors.js';

/**
 * Redis's HyperLogLog string layout, reproduced byte for byte: the value of a key is the string
 * Redis stores (DEBUG DIGEST and DUMP see those bytes), so the sparse opcode stream, its local
 * merge rule and the promotion to dense must behave exactly as hyperloglog.c does. Hand-written
 * for that reason; no library produces Redis's representation.
 */

const P = 14;
const Q = 64 - P;
const REGISTERS = 1 << P;
const BITS = 6;
const REG_MAX = (1 << BITS) - 1;
export const HDR = 16;
export const DENSE_SIZE = HDR + Math.floor((REGISTERS * BITS + 7) / 8);
const DENSE = 0;
const SPARSE = 1;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.721347520444481703680;

export const INVALID_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

const M64 = (1n << 64n) - 1n;
const MUR_M = 0xc6a4a7935bd1e995n;

/** MurmurHash64A (seed 0xadc83b19, little-endian reads) as Redis hashes HLL elements. */
export function murmur64a(data: Buffer, seed = 0xadc83b19n): bigint {
  const len = data.length;
  let h = (seed ^ ((BigInt(len) * MUR_M) & M64)) & M64;
  const blocks = len >> 3;
  for (let i = 0; i < blocks; i++) {
    let k = data.readBigUInt64LE(i * 8);
    k = (k * MUR_M) & M64;
    k ^= k >> 47n;
    k = (k * MUR_M) & M64;
    h ^= k;
    h = (h * MUR_M) & M64;
  }
  const tail = blocks * 8;
  const rest = len & 7;
  if (rest) {
    for (let i = rest - 1; i >= 0; i--) h ^= BigInt(data[tail + i]!) << BigInt(8 * i);
    h = (h * MUR_M) & M64;
  }
  h ^= h >> 47n;
  h = (h * MUR_M) & M64;
  h ^= h >> 47n;
  return h;
}

/** Register index and run length ("pattern length") of an element. */
export function patLen(ele: Buffer): { index: number; count: number } {
  let hash = murmur64a(ele);
  const index = Number(hash & BigInt(REGISTERS - 1));
  hash >>= BigInt(P);
  hash |= 1n << BigInt(Q);
  let count = 1;
  let bit = 1n;
  while ((hash & bit) === 0n) {
    count++;
    bit <<= 1n;
  }
  return { index, count };
}

/** A new empty sparse HLL (one XZERO run over all registers), cache marked valid (0). */
export function createHll(): Buffer {
  const b = Buffer.alloc(HDR + 2);
  b.write('HYLL', 0, 'latin1');
  b[4] = SPARSE;
  const l = XZERO_MAX_LEN - 1;
  b[HDR] = (l >> 8) | 0x40;
  b[HDR + 1] = l & 0xff;
  return b;
}

export function isHll(b: Buffer): boolean {
  if (b.length < HDR || b.toString('latin1', 0, 4) !== 'HYLL') return false;
  if (b[4]! > 1) return false;
  if (b[4] === DENSE && b.length !== DENSE_SIZE) return false;
  return true;
}

export function invalidateCache(b: Buffer): void {
  b[15] = b[15]! | 0x80;
}

function denseGet(b: Buffer, i: number): number {
  const pos = i * BITS;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  const b0 = b[byte]!;
  const b1 = byte + 1 < b.length ? b[byte + 1]! : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & REG_MAX;
}

function denseSetRaw(b: Buffer, i: number, val: number): void {
  const pos = i * BITS;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  b[byte] = (b[byte]! & ~(REG_MAX << fb)) | ((val << fb) & 0xff);
  if (byte + 1 < b.length) b[byte + 1] = (b[byte + 1]! & ~(REG_MAX >> (8 - fb))) | (val >> (8 - fb));
}

/**
 * A mutable HLL value: the bytes live in `buf` and may be replaced (growth, promotion).
 */
export class Hll {
  private cursor: { p: number; first: number; prev: number } | null = null;

  constructor(
    public buf: Buffer,
    private readonly sparseMaxBytes: number,
  ) {}

  get dense(): boolean {
    return this.buf[4] === DENSE;
  }

  /** Adds an element; true when a register changed. */
  add(ele: Buffer): boolean {
    const { index, count } = patLen(ele);
    return this.set(index, count);
  }

  set(index: number, count: number): boolean {
    if (this.dense) {
      if (count > denseGet(this.buf, index)) {
        denseSetRaw(this.buf, index, count);
        return true;
      }
      return false;
    }
    return this.sparseSet(index, count);
  }

  toDense(): void {
    if (this.dense) return;
    const regs = this.registers();
    const out = Buffer.alloc(DENSE_SIZE);
    this.buf.copy(out, 0, 0, HDR);
    out[4] = DENSE;
    for (let i = 0; i < REGISTERS; i++) if (regs[i]) denseSetRaw(out, i, regs[i]!);
    this.buf = out;
  }

  private promoteAndSet(index: number, count: number): boolean {
    this.cursor = null;
    this.toDense();
    denseSetRaw(this.buf, index, Math.max(count, denseGet(this.buf, index)));
    return true;
  }

  private sparseSet(index: number, count: number): boolean {
    if (count > VAL_MAX_VALUE) return this.promoteAndSet(index, count);
    let b = this.buf;
    let end = b.length;
    // Resume from the last call's position when the index lies after it (PFMERGE sets registers
    // in ascending order): a set only changes bytes from the opcode before its target onwards,
    // so that opcode and everything before it keep their positions.
    let p = HDR;
    let first = 0;
    let prev = -1;
    let prevFirst = 0;
    let prevPrev = -1;
    let span = 0;
    const seek = (): boolean => {
      let advanced = false;
      while (p < end) {
        const op = b[p]!;
        let oplen = 1;
        if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
        else if (op & 0x80) span = (op & 3) + 1;
        else {
          span = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
          oplen = 2;
        }
        if (index <= first + span - 1) break;
        prevPrev = prev;
        prev = p;
        prevFirst = first;
        p += oplen;
        first += span;
        advanced = true;
      }
      return advanced;
    };
    const c = this.cursor;
    if (c && index >= c.first) {
      p = c.p;
      first = c.first;
      prev = c.prev;
      if (!seek()) {
        p = HDR;
        first = 0;
        prev = -1;
        prevPrev = -1;
        seek();
      }
    } else seek();
    this.cursor = prev >= 0 ? { p: prev, first: prevFirst, prev: prevPrev } : null;
    if (span === 0 || p >= end) throw new CommandError(INVALID_HLL);
    const op = b[p]!;
    const isZero = (op & 0xc0) === 0;
    const isXzero = (op & 0xc0) === 0x40;
    const isVal = (op & 0x80) !== 0;
    const runlen = isZero ? (op & 0x3f) + 1 : isVal ? (op & 3) + 1 : (((op & 0x3f) << 8) | b[p + 1]!) + 1;
    const valSet = (val: number, len: number): number => (((val - 1) << 2) | (len - 1)) | 0x80;
    let updatedInPlace = false;
    if (isVal) {
      const old = ((op >> 2) & 0x1f) + 1;
      if (old >= count) return false;
      if (runlen === 1) {
        b[p] = valSet(count, 1);
        updatedInPlace = true;
      }
    }
    if (!updatedInPlace && isZero && runlen === 1) {
      b[p] = valSet(count, 1);
      updatedInPlace = true;
    }
    if (!updatedInPlace) {
      const seq: number[] = [];
      const last = first + span - 1;
      const zeros = (len: number): void => {
        if (len > ZERO_MAX_LEN) seq.push(((len - 1) >> 8) | 0x40, (len - 1) & 0xff);
        else seq.push(len - 1);
      };
      if (isZero || isXzero) {
        if (index !== first) zeros(index - first);
        seq.push(valSet(count, 1));
        if (index !== last) zeros(last - index);
      } else {
        const cur = ((op >> 2) & 0x1f) + 1;
        if (index !== first) seq.push(valSet(cur, index - first));
        seq.push(valSet(count, 1));
        if (index !== last) seq.push(valSet(cur, last - index));
      }
      const oldlen = isXzero ? 2 : 1;
      const delta = seq.length - oldlen;
      if (delta > 0 && b.length + delta > this.sparseMaxBytes) return this.promoteAndSet(index, count);
      if (delta !== 0) {
        const out = Buffer.allocUnsafe(b.length + delta);
        b.copy(out, 0, 0, p);
        b.copy(out, p + seq.length, p + oldlen);
        b = out;
      }
      for (let k = 0; k < seq.length; k++) b[p + k] = seq[k]!;
      end = b.length;
    }
    // Merge adjacent VAL opcodes of equal value around the change (at most 5 steps, as Redis).
    let q = prev >= 0 ? prev : HDR;
    let scan = 5;
    while (q < end && scan-- > 0) {
      const o = b[q]!;
      if ((o & 0xc0) === 0x40) {
        q += 2;
        continue;
      }
      if ((o & 0xc0) === 0) {
        q++;
        continue;
      }
      if (q + 1 < end && b[q + 1]! & 0x80) {
        const v1 = ((o >> 2) & 0x1f) + 1;
        const v2 = ((b[q + 1]! >> 2) & 0x1f) + 1;
        if (v1 === v2) {
          const len = (o & 3) + 1 + (b[q + 1]! & 3) + 1;
          if (len <= VAL_MAX_LEN) {
            b[q + 1] = valSet(v1, len);
            b.copyWithin(q, q + 1, end);
            end--;
            continue;
          }
        }
      }
      q++;
    }
    this.buf = end === b.length ? b : Buffer.from(b.subarray(0, end));
    return true;
  }

  /** Register values (for merges). */
  registers(): Uint8Array {
    const out = new Uint8Array(REGISTERS);
    if (this.dense) {
      for (let i = 0; i < REGISTERS; i++) out[i] = denseGet(this.buf, i);
      return out;
    }
    const b = this.buf;
    let idx = 0;
    for (let p = HDR; p < b.length; ) {
      const op = b[p]!;
      if ((op & 0xc0) === 0) {
        idx += (op & 0x3f) + 1;
        p++;
      } else if ((op & 0xc0) === 0x40) {
        idx += (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        p += 2;
      } else {
        const runlen = (op & 3) + 1;
        const val = ((op >> 2) & 0x1f) + 1;
        if (idx + runlen > REGISTERS) throw new CommandError(INVALID_HLL);
        for (let k = 0; k < runlen; k++) out[idx++] = val;
        p++;
      }
    }
    if (idx !== REGISTERS) throw new CommandError(INVALID_HLL);
    return out;
  }

  /** hllCount: the estimator of Redis 5.0+ (Ertl's improved raw estimate). */
  count(): number {
    const regs = this.registers();
    const histo = new Array<number>(64).fill(0);
    for (const r of regs) histo[r]!++;
    const m = REGISTERS;
    let z = m * tau((m - histo[Q + 1]!) / m);
    for (let j = Q; j >= 1; --j) {
      z += histo[j]!;
      z *= 0.5;
    }
    z += m * sigma(histo[0]! / m);
    return Math.round((ALPHA_INF * m * m) / z);
  }

  /** Stores the cardinality cache (little-endian 64-bit) as PFCOUNT does. */
  setCache(card: number): void {
    let v = BigInt(card);
    for (let i = 0; i < 8; i++) {
      this.buf[8 + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  cacheValid(): boolean {
    return (this.buf[15]! & 0x80) === 0;
  }
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= Math.pow(1 - x, 2) * y;
  } while (zPrime !== z);
  return z / 3;
}
