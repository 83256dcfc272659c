/**
 * LZF compressor producing streams that Redis's lzf_decompress (and our lzfDecompress) accept
 * (formats digest §2.5): literal runs of at most 32 bytes, back-references of 3..264 bytes at
 * distances of at most 8192. Hand-written because it sits on the RDB writer's hot path; the
 * output need not be byte-identical to lzf_c.c, only valid.
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_OFF = 8192;
const MAX_REF = 264;
const MAX_LIT = 32;

// One hash table reused across calls: entries store position + base, and `base` moves past every
// input, so stale entries from an earlier call fall below it and are ignored without clearing.
const htab = new Int32Array(HSIZE);
let base = 1;

/** Compresses `input`; null when the output would exceed `maxOut` bytes (as lzf_compress's 0). */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  const n = input.length;
  if (n === 0 || maxOut <= 0) return null;
  if (base + n + 1 > 0x7fff0000) {
    htab.fill(0);
    base = 1;
  }
  const b = base;
  base += n + 1;
  const out = Buffer.allocUnsafe(maxOut);
  let op = 0;
  let ip = 0;
  let litStart = 0;

  const flushLiterals = (end: number): boolean => {
    let p = litStart;
    while (p < end) {
      const run = Math.min(MAX_LIT, end - p);
      if (op + 1 + run > maxOut) return false;
      out[op++] = run - 1;
      for (let k = 0; k < run; k++) out[op++] = input[p + k]!;
      p += run;
    }
    return true;
  };

  while (ip + 2 < n) {
    const h = Math.imul((input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!, 0x9e3779b1) >>> (32 - HLOG);
    const ref = htab[h]! - b;
    htab[h] = ip + b;
    if (
      ref >= 0 &&
      ip - ref <= MAX_OFF &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1] &&
      input[ref + 2] === input[ip + 2]
    ) {
      const maxLen = Math.min(MAX_REF, n - ip);
      let len = 3;
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      if (!flushLiterals(ip)) return null;
      const off = ip - ref - 1;
      const l = len - 2;
      if (l < 7) {
        if (op + 2 > maxOut) return null;
        out[op++] = (l << 5) | (off >>> 8);
      } else {
        if (op + 3 > maxOut) return null;
        out[op++] = (7 << 5) | (off >>> 8);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      // Index the positions inside the match too, so later repeats find the nearest copy.
      const end = Math.min(ip + len, n - 2);
      for (let k = ip + 1; k < end; k++) {
        htab[Math.imul((input[k]! << 16) | (input[k + 1]! << 8) | input[k + 2]!, 0x9e3779b1) >>> (32 - HLOG)] = k + b;
      }
      ip += len;
      litStart = ip;
    } else {
      ip++;
    }
  }
  if (!flushLiterals(n)) return null;
  return out.subarray(0, op);
}
