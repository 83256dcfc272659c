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
}

/**
 * Scans the frame at `pos`. Returns its end index, or a negative number -n meaning the buffer
 * must hold n bytes before the frame can be complete. Throws FormatError (name, base + index)
 * on anything that is not a command frame.
 */
export function scanCommandFrame(buf: Buffer, pos: number, spans: FrameSpans, name: string, base: number): number {
  const len = buf.length;
  if (pos >= len) return -(pos + 1);
  if (buf[pos] !== 0x2a) throw new FormatError(name, base + pos, `"*" starting a command in the replication stream, got 0x${buf[pos]!.toString(16).padStart(2, '0')}`);
  let p = pos + 1;
  let argc = 0;
  for (;;) {
    if (p >= len) return -(p + 2);
    const c = buf[p]!;
    if (c === 0x0d) break;
    if (c < 0x30 || c > 0x39 || p - pos > 11) throw new FormatError(name, base + p, 'a decimal argument count');
    argc = argc * 10 + (c - 0x30);
    p++;
  }
  if (p + 1 >= len) return -(p + 2);
  if (buf[p + 1] !== 0x0a || p === pos + 1 || argc < 1) throw new FormatError(name, base + p, 'an argument count >= 1 and CRLF');
  p += 2;
  spans.argc = argc;
  spans.a1s = spans.a1e = -1;
  for (let i = 0; i < argc; i++) {
    if (p >= len) return -(p + 1);
    if (buf[p] !== 0x24) throw new FormatError(name, base + p, '"$" starting a bulk string argument');
    let q = p + 1;
    let n = 0;
    for (;;) {
      if (q >= len) return -(q + 2);
      const c = buf[q]!;
      if (c === 0x0d) break;
      if (c < 0x30 || c > 0x39 || q - p > 16) throw new FormatError(name, base + q, 'a decimal bulk length');
      n = n * 10 + (c - 0x30);
      q++;
    }
    if (q + 1 >= len) return -(q + 2);
    if (buf[q + 1] !== 0x0a || q === p + 1) throw new FormatError(name, base + q, 'a bulk length and CRLF');
    const start = q + 2;
    const end = start + n;
    if (end + 2 > len) return -(end + 2);
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) throw new FormatError(name, base + end, 'CRLF after a bulk string argument');
    if (i === 0) {
      spans.a0s = start;
      spans.a0e = end;
    } else if (i === 1) {
      spans.a1s = start;
      spans.a1e = end;
    }
    p = end + 2;
  }
  return p;
}
