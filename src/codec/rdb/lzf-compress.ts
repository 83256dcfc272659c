/**
 * LZF compressor producing streams that Redis's lzf_decompress (and our lzfDecompress) accept
 * (formats digest §2.5): literal runs of at most 32 bytes, back-references of 3..264 bytes at
 * distances of at most 8192. Hand-written because it sits on the RDB writer's hot path; the
 * output need not be byte-identical to lzf_c.c, only valid (so it may also give up earlier than
 * lzf_c.c on incompressible input).
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_OFF = 8192;
const MAX_REF = 264;
const MAX_LIT = 32;
const GIVE_UP_AFTER = 8192;

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
  const out = Buffer.allocUnsafe(maxOut + MAX_LIT + 8);
  let op = 0;
  let ip = 0;
  let lit = 0; // pending literal bytes, ending at ip
  const last = n - 2;
  // Rolling 24-bit window of the 3 bytes at ip (liblzf's FRST/NEXT), hashed like its IDX.
  let v = n > 1 ? (input[0]! << 8) | input[1]! : 0;
  while (ip < last) {
    v = ((v << 8) | input[ip + 2]!) & 0xffffff;
    const h = ((v >>> (24 - HLOG)) - v * 5) & (HSIZE - 1);
    const ref = htab[h]! - b;
    htab[h] = ip + b;
    if (ref >= 0 && ip - ref <= MAX_OFF && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
      const maxLen = n - ip < MAX_REF ? n - ip : MAX_REF;
      let len = 3;
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      if (lit > 0) {
        op = emitLiterals(input, ip - lit, ip, out, op);
        lit = 0;
        if (op > maxOut) return null;
      }
      const off = ip - ref - 1;
      const l = len - 2;
      if (l < 7) out[op++] = (l << 5) | (off >>> 8);
      else {
        out[op++] = (7 << 5) | (off >>> 8);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      if (op > maxOut) return null;
      ip += len;
      // Index the last two positions of the match (as liblzf does) and restart the window.
      if (ip < last) {
        for (let k = ip - 2; k < ip; k++) {
          const w = (input[k]! << 16) | (input[k + 1]! << 8) | input[k + 2]!;
          htab[((w >>> (24 - HLOG)) - w * 5) & (HSIZE - 1)] = k + b;
        }
        v = (input[ip]! << 8) | input[ip + 1]!;
      }
    } else {
      lit++;
      ip++;
      if (lit === MAX_LIT) {
        op = emitLiterals(input, ip - lit, ip, out, op);
        lit = 0;
        if (op > maxOut) return null;
        // Incompressible so far (random or already-compressed bytes): store it raw rather than
        // spend the whole pass proving it, as the result would be discarded anyway.
        if (ip >= GIVE_UP_AFTER && op >= ip) return null;
      }
    }
  }
  lit += n - ip;
  op = emitLiterals(input, n - lit, n, out, op);
  if (op > maxOut) return null;
  return out.subarray(0, op);
}

/** Literal runs of at most 32 bytes, each preceded by its length - 1. */
function emitLiterals(input: Uint8Array, from: number, to: number, out: Buffer, op: number): number {
  while (from < to) {
    const run = to - from < MAX_LIT ? to - from : MAX_LIT;
    out[op++] = run - 1;
    for (let k = 0; k < run; k++) out[op++] = input[from + k]!;
    from += run;
  }
  return op;
}
