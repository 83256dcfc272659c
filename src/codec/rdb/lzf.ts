/**
 * LZF decompression (liblzf's lzf_d.c format), used by RDB strings encoded as C3. Hand-written:
 * it must be exact and fast, and reject every malformed stream instead of reading out of bounds.
 */

export class LzfError extends Error {}

/** The typed-array builtin: Buffer#fill validates its arguments in JS first (costly per short run). */
const u8fill = Uint8Array.prototype.fill;

/** Decompresses `input` into exactly `outLen` bytes; throws LzfError on any malformed input. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  lzfDecompressInto(input, out, outLen);
  return out;
}

/** Decompresses into `out` (at least `outLen` bytes; a reusable scratch buffer when only validating). */
export function lzfDecompressInto(input: Uint8Array, out: Buffer, outLen: number, inStart = 0, inEnd = input.length): void {
  const inLen = inEnd;
  let ip = inStart;
  let op = 0;
  while (ip < inLen) {
    const ctrl = input[ip++]!;
    if (ctrl < 0x20) {
      const len = ctrl + 1;
      if (op + len > outLen) throw new LzfError('LZF literal run overflows the declared length');
      if (ip + len > inLen) throw new LzfError('LZF input ends inside a literal run');
      // At most 32 bytes: a loop beats a native copy, which needs a subarray object.
      for (let k = 0; k < len; k++) out[op + k] = input[ip + k]!;
      op += len;
      ip += len;
    } else {
      let len = ctrl >>> 5;
      if (len === 7) {
        if (ip >= inLen) throw new LzfError('LZF input ends inside a back-reference');
        len += input[ip++]!;
      }
      if (ip >= inLen) throw new LzfError('LZF input ends inside a back-reference');
      let ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
      if (ref < 0) throw new LzfError('LZF back-reference points before the start of the output');
      len += 2;
      if (op + len > outLen) throw new LzfError('LZF back-reference overflows the declared length');
      // Byte by byte: the source may overlap the bytes being written (that is how runs are coded).
      if (op - ref >= len && len > 32) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else if (op - ref === 1) {
        u8fill.call(out, out[ref]!, op, op + len); // a run of one byte
        op += len;
      } else {
        for (let k = 0; k < len; k++) out[op++] = out[ref++]!;
      }
    }
  }
  if (op !== outLen) throw new LzfError(`LZF output is ${op} bytes, declared ${outLen}`);
}
