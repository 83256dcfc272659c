import { isUtf8 } from 'node:buffer';

/**
 * A growable output Buffer that JSON text is written into byte by byte. Hand-written because
 * rdb-dump's speed is bound by allocation: building a string per key and JSON.stringify per byte
 * string costs more than the RDB decoding itself. The escaping is exactly JSON.stringify's (for
 * valid UTF-8 input, which is copied through unchanged), so the output is the same byte for byte.
 */

const QUOTE = 0x22;
/** 0: copy the byte; 1: two-char escape (ESC2 holds the letter); 2: \u00XX. */
const ESC = new Uint8Array(256);
const ESC2 = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) ESC[c] = 2;
for (const [c, l] of [[8, 'b'], [9, 't'], [10, 'n'], [12, 'f'], [13, 'r'], [0x22, '"'], [0x5c, '\\']] as const) {
  ESC[c] = 1;
  ESC2[c] = l.charCodeAt(0);
}
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** NUL_RUNS[k]: k escaped NULs, as views made once (a view per run would cost more than the copy). */
const NUL_RUN_MAX = 256;
const NUL_ESCAPES = Buffer.from('\\u0000'.repeat(NUL_RUN_MAX), 'latin1');
const NUL_RUNS = Array.from({ length: NUL_RUN_MAX + 1 }, (_, k) => NUL_ESCAPES.subarray(0, 6 * k));
const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
/** Above this a byte string is escaped with an exact size pass first (6x worst case is too much memory). */
const OPTIMISTIC_MAX = 1 << 16;
/** Above this base64 goes through the native encoder. */
const NATIVE_B64_MIN = 4096;

const viewOf = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Writes `\u00XX` for control byte c at buf[p]; returns the position after it. */
function uEscape(buf: Buffer, p: number, c: number): number {
  buf[p] = 0x5c;
  buf[p + 1] = 0x75; // u
  buf[p + 2] = 0x30;
  buf[p + 3] = 0x30;
  buf[p + 4] = HEX[c >>> 4]!;
  buf[p + 5] = HEX[c & 15]!;
  return p + 6;
}

/** True when no byte of the 32-bit word v needs escaping or is above 0x7f (SWAR: no false negatives). */
const plainWord = (v: number): boolean => {
  const q = v ^ 0x22222222; // '"' bytes become 0
  const k = v ^ 0x5c5c5c5c; // '\\' bytes become 0
  return ((v | ((v - 0x20202020) & ~v) | ((q - 0x01010101) & ~q) | ((k - 0x01010101) & ~k)) & 0x80808080) === 0;
};

export class JsonOut {
  buf: Buffer;
  pos = 0;
  /** A DataView of `buf`: plain text is written a word at a time. */
  private view: DataView;

  /**
   * `reuse`: memory to write into first (recycled: fresh memory costs a page fault per 4 KiB).
   * `shared`: new memory is a SharedArrayBuffer (a worker's output that the main thread reads).
   */
  constructor(
    private readonly initial = 1 << 22,
    reuse?: ArrayBufferLike,
    private readonly shared = false,
  ) {
    this.buf = reuse && reuse.byteLength >= initial ? Buffer.from(reuse) : this.alloc(initial);
    this.view = viewOf(this.buf);
  }

  private alloc(n: number): Buffer {
    return this.shared ? Buffer.from(new SharedArrayBuffer(n)) : Buffer.allocUnsafe(n);
  }

  /** The bytes written so far; the writer continues in a fresh buffer (the returned one is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.alloc(this.initial);
    this.view = viewOf(this.buf);
    this.pos = 0;
    return out;
  }

  /**
   * Set to stream the output: at `boundary()` calls past `flushAt` bytes, the bytes written so far
   * go to `drain` (a view, consumed before it returns) and writing starts over at byte 0.
   */
  drain: ((b: Buffer) => void) | null = null;
  flushAt = Infinity;

  /**
   * A sink calls this where its output so far is final (no head to patch later): true when the
   * bytes were drained, so offsets the sink keeps into the buffer now count from the new start.
   */
  boundary(): boolean {
    if (this.pos < this.flushAt || this.drain === null) return false;
    this.drain(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return true;
  }

  /** Starts over in the same buffer (once the bytes given out by `written()` are consumed). */
  clear(): void {
    this.pos = 0;
  }

  /** The bytes written so far, as a view of the buffer: valid until `clear()`. */
  written(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = this.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
    this.view = viewOf(nb);
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** ASCII text (JSON punctuation, names, numbers) as is. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Pre-encoded bytes b[start, end), as is (a loop: the pieces are short, and a native copy costs more per call). */
  raw(b: Buffer, start = 0, end = b.length): void {
    this.ensure(end - start);
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  /** Any text as UTF-8, as is (already JSON). */
  text(s: string): void {
    this.ensure(Buffer.byteLength(s, 'utf8'));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A number or null. */
  num(x: number | bigint | null): void {
    this.ascii(x === null ? 'null' : String(x));
  }

  /** `"<base64 of b[start, end)>"`. */
  base64Str(b: Buffer, start = 0, end = b.length): void {
    this.byte(QUOTE);
    this.base64(b, start, end);
    this.byte(QUOTE);
  }

  /** The base64 text of b[start, end), unquoted. */
  base64(b: Buffer, start = 0, end = b.length): void {
    if (end - start >= NATIVE_B64_MIN) {
      this.ascii(b.toString('base64', start, end));
      return;
    }
    this.ensure(((end - start + 2) / 3) * 4 + 4);
    const buf = this.buf;
    let p = this.pos;
    let i = start;
    for (; i + 2 < end; i += 3) {
      const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
      buf[p++] = B64[v >>> 18]!;
      buf[p++] = B64[(v >>> 12) & 63]!;
      buf[p++] = B64[(v >>> 6) & 63]!;
      buf[p++] = B64[v & 63]!;
    }
    if (i < end) {
      const two = i + 1 < end;
      const v = (b[i]! << 16) | (two ? b[i + 1]! << 8 : 0);
      buf[p++] = B64[v >>> 18]!;
      buf[p++] = B64[(v >>> 12) & 63]!;
      buf[p++] = two ? B64[(v >>> 6) & 63]! : 0x3d;
      buf[p++] = 0x3d;
    }
    this.pos = p;
  }

  /**
   * A latin1 string of bytes (a set or zset member) as a JSON string when it is ASCII, which is
   * then its own UTF-8: no round trip through bytes. Otherwise (or when long) writes nothing and
   * returns false.
   */
  asciiStr(s: string): boolean {
    const n = s.length;
    if (n > OPTIMISTIC_MAX) return false;
    this.ensure(n * 6 + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      const e = ESC[c];
      if (e === 0) buf[p++] = c;
      else if (e === 1) {
        buf[p++] = 0x5c;
        buf[p++] = ESC2[c]!;
      } else p = uEscape(buf, p, c);
    }
    buf[p++] = QUOTE;
    this.pos = p;
    return true;
  }

  /**
   * b[start, end) as a JSON string (JSON.stringify of its UTF-8 text) when it is valid UTF-8;
   * otherwise writes nothing and returns false.
   */
  utf8Str(b: Buffer, start = 0, end = b.length): boolean {
    const n = end - start;
    if (n > OPTIMISTIC_MAX) {
      let extra = 0;
      let high = 0;
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        high |= c;
        extra += ESC[c] === 0 ? 0 : ESC[c] === 1 ? 1 : 5;
      }
      if (high & 0x80 && !isUtf8(b.subarray(start, end))) return false;
      this.ensure(n + extra + 2);
    } else {
      this.ensure(n * 6 + 2);
    }
    const buf = this.buf;
    let p = this.pos;
    let high = 0;
    buf[p++] = QUOTE;
    // Most text needs no escape: words of 4 bytes are checked and written at once (1.5-2x the byte loop on long text).
    // (Read byte by byte: a Buffer's byteOffset or buffer costs more per call than the loads.)
    const out = this.view;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const v = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
      if (!plainWord(v)) break;
      out.setInt32(p, v, true);
      p += 4;
    }
    for (; i < end; i++) {
      const c = b[i]!;
      const e = ESC[c];
      if (e === 0) {
        buf[p++] = c;
        high |= c;
      } else if (e === 1) {
        buf[p++] = 0x5c;
        buf[p++] = ESC2[c]!;
      } else if (c === 0 && i + 1 < end && b[i + 1] === 0) {
        // A run of NULs (common: DEBUG POPULATE pads with them): native copies of ready escapes.
        let j = i + 2;
        while (j < end && b[j] === 0) j++;
        for (let k = j - i; k > 0; k -= NUL_RUN_MAX) {
          const run = NUL_RUNS[Math.min(k, NUL_RUN_MAX)]!;
          buf.set(run, p);
          p += run.length;
        }
        i = j - 1;
      } else p = uEscape(buf, p, c);
    }
    if (high & 0x80 && n <= OPTIMISTIC_MAX && !isUtf8(b.subarray(start, end))) return false;
    buf[p++] = QUOTE;
    this.pos = p;
    return true;
  }
}
