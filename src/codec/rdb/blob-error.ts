import { UniqueBytes } from './unique-bytes.js';

/** A malformed embedded blob (listpack, ziplist, intset, zipmap): offset inside the blob + expectation. */
export class BlobError extends Error {
  constructor(
    readonly at: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

/** An element of a listpack or ziplist: a byte string, or an integer (bigint only beyond 2^53). */
export type PackedEntry = Buffer | number | bigint;

/** Turns an integer element into the decimal text Redis would return for it. */
export function entryToBuffer(e: PackedEntry): Buffer {
  return typeof e === 'object' ? e : Buffer.from(String(e), 'latin1');
}

/** Reads a signed 64-bit little-endian integer as a number when safe, else a bigint. */
export function readInt64(buf: Buffer, pos: number): number | bigint {
  const lo = buf.readUInt32LE(pos);
  const hi = buf.readInt32LE(pos + 4);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + lo;
  return buf.readBigInt64LE(pos);
}

/** Receives the elements of a listpack or ziplist as they are validated. */
export interface EntryVisitor {
  str(blob: Buffer, start: number, end: number): void;
  int(v: number | bigint): void;
}

/** An EntryVisitor that takes zset scores as numbers (parsed once, by the check) instead of as elements. */
export interface ElementSink extends EntryVisitor {
  score(x: number): void;
}

/** Collects elements: strings as slices of the blob (no copy), integers as numbers. */
export class DecodeVisitor implements EntryVisitor {
  readonly out: PackedEntry[] = [];
  str(blob: Buffer, start: number, end: number): void {
    this.out.push(blob.subarray(start, end));
  }
  int(v: number | bigint): void {
    this.out.push(v);
  }
}

const DUPLICATE = 'unique members/fields, found a duplicate';

/**
 * Validation without decoding (rdb-check): checks that every `stride`-th element (members, fields)
 * is unique and, with `scores`, that the element after each is a number. A `next` sink gets the
 * elements, and the scores as numbers.
 */
export class CheckVisitor implements EntryVisitor {
  private index = 0;
  private readonly seen = new UniqueBytes();
  private next: ElementSink | null = null;
  /** Set when a check fails: what was expected. */
  problem: string | null = null;

  constructor(
    private readonly stride: number,
    private readonly scores: boolean,
  ) {}

  /** Starts a new blob; `next` (if any) receives every element after it is checked. */
  reset(next: ElementSink | null = null): this {
    this.index = 0;
    this.seen.reset();
    this.problem = null;
    this.next = next;
    return this;
  }

  str(blob: Buffer, start: number, end: number): void {
    const i = this.index++;
    const pos = this.stride === 0 ? -1 : i % this.stride;
    if (pos === 1 && this.scores) {
      const x = parseScoreText(latin1(blob, start, end));
      if (Number.isNaN(x)) this.problem ??= 'zset scores that are numbers';
      else this.next?.score(x);
      return;
    }
    if (pos === 0 && !this.seen.add(blob, start, end)) this.problem ??= DUPLICATE;
    this.next?.str(blob, start, end);
  }

  int(v: number | bigint): void {
    const i = this.index++;
    const pos = this.stride === 0 ? -1 : i % this.stride;
    if (pos === 1 && this.scores) {
      this.next?.score(Number(v));
      return;
    }
    if (pos === 0 && !this.seen.addInt(v)) this.problem ??= DUPLICATE;
    this.next?.int(v);
  }
}

/** Buffer#latin1Slice without toString's argument handling (hot in uniqueness checks and sorting). */
export const latin1 = (b: Buffer, start: number, end: number): string => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end);

/** Parses a score stored as text (zset listpacks/ziplists, type-3 string doubles): strtod-like. */
export function parseScoreText(s: string): number {
  // Common case first, without the lower-cased copy: it starts and ends like a plain number
  // (so no whitespace around it, and no inf spelling).
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if ((isDigit(first) || first === 0x2d || first === 0x2b || first === 0x2e) && (isDigit(last) || last === 0x2e)) return Number(s);
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return s.length > 0 && s.trim() === s ? Number(s) : NaN;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
