import { FormatError } from '../util/errors.js';

/**
 * Scanner for one replication-stream command frame, `*<argc>\r\n` then argc × `$<len>\r\n<bytes>\r\n`,
 * that allocates nothing: it returns where the frame ends and where its first two arguments lie
 * (the command name, and SELECT's db / REPLCONF's subcommand). Hand-written because it runs once
 * per replicated command; the general RESP parser builds an array and a Buffer per argument,
 * which caps a replica well below what a pipelined master produces.
 */
export interface FrameSpans {
  argc: number;
  /** [start, end) of argument 0 and 1 within the buffer (arg1 = -1 when argc < 2). */
  a0s: number;
  a0e: number;
  a1s: number;
  a1e: number;
  /**
   * A frame the buffer ended in: `done` arguments scanned, the next one starting `at` bytes after
   * the frame's start, which was at index `from`. A command of a million arguments arriving in
   * network-sized chunks is then scanned once, not once per chunk from its start.
   */
  pending: boolean;
  done: number;
  at: number;
  from: number;
}

/** FrameSpans for a stream that has no frame pending. */
export function newFrameSpans(): FrameSpans {
  return { argc: 0, a0s: 0, a0e: 0, a1s: -1, a1e: -1, pending: false, done: 0, at: 0, from: 0 };
}

/**
 * Scans the frame at `pos`. Returns its end index, or a negative number -n meaning the buffer
 * must hold n bytes before the frame can be complete; `spans` then keeps the progress, and the
 * next call must pass the same frame at its `pos` (in a buffer holding more of it). Throws
 * FormatError (name, base + index) on anything that is not a command frame.
 */
export function scanCommandFrame(buf: Buffer, pos: number, spans: FrameSpans, name: string, base: number): number {
  const len = buf.length;
  let p: number;
  let i = 0;
  if (spans.pending) {
    i = spans.done;
    // Resuming: the argument spans found so far move with the frame.
    const shift = pos - spans.from;
    spans.a0s += shift;
    spans.a0e += shift;
    if (spans.a1s >= 0) {
      spans.a1s += shift;
      spans.a1e += shift;
    }
    p = pos + spans.at;
  } else {
    if (pos >= len) return -(pos + 1);
    if (buf[pos] !== 0x2a) throw new FormatError(name, base + pos, `"*" starting a command in the replication stream, got 0x${buf[pos]!.toString(16).padStart(2, '0')}`);
    p = scanDecimalLine(buf, pos + 1, 11, name, base, 'an argument count');
    if (p < 0) return p;
    const argc = scanned;
    if (argc < 1) throw new FormatError(name, base + pos + 1, 'an argument count >= 1');
    spans.argc = argc;
    spans.a1s = spans.a1e = -1;
  }
  const argc = spans.argc;
  for (; i < argc; i++) {
    const next = argumentEnd(buf, p, name, base);
    if (next < 0) {
      spans.pending = true;
      spans.done = i;
      spans.at = p - pos;
      spans.from = pos;
      return next;
    }
    const start = argStart;
    const end = next - 2;
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw new FormatError(name, base + end, 'CRLF after a bulk string argument');
    if (i === 0) {
      spans.a0s = start;
      spans.a0e = end;
    } else if (i === 1) {
      spans.a1s = start;
      spans.a1e = end;
    }
    p = next;
  }
  spans.pending = false;
  return p;
}

/** Where the last argumentEnd's bytes start. */
let argStart = 0;

/** The argument `$<len>\r\n<bytes>\r\n` at `p`: the index after its CRLF, or -need. */
function argumentEnd(buf: Buffer, p: number, name: string, base: number): number {
  if (p >= buf.length) return -(p + 1);
  if (buf[p] !== 0x24) throw new FormatError(name, base + p, '"$" starting a bulk string argument');
  const start = scanDecimalLine(buf, p + 1, 16, name, base, 'a bulk length');
  if (start < 0) return start;
  const end = start + scanned + 2;
  if (end > buf.length) return -end;
  argStart = start;
  return end;
}

/** The value of the last scanDecimalLine (a module slot: no allocation per call). */
let scanned = 0;

/** Reads `<digits>\r\n` at `p` into `scanned`; returns the index after the LF, or -need. */
function scanDecimalLine(buf: Buffer, p: number, maxDigits: number, name: string, base: number, what: string): number {
  const from = p;
  let n = 0;
  for (;;) {
    if (p >= buf.length) return -(p + 2);
    const c = buf[p]!;
    if (c === 0x0d) break;
    if (c < 0x30 || c > 0x39 || p - from >= maxDigits) throw new FormatError(name, base + p, `${what} (decimal digits)`);
    n = n * 10 + (c - 0x30);
    p++;
  }
  if (p + 1 >= buf.length) return -(p + 2);
  if (buf[p + 1] !== 0x0a || p === from) throw new FormatError(name, base + p, `${what} and CRLF`);
  scanned = n;
  return p + 2;
}
