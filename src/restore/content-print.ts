import { latin1 } from '../codec/rdb/blob-error.js';
import { redisTypeOf } from '../codec/rdb/constants.js';
import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import { oneKeyHead, ONE_KEY_TAIL } from '../codec/rdb/raw-value.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import type { ValueSink } from '../codec/rdb/value-sink.js';
import { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';
import { pieces } from '../util/buffer-pieces.js';
import { writeDecimal } from '../util/decimal-text.js';

/**
 * A fingerprint of an aggregate's content (list, set, hash, zset, stream entries), from its
 * elements whatever the encoding: restore --verify compares a big key's print from the backup with
 * the print of the target's DUMP of it. DEBUG DIGEST-VALUE costs the target two SHA-1 per element
 * on its one thread (13 s for the five issue-19 keys, twice the whole restore by pipe), a DUMP of
 * them 0.7 s; and the same SHA-1 in JavaScript was the client's bound.
 *
 * Hand-written because it runs per element at the reader's pace: two 32-bit multiply-rotate lanes
 * per element (murmur3's steps), summed for the unordered types (a set, a hash, a zset in any
 * order and encoding gives the same print) and chained for the ordered ones. Integer elements
 * count as their decimal text and scores as their double (-0 as 0), so an intset and a hashtable,
 * or a listpack score and a binary one, print the same. 64 bits against accidental differences,
 * not an adversary; the element count is kept in the clear for the message.
 */
export class ContentPrint {
  private type: RedisValue['type'] | null = null;
  private count = 0;
  private a = 0;
  private b = 0;
  /** The current element's lanes (hash()), and the field / member waiting for its value / score. */
  private h1 = 0;
  private h2 = 0;
  private f1 = 0;
  private f2 = 0;
  private pairIndex = 0;
  private readonly tmp = Buffer.allocUnsafe(32);
  private readonly dbl = new Float64Array(1);
  private readonly dblWords = new Int32Array(this.dbl.buffer);

  /** Starts a value of `type`; false (nothing printed) for a type without elements here. */
  start(type: RedisValue['type']): boolean {
    this.type = type === 'list' || type === 'set' || type === 'hash' || type === 'zset' || type === 'stream' ? type : null;
    this.count = 0;
    this.a = this.b = 0;
    this.pairIndex = 0;
    return this.type !== null;
  }

  /** Elements so far: list items, set members, hash pairs, zset members, stream entries. */
  get elements(): number {
    return this.count;
  }

  str(b: Uint8Array, start: number, end: number): void {
    this.hash(b, start, end);
    switch (this.type) {
      case 'list':
        this.chain();
        return;
      case 'set':
        this.add(this.h1, this.h2);
        return;
      case 'hash':
        if ((this.pairIndex++ & 1) === 0) this.hold();
        else this.pair();
        return;
      case 'zset':
        this.hold(); // the member; its score follows
        return;
      default:
        return;
    }
  }

  int(v: number | bigint): void {
    this.str(this.tmp, 0, writeDecimal(v, this.tmp));
  }

  score(x: number): void {
    if (this.type !== 'zset') return;
    this.dbl[0] = x === 0 ? 0 : x;
    this.hashWords(this.dblWords[0]!, this.dblWords[1]!);
    this.pair();
  }

  /** A canonical score text (isCanonicalScore): its number. */
  scoreText(b: Uint8Array, start: number, end: number): void {
    this.score(Number(latin1(b as Buffer, start, end)));
  }

  streamEntry(ms: bigint, seq: bigint, fields: readonly Buffer[]): void {
    if (this.type !== 'stream') return;
    this.count++;
    this.hashId(ms);
    this.link();
    this.hashId(seq);
    this.link();
    for (const f of fields) {
      this.hash(f, 0, f.length);
      this.link();
    }
  }

  /** The print: type, element count and the two lanes; null when start() refused the type. */
  result(): string | null {
    if (this.type === null) return null;
    return `${this.type} of ${this.count} elements, content ${hex(this.a)}${hex(this.b)}`;
  }

  /** A value the reader decoded whole, element by element. */
  value(v: RedisValue): void {
    if (!this.start(v.type)) return;
    switch (v.type) {
      case 'list':
      case 'set':
        for (const e of v.value) this.str(e, 0, e.length);
        return;
      case 'hash':
        for (const [f, x] of v.value) {
          this.str(f, 0, f.length);
          this.str(x, 0, x.length);
        }
        return;
      case 'zset':
        for (const [m, s] of v.value) {
          this.str(m, 0, m.length);
          this.score(s);
        }
        return;
      case 'stream':
        for (const e of v.value.entries) this.streamEntry(e.id.ms, e.id.seq, e.fields);
        return;
      default:
        return;
    }
  }

  private hold(): void {
    this.f1 = this.h1;
    this.f2 = this.h2;
  }

  /** A field and value (member and score): one element of an unordered type. */
  private pair(): void {
    this.add(fmix(this.f1 + Math.imul(this.h1, 0x9e3779b1)), fmix(this.f2 ^ Math.imul(this.h2, 0x85ebca77)));
  }

  private add(x: number, y: number): void {
    this.count++;
    this.a = (this.a + x) | 0;
    this.b = (this.b + y) | 0;
  }

  /** The next element of an ordered type. */
  private chain(): void {
    this.count++;
    this.link();
  }

  private link(): void {
    this.a = fmix(this.a ^ this.h1);
    this.b = fmix((this.b + this.h2) | 0);
  }

  private hash(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let x = 0x9747b28c ^ n;
    let y = 0x3c6ef372 ^ n;
    let p = start;
    for (; p + 4 <= end; p += 4) {
      const k = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
      x = (Math.imul(rotl(x ^ Math.imul(k, 0xcc9e2d51), 13), 5) + 0xe6546b64) | 0;
      y = (Math.imul(rotl(y ^ Math.imul(k, 0x1b873593), 17), 9) + 0x38495ab5) | 0;
    }
    let k = 0;
    for (let s = 0; p < end; p++, s += 8) k |= b[p]! << s;
    this.h1 = fmix(x ^ Math.imul(k, 0xcc9e2d51));
    this.h2 = fmix(y ^ Math.imul(k, 0x1b873593) ^ this.h1);
  }

  /** A stream ID half as its two 32-bit words (no text: a string per entry was most of a stream's print). */
  private hashId(v: bigint): void {
    const n = Number(v);
    if (n <= Number.MAX_SAFE_INTEGER) this.hashWords(n | 0, Math.floor(n / 0x100000000) | 0);
    else this.hashWords(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  private hashWords(lo: number, hi: number): void {
    this.h1 = fmix(Math.imul(lo, 0xcc9e2d51) ^ rotl(hi, 16));
    this.h2 = fmix(Math.imul(hi, 0x1b873593) ^ this.h1);
  }
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** murmur3's finalizer: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hex(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

/** A ValueSink that prints the one value of a DUMP payload as it is read. */
class PrintSink implements ValueSink {
  readonly p = new ContentPrint();
  print: string | null = null;
  readonly nodesInFileOrder = true;
  readonly keepsNoViews = true;

  key(_db: number, _b: Buffer, _s: number, _e: number, rdbType: number, _x: number | null, valkey: boolean): boolean {
    this.p.start(redisTypeOf(rdbType, valkey));
    return true;
  }
  str(b: Buffer, start: number, end: number): void {
    this.p.str(b, start, end);
  }
  int(v: number | bigint): void {
    this.p.int(v);
  }
  score(x: number): void {
    this.p.score(x);
  }
  scoreText(b: Buffer, start: number, end: number): void {
    this.p.scoreText(b, start, end);
  }
  streamNode(entries: readonly StreamEntry[]): void {
    for (const e of entries) this.p.streamEntry(e.id.ms, e.id.seq, e.fields);
  }
  streamEnd(): void {}
  value(v: RedisValue): void {
    this.p.value(v);
  }
  end(): void {
    this.print = this.p.result();
  }
  discard(): void {}
  func(): void {}
}

/**
 * The print of the value in a DUMP payload (type byte | value | u16le RDB version | CRC-64), given
 * in pieces, read element by element: never joined, never decoded whole. The CRC is not checked:
 * the print covers every element.
 */
export async function dumpPrint(payload: readonly Buffer[], name: string): Promise<string | null> {
  const size = payload.reduce((n, p) => n + p.length, 0);
  if (size < 11) throw new FormatError(name, 0, `expected a DUMP payload of at least 11 bytes, found ${size}`);
  const [type, lo, hi] = [0, size - 10, size - 9].map((i) => Buffer.concat(pieces(payload, i, i + 1))[0]!) as [number, number, number];
  if (type === 0xf3) throw new FormatError(name, 0, 'expected a value type byte (KEY_META-prefixed RDB 13 payloads are not supported)');
  // Framed as a one-key RDB (magic, type, empty key) without a copy of the payload.
  const parts = [oneKeyHead(type, lo | (hi << 8)), ...pieces(payload, 1, size - 10), ONE_KEY_TAIL];
  const sink = new PrintSink();
  const dec = new RdbDecoder(ByteSource.fromStream((async function* () { yield* parts; })(), name, true), { sink });
  while (await dec.nextBatch(64)) {}
  return sink.print;
}
