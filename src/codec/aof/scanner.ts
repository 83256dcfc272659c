import type { ByteSource } from '../../util/byte-source.js';

/**
 * The RESP part of an AOF, scanned with exactly the rules of Redis 7's `redis-check-aof`
 * (formats §4.7): fgets-style lines of at most 127 bytes, strtol-style numbers, payload and CRLF
 * read together, MULTI/EXEC nesting, `#` annotation lines of at most 1023 bytes. It reproduces the
 * tool's `ok_up_to` (start of the first bad record, or of the open MULTI), its process-wide line
 * counter and its error texts, so a repair cuts at the very same byte.
 *
 * Hand-written as a resumable state machine over a ByteSource window: it must be byte-exact, fast
 * (no per-argument allocation unless arguments are collected) and use constant memory even for a
 * multi-GB payload (payloads are skipped in pieces).
 */

/** State shared by every file of one check run (redis-check-aof keeps these process-wide). */
export interface ScanContext {
  /** Consumed CRLFs + 1, across files (`ok_up_to_line`). */
  line: number;
  /** Byte the C tool would find past a `*` line's end in its reused stack buffer (for messages). */
  starStale: Uint8Array;
}

export function newScanContext(): ScanContext {
  return { line: 1, starStale: new Uint8Array(130) };
}

/** A complete RESP record (argv only when collecting). */
export interface ScannedRecord {
  kind: 'record';
  start: number;
  end: number;
  /** Line number of the record's `*` line (redis-check-aof's counter: CRLF lines, from 1). */
  line: number;
  argv: Buffer[] | null;
}

export interface ScannedAnnotation {
  kind: 'annotation';
  start: number;
  /** The line as read (up to 1023 bytes, CRLF included when present). */
  text: Buffer;
}

export interface ScanOptions {
  /** Name used in "AOF <name> format error" (redis-check-aof prints the manifest's file name). */
  name: string;
  /** Path used in "Unexpected MULTI/EXEC in AOF <path>" (the tool prints the path it opened). */
  path: string;
  /**
   * Yield every record (with argv) and annotation (readers); the checker leaves it off for speed
   * and only gets the final result.
   */
  collect?: boolean;
  /**
   * Called for each annotation; returning true stops the scan there (used by
   * --truncate-to-timestamp, which cuts at the start of the first newer `#TS:` line).
   */
  onAnnotation?: (a: ScannedAnnotation) => boolean | void;
}

export interface ScanResult {
  /** redis-check-aof's `ok_up_to`: everything before it is kept by --fix. */
  okUpTo: number;
  /** End of the scanned data (file size when the scan reached the end). */
  end: number;
  /** The `0x...: message` line the tool prints, or null. */
  error: string | null;
  /** The bare message of `error`. */
  message: string | null;
  /** Offset the tool reports in `error`. */
  errorOffset: number | null;
  /** "AOF <name> format error": a record did not start with `*` or `#`. */
  formatError: boolean;
  /** Offset of the first byte that is neither `*` nor `#` (with formatError). */
  formatErrorAt: number | null;
  /** The scan stopped at an annotation (onAnnotation returned true). */
  stoppedAt: number | null;
  /** Start of the record that could not be read (null when the data ended cleanly). */
  failedAt: number | null;
  /** Records completed (MULTI/EXEC included). */
  records: number;
  /** Records completed before okUpTo (what --fix keeps). */
  recordsKept: number;
  /** A MULTI was open when the scan ended. */
  multiOpen: boolean;
}

const CR = 13;
const LF = 10;
/** fgets(buf, 128): at most 127 bytes per `*`/`$` line. */
const LINE_MAX = 127;
/** fgets(buf, AOF_ANNOTATION_LINE_MAX_LEN = 1024). */
const ANNOTATION_MAX = 1023;
const LONG_MAX = 9223372036854775807n;
/** Items per batch a reader gets (see scanAofRespItems). */
const BATCH_ITEMS = 512;
const LONG_MIN = -9223372036854775808n;

const enum S {
  Top,
  Annotation,
  StarLine,
  DollarLine,
  Payload,
  Done,
}

/** printf("%02x", (char)b): bytes >= 0x80 are sign-extended, as in the C tool's messages. */
function hexSigned(b: number): string {
  return b >= 0x80 ? `ffffff${b.toString(16)}` : b.toString(16).padStart(2, '0');
}

function hexOffset(off: number): string {
  return `0x${off.toString(16).padStart(16, ' ')}`;
}

function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * C strtol(s, &end, 10) over `line` starting at `from`: returns the clamped value (bigint only when
 * outside the safe range) and the index `end` points at.
 */
function strtol(line: Buffer, from: number, to: number): { value: number | bigint; end: number } {
  let i = from;
  while (i < to && isCSpace(line[i]!)) i++;
  let neg = false;
  if (i < to && (line[i] === 0x2b || line[i] === 0x2d)) neg = line[i++] === 0x2d;
  const digitsStart = i;
  let n = 0;
  while (i < to && line[i]! >= 0x30 && line[i]! <= 0x39) n = n * 10 + (line[i++]! - 0x30);
  if (i === digitsStart) return { value: 0, end: from };
  if (i - digitsStart <= 15) return { value: neg ? -n : n, end: i };
  let big = BigInt(line.toString('latin1', digitsStart, i));
  if (neg) big = -big;
  if (big > LONG_MAX) big = LONG_MAX;
  if (big < LONG_MIN) big = LONG_MIN;
  return { value: Number.isSafeInteger(Number(big)) ? Number(big) : big, end: i };
}


/** Out-parameters of fastRecord (one object per scan, so the hot loop allocates nothing). */
interface FastOut {
  lines: number;
  /** Start of the last payload read (redis-check-aof's `epos` after the record). */
  lastPayload: number;
  /** Window index and length of the record's `*` line (for the stale-buffer emulation). */
  starAt: number;
  starLen: number;
}

/**
 * Reads one complete, plainly formed record (`*N`, then N × `$len` + payload + CRLF, all inside
 * the window, first argument not MULTI/EXEC) in one tight loop and returns the index after it, or
 * -1 to let the general state machine handle the record byte by byte. Accepting only what the
 * general path would accept the same way keeps both paths exact; this one just does it without
 * allocations (most of the time of a check is spent here).
 */
function fastRecord(w: Buffer, i: number, n: number, out: FastOut, argv: Buffer[] | null): number {
  let p = i + 1;
  let argc = 0;
  let d = 0;
  while (p < n && (d = w[p]! - 48) >= 0 && d <= 9) {
    argc = argc * 10 + d;
    p++;
  }
  if (p === i + 1 || p - i > 100 || p + 1 >= n || w[p] !== CR || w[p + 1] !== LF || argc < 1) return -1;
  out.starAt = i;
  out.starLen = p + 2 - i;
  p += 2;
  let last = 0;
  for (let k = 0; k < argc; k++) {
    if (p >= n || w[p] !== 0x24) return -1;
    const ls = p;
    p++;
    let len = 0;
    while (p < n && (d = w[p]! - 48) >= 0 && d <= 9) {
      len = len * 10 + d;
      p++;
    }
    if (p === ls + 1 || p - ls > 100 || p + 1 >= n || w[p] !== CR || w[p + 1] !== LF) return -1;
    p += 2;
    const end = p + len;
    if (end + 2 > n || w[end] !== CR || w[end + 1] !== LF) return -1;
    if (k === 0 && len >= 4) {
      // MULTI/EXEC (case-insensitive, and as a C string: a NUL may end it early) take the slow path.
      const c0 = w[p]! | 0x20;
      if ((c0 === 0x6d || c0 === 0x65) && (len <= 5 || w[p + 4] === 0 || w[p + 5] === 0)) return -1;
    }
    last = p;
    argv?.push(w.subarray(p, end));
    p = end + 2;
  }
  out.lines = 2 * argc + 1;
  out.lastPayload = last;
  return p;
}

export type ScanItem = ScannedRecord | ScannedAnnotation;

/** Scans one file's RESP part and returns only the verdict. */
export async function scanAofResp(src: ByteSource, ctx: ScanContext, opts: ScanOptions): Promise<ScanResult> {
  const it = scanAofRespItems(src, ctx, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}

/**
 * Scans one file's RESP part from the source's current offset to its end (or first error),
 * yielding the items of each buffered window in batches (only with `collect`), and returns the
 * verdict.
 */
export async function* scanAofRespItems(src: ByteSource, ctx: ScanContext, opts: ScanOptions): AsyncGenerator<ScanItem[], ScanResult> {
  let batch: ScanItem[] = [];
  let state: S = S.Top;
  // Closures change the state; read it through a call so TypeScript does not narrow it.
  const cur = (): S => state;
  let pos = src.offset; // ok_up_to candidate
  let epos = src.offset;
  let multi = 0;
  let eofHit = false;
  let error: string | null = null;
  let message: string | null = null;
  let errorOffset: number | null = null;
  let formatErrorAt: number | null = null;
  let stoppedAt: number | null = null;
  let records = 0;
  let recordsKept = 0;
  let recordsAtPos = 0;
  // Record in progress.
  let recStart = 0;
  let recLine = 0;
  let argc = 0;
  let argi = 0;
  let argv: Buffer[] | null = null;
  // Payload in progress.
  let need = 0; // bytes of payload + CRLF still to read
  let total = 0; // payload + CRLF length
  let head: Buffer = Buffer.alloc(0); // first bytes of the payload (for MULTI/EXEC), up to 6
  let tail0 = -1;
  let tail1 = -1; // last two bytes read
  let pieces = null as Buffer[] | null;

  // The last `*` line, copied into ctx.starStale only when a message needs it (rare).
  let starW: Buffer | null = null;
  let starS = 0;
  let starLen = 0;
  const rememberStar = (w: Buffer, s: number, len: number): void => {
    starW = w;
    starS = s;
    starLen = len;
  };
  const flushStar = (): void => {
    if (!starW) return;
    ctx.starStale.set(starW.subarray(starS, starS + Math.min(starLen, 128)));
    ctx.starStale[Math.min(starLen, 128)] = 0;
    starW = null;
  };
  const fast: FastOut = { lines: 0, lastPayload: 0, starAt: 0, starLen: 0 };

  let failedAt: number | null = null;
  const fail = (msg: string): void => {
    failedAt = recStart;
    message = msg;
    errorOffset = epos;
    error = `${hexOffset(epos)}: ${msg}`;
    state = S.Done;
  };

  /** Handles a `*`/`$` line already delimited as the C fgets would: line = window[s, e). */
  const onLine = (w: Buffer, s: number, e: number, prefix: number): void => {
    if (w[s] !== prefix) {
      // printf("%c") of a NUL prints the NUL byte itself.
      fail(`Expected prefix '${String.fromCharCode(prefix)}', got: '${String.fromCharCode(w[s]!)}'`);
      return;
    }
    if (prefix === 0x2a) flushStar();
    const { value, end } = strtol(w, s + 1, e);
    const len = e - s;
    const at = (k: number): number => {
      const idx = k - s;
      if (idx < len) return w[k]!;
      if (idx === len) return 0;
      return prefix === 0x2a ? ctx.starStale[idx]! : 0;
    };
    const c0 = at(end);
    const c1 = at(end + 1);
    if (prefix === 0x2a) rememberStar(w, s, len);
    if (c0 !== CR || c1 !== LF) {
      fail(`Expected \\r\\n, got: ${hexSigned(c0)}${hexSigned(c1)}`);
      return;
    }
    ctx.line++;
    if (prefix === 0x2a) {
      argc = typeof value === 'bigint' ? (value > 0n ? Number.MAX_SAFE_INTEGER : -1) : value;
      argi = 0;
      argv = opts.collect ? [] : null;
      if (argc <= 0) endRecord(e);
      else state = S.DollarLine;
      return;
    }
    if ((typeof value === 'bigint' ? value < 0n : value < 0) || (typeof value === 'bigint' && value > LONG_MAX - 2n)) {
      fail(`Expected to read string of ${value} bytes, which is not in the suitable range`);
      return;
    }
    total = typeof value === 'bigint' ? Number(value) + 2 : value + 2;
    totalText = typeof value === 'bigint' ? (value + 2n).toString() : String(total);
    need = total;
    head = Buffer.alloc(0);
    tail0 = tail1 = -1;
    pieces = opts.collect ? [] : null;
    state = S.Payload;
  };
  let totalText = '';
  // Absolute offset of window index 0 (set per window).
  let wBase = 0;

  const endRecord = (endIdx: number): void => {
    records++;
    if (argv) batch.push({ kind: 'record', start: recStart, end: wBase + endIdx, line: recLine, argv });
    state = S.Top;
  };

  /** Payload complete: check CRLF, MULTI/EXEC, then next argument or end of record. */
  const onPayloadDone = (endIdx: number): void => {
    if (tail0 !== CR || tail1 !== LF) {
      fail(`Expected \\r\\n, got: ${hexSigned(tail0 < 0 ? 0 : tail0)}${hexSigned(tail1 < 0 ? 0 : tail1)}`);
      return;
    }
    ctx.line++;
    if (argv) {
      const full = pieces!.length === 1 ? pieces![0]! : Buffer.concat(pieces!);
      argv.push(full.subarray(0, full.length - 2));
    }
    if (argi === 0) {
      const plen = total - 2;
      const nul = head.indexOf(0);
      const clen = nul >= 0 && nul < plen ? nul : plen; // C string length (strcasecmp stops at NUL)
      const word = clen === 5 || clen === 4 ? head.toString('latin1', 0, clen).toLowerCase() : '';
      if (word === 'multi') {
        if (multi++) {
          fail(`Unexpected MULTI in AOF ${opts.path}`);
          return;
        }
      } else if (word === 'exec') {
        if (--multi) {
          fail(`Unexpected EXEC in AOF ${opts.path}`);
          return;
        }
      }
    }
    argi++;
    if (argi < argc) state = S.DollarLine;
    else endRecord(endIdx);
  };

  for (;;) {
    const w = src.window();
    wBase = src.offset;
    const atEof = src.exhausted;
    let i = 0;
    let wantMore = false;
    const n = w.length;
    while (cur() !== S.Done && !wantMore) {
      // Readers get a window's items in bounded batches: made all at once, a 1 MiB window's
      // worth of commands outlived the young generation and piled up as old garbage.
      if (batch.length >= BATCH_ITEMS) {
        yield batch;
        batch = [];
      }
      switch (cur()) {
        case S.Top: {
          if (!multi) {
            pos = wBase + i;
            recordsAtPos = records;
          }
          if (i >= n) {
            if (atEof) {
              eofHit = true;
              state = S.Done;
            } else wantMore = true;
            break;
          }
          const c = w[i]!;
          if (c === 0x2a) {
            // Readers get each argument as one view of the window (no pieces to join).
            const fastArgv = opts.collect ? [] : null;
            const next = fastRecord(w, i, n, fast, fastArgv);
            if (next > 0) {
              if (fastArgv) batch.push({ kind: 'record', start: wBase + i, end: wBase + next, line: ctx.line, argv: fastArgv });
              ctx.line += fast.lines;
              epos = wBase + fast.lastPayload;
              rememberStar(w, fast.starAt, fast.starLen);
              records++;
              i = next;
              break;
            }
          }
          recStart = wBase + i;
          recLine = ctx.line;
          if (c === 0x2a) state = S.StarLine;
          else if (c === 0x23) state = S.Annotation;
          else {
            formatErrorAt = wBase + i;
            failedAt = formatErrorAt;
            state = S.Done;
          }
          break;
        }
        case S.Annotation:
        case S.StarLine:
        case S.DollarLine: {
          const max = state === S.Annotation ? ANNOTATION_MAX : LINE_MAX;
          const lim = Math.min(n, i + max);
          let j = i;
          while (j < lim && w[j] !== LF) j++;
          let e: number;
          if (j < lim) e = j + 1;
          else if (lim - i === max) e = lim;
          else if (!atEof) {
            wantMore = true;
            break;
          } else {
            e = n;
            eofHit = true;
          }
          epos = wBase + i;
          if (e === i) {
            // fgets returned NULL: end of file inside a record, no message of its own.
            failedAt = recStart;
            state = S.Done;
            break;
          }
          if (state === S.Annotation) {
            const ann: ScannedAnnotation = { kind: 'annotation', start: wBase + i, text: w.subarray(i, e) };
            if (opts.collect) batch.push(ann);
            const stop = opts.onAnnotation?.(ann);
            i = e;
            if (stop) {
              stoppedAt = epos;
              state = S.Done;
            } else state = S.Top;
            break;
          }
          const prefix = state === S.StarLine ? 0x2a : 0x24;
          onLine(w, i, e, prefix);
          if (cur() === S.Payload) epos = wBase + e;
          i = e;
          break;
        }
        case S.Payload: {
          const take = Math.min(need, n - i);
          if (take > 0) {
            const read = total - need;
            if (read < 6) {
              const h = w.subarray(i, i + Math.min(take, 6 - read));
              head = head.length ? Buffer.concat([head, h]) : h;
            }
            if (take >= 2) {
              tail0 = w[i + take - 2]!;
              tail1 = w[i + take - 1]!;
            } else {
              tail0 = tail1;
              tail1 = w[i]!;
            }
            if (pieces) pieces.push(w.subarray(i, i + take));
            need -= take;
            i += take;
          }
          if (need === 0) {
            onPayloadDone(i);
            break;
          }
          if (!atEof) {
            wantMore = true;
            break;
          }
          eofHit = true;
          fail(`Expected to read ${totalText} bytes, got ${total - need} bytes`);
          break;
        }
        case S.Done:
          break;
      }
    }
    src.advance(i);
    if (batch.length) {
      yield batch;
      batch = [];
    }
    if (cur() === S.Done) break;
    await src.more(); // at the end of the stream the next pass sees exhausted and finishes
  }

  if (eofHit && multi && error === null) {
    message = 'Reached EOF before reading EXEC for MULTI';
    errorOffset = epos;
    error = `${hexOffset(epos)}: ${message}`;
  }
  // When no record failed and the file just ended, the kept part is everything.
  recordsKept = recordsAtPos;
  return {
    okUpTo: pos,
    end: src.offset,
    error,
    message,
    errorOffset,
    formatError: formatErrorAt !== null,
    formatErrorAt,
    stoppedAt,
    failedAt,
    records,
    recordsKept,
    multiOpen: multi > 0,
  };
}
