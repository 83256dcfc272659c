import type { ByteSource } from '../../util/byte-source.js';
import { FormatError } from '../../util/errors.js';
import { BadData, NeedMore } from '../parse-signals.js';
import { RespError, RespMap, type RespFrame, type RespValue } from './types.js';

/**
 * Streaming RESP2/RESP3 parser. Frames are parsed synchronously from the source's window; when a
 * frame is incomplete the parse is restarted once enough bytes are buffered. Bulk payloads are
 * sliced, not copied. Hand-written: it must report exact offsets and survive any chunk split.
 */

const CR = 13;
const LF = 10;
/** Longest header line we accept (type byte, length digits, CRLF); a bulk length has at most 20 digits. */
const MAX_LINE = 64 * 1024;
/** Redis's own proto-max-bulk-len ceiling is 512 MB by default; we accept up to 2^53 but sanity-check. */
const MAX_BULK = Number.MAX_SAFE_INTEGER;

function readLine(buf: Buffer, pos: number): number {
  const lf = buf.indexOf(LF, pos);
  if (lf < 0) {
    if (buf.length - pos > MAX_LINE) throw new BadData(pos, `a line shorter than ${MAX_LINE} bytes`);
    throw new NeedMore(buf.length + 1);
  }
  if (lf === pos || buf[lf - 1] !== CR) throw new BadData(lf, 'CRLF line ending');
  return lf - 1; // index of CR
}

function parseInteger(buf: Buffer, start: number, end: number): number {
  if (start >= end) throw new BadData(start, 'an integer');
  let neg = false;
  let i = start;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
    if (i >= end) throw new BadData(start, 'an integer');
  } else if (buf[i] === 0x2b) i++;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) throw new BadData(i, 'a decimal digit');
    n = n * 10 + d;
  }
  if (!Number.isSafeInteger(n)) throw new BadData(start, 'an integer within 2^53');
  return neg ? -n : n;
}

/** Parses one frame starting at `pos`; returns the value and the index just past it. */
export function parseFrameAt(buf: Buffer, pos: number): [RespValue, number] {
  if (pos >= buf.length) throw new NeedMore(pos + 1);
  const type = buf[pos]!;
  const cr = readLine(buf, pos + 1);
  const next = cr + 2;
  switch (type) {
    case 0x2b: // +
      return [buf.toString('utf8', pos + 1, cr), next];
    case 0x2d: // -
      return [new RespError(buf.toString('utf8', pos + 1, cr)), next];
    case 0x3a: // :
      return [parseInteger(buf, pos + 1, cr), next];
    case 0x24: // $
    case 0x21: // ! blob error
    case 0x3d: {
      // = verbatim
      const len = parseInteger(buf, pos + 1, cr);
      if (len === -1 && type === 0x24) return [null, next];
      if (len < 0 || len > MAX_BULK) throw new BadData(pos + 1, 'a bulk length >= 0');
      const end = next + len;
      if (buf.length < end + 2) throw new NeedMore(end + 2);
      if (buf[end] !== CR || buf[end + 1] !== LF) throw new BadData(end, 'CRLF after bulk payload');
      const payload = buf.subarray(next, end);
      if (type === 0x21) return [new RespError(payload.toString('utf8')), end + 2];
      return [type === 0x3d ? payload.subarray(Math.min(4, payload.length)) : payload, end + 2];
    }
    case 0x2a: // *
    case 0x7e: // ~ set
    case 0x3e: // > push
    case 0x25: // % map
    case 0x7c: {
      // | attribute
      const n = parseInteger(buf, pos + 1, cr);
      if (n === -1 && type === 0x2a) return [null, next];
      if (n < 0) throw new BadData(pos + 1, 'an element count >= 0');
      let p = next;
      if (type === 0x25 || type === 0x7c) {
        const entries: Array<[RespValue, RespValue]> = [];
        for (let i = 0; i < n; i++) {
          const [k, p1] = parseFrameAt(buf, p);
          const [v, p2] = parseFrameAt(buf, p1);
          entries.push([k, v]);
          p = p2;
        }
        // An attribute annotates the frame that follows it; we return that frame.
        if (type === 0x7c) return parseFrameAt(buf, p);
        return [new RespMap(entries), p];
      }
      const items: RespValue[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const [v, p1] = parseFrameAt(buf, p);
        items[i] = v;
        p = p1;
      }
      return [items, p];
    }
    case 0x5f: // _ null
      return [null, next];
    case 0x23: // # boolean
      return [buf[pos + 1] === 0x74, next];
    case 0x2c: {
      // , double
      const s = buf.toString('latin1', pos + 1, cr);
      const v = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : Number(s);
      if (Number.isNaN(v) && s !== 'nan') throw new BadData(pos + 1, 'a double');
      return [v, next];
    }
    case 0x28: // ( big number
      try {
        return [BigInt(buf.toString('latin1', pos + 1, cr)), next];
      } catch {
        throw new BadData(pos + 1, 'a big number');
      }
    default:
      throw new BadData(pos, `a RESP type byte (one of + - : $ * _ # , ( ! = % ~ > |), got 0x${type.toString(16).padStart(2, '0')}`);
  }
}

/** Reads RESP frames one by one from a ByteSource. */
export class RespReader {
  constructor(private readonly src: ByteSource) {}

  /** The next frame, or null when the stream ends cleanly between frames. */
  async next(): Promise<RespFrame | null> {
    const src = this.src;
    let want = 1;
    let need = 1;
    let tried = -1;
    for (;;) {
      if (src.available < want && !(await src.fill(need, want))) {
        if (src.available === 0) return null;
        if (src.available === tried) {
          throw new FormatError(src.name, src.offset + src.available, 'the rest of a RESP frame, found end of stream');
        }
      }
      const win = src.window();
      tried = win.length;
      try {
        const [value, end] = parseFrameAt(win, 0);
        const frame: RespFrame = { value, offset: src.offset, length: end };
        src.advance(end);
        return frame;
      } catch (e) {
        if (e instanceof NeedMore) {
          // Grow geometrically so a frame delivered in many small chunks is parsed O(n) times total.
          need = Math.max(e.need, win.length + 1);
          want = Math.max(need, Math.min(win.length * 2, win.length + (1 << 24)));
          continue;
        }
        if (e instanceof BadData) throw new FormatError(src.name, src.offset + e.at, `expected ${e.expected}`);
        throw e;
      }
    }
  }
}

/** Parses a complete buffer holding exactly one frame (tests, small replies). */
export function parseOne(buf: Buffer, name = 'buffer'): RespValue {
  try {
    const [v, end] = parseFrameAt(buf, 0);
    if (end !== buf.length) throw new FormatError(name, end, 'end of input after one frame');
    return v;
  } catch (e) {
    if (e instanceof NeedMore) throw new FormatError(name, buf.length, 'the rest of a RESP frame, found end of input');
    if (e instanceof BadData) throw new FormatError(name, e.at, `expected ${e.expected}`);
    throw e;
  }
}
