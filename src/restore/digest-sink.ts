import { latin1 } from '../codec/rdb/blob-error.js';
import { redisTypeOf } from '../codec/rdb/constants.js';
import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import { packedScore } from '../codec/rdb/score-text.js';
import type { StreamMeta, ValueSink } from '../codec/rdb/value-sink.js';
import { ContentPrint } from './content-print.js';
import { acceptableDigests, Digester, EXPIRE_MARK } from './value-digest.js';
import { writeDecimal } from '../util/decimal-text.js';

/**
 * A key the sink has digested: what DEBUG DIGEST-VALUE may answer for it (null: not digestable),
 * or for an aggregate of more than `printFrom` elements its content print instead (checked
 * against the target's DUMP of it, which costs the target far less than DIGEST-VALUE).
 */
export interface DigestedKey {
  db: number;
  key: Buffer;
  expireAtMs: number | null;
  want: string[] | null;
  print: string | null;
}

/** Aggregates with more elements than this are checked by content print, not DIGEST-VALUE. */
export const PRINT_FROM = 1024;

const enum Shape {
  /** Skipped, or a value the reader decodes whole (value()). */
  None,
  String,
  /** mixDigest per element, in order. */
  List,
  /** xorDigest per member. */
  Set,
  /** Per pair: mix field, mix value into an element digest, xor that in. */
  Hash,
  /** Per member: mix member, mix score text into an element digest, xor that in. */
  Zset,
  /** Per entry, in ID order: mix "ms.seq", then each field and value (node by node, streamNode). */
  Stream,
}

const SHAPES: Partial<Record<RedisValue['type'], Shape>> = { string: Shape.String, list: Shape.List, set: Shape.Set, hash: Shape.Hash, zset: Shape.Zset, stream: Shape.Stream };

/**
 * The DEBUG DIGEST-VALUE of each key (the same as valueDigest of its decoded value) straight from
 * the reader's validating pass (ReadRdbOptions.sink), element by element: memory is two 20-byte
 * digests per open key whatever its size; streams arrive node by node in file order (streamNode),
 * never decoded whole: nodes out of ID order (Redis never writes them; it would load them sorted)
 * leave the stream without an expected digest (its key is counted, not compared).
 * Types the reader decodes whole (modules, zipmaps, hash-field TTLs) go through acceptableDigests. Completed keys collect in `done` until
 * the caller takes them (after each reader batch).
 */
export class DigestSink implements ValueSink {
  done: DigestedKey[] = [];
  private readonly g = new Digester();
  private shape = Shape.None;
  private open: { db: number; key: Buffer; expireAtMs: number | null } | null = null;
  /** Set by value(): the whole value's digests (or null), or 'drop' when `adapt` refused it. */
  private whole: string[] | null | 'drop' | undefined = undefined;
  private readonly d = Buffer.alloc(20);
  /** A zset holding a -0 score may come back as +0 (a listpack stores it as the integer 0): the digest with +0. */
  private readonly alt = Buffer.alloc(20);
  private negZero = false;
  private readonly ele = Buffer.alloc(20);
  private readonly eleAlt = Buffer.alloc(20);
  /** Member digest (mixDigest of the member) of the zset member waiting for its score. */
  private readonly member = Buffer.alloc(20);
  private pairIndex = 0;
  private readonly tmp = Buffer.allocUnsafe(32);
  /** The last stream entry digested, and whether the nodes came in ID order so far. */
  private lastMs = -1n;
  private lastSeq = 0n;
  private ordered = true;
  /** Every aggregate's content print; once it passes printFrom elements the SHA-1 work stops (big). */
  private readonly p = new ContentPrint();
  private printing = false;
  private big = false;

  /** Streams come node by node as the file holds them, in resumable steps (bounded memory). */
  readonly nodesInFileOrder = true;

  constructor(
    /** The target's score text (DIGEST-VALUE prints scores as ZSCORE does). */
    private readonly scoreFormat: (x: number) => string,
    /** Which keys to digest (the rest are only validated). */
    private readonly select: (db: number, key: Buffer, expireAtMs: number | null) => boolean = () => true,
    /** Applied to a value the reader decoded whole; null drops the key (not restored). */
    private readonly adapt: (v: RedisValue) => RedisValue | null = (v) => v,
    private readonly printFrom = PRINT_FROM,
  ) {}

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey = false): boolean {
    const key = Buffer.from(b.subarray(start, end));
    if (!this.select(db, key, expireAtMs)) return false;
    this.open = { db, key, expireAtMs };
    this.whole = undefined;
    this.negZero = false;
    this.pairIndex = 0;
    this.lastMs = -1n;
    this.ordered = true;
    const type = redisTypeOf(rdbType, valkey);
    this.shape = SHAPES[type] ?? Shape.None;
    this.big = false;
    this.printing = this.shape !== Shape.None && this.p.start(type);
    if (this.shape === Shape.None) return true;
    this.g.start(this.d, type);
    this.d.copy(this.alt);
    return true;
  }

  str(b: Buffer, start: number, end: number): void {
    if (this.printing) {
      this.p.str(b, start, end);
      if (this.bigNow()) return;
    }
    const g = this.g;
    switch (this.shape) {
      case Shape.String:
      case Shape.List:
        g.mix(this.d, b, start, end);
        return;
      case Shape.Set:
        g.xor(this.d, b, start, end);
        return;
      case Shape.Hash:
        if ((this.pairIndex++ & 1) === 0) {
          this.ele.fill(0);
          g.mix(this.ele, b, start, end);
        } else {
          g.mix(this.ele, b, start, end);
          g.xor(this.d, this.ele);
        }
        return;
      case Shape.Zset:
        this.member.fill(0);
        g.mix(this.member, b, start, end);
        return;
      case Shape.None:
        return;
    }
  }

  int(v: number | bigint): void {
    // Redis digests integer-encoded elements as their decimal text (ll2string).
    this.str(this.tmp, 0, writeDecimal(v, this.tmp));
  }

  score(x: number): void {
    if (this.shape !== Shape.Zset) return;
    if (this.printing) {
      this.p.score(x);
      if (this.bigNow()) return;
    }
    const text = this.scoreFormat(x);
    this.memberScore(this.tmp, this.tmp.write(text, 0, 'latin1'), this.ele);
    this.g.xor(this.d, this.ele);
    if (Object.is(x, -0)) {
      this.negZero = true;
      this.memberScore(this.tmp, this.tmp.write(this.scoreFormat(0), 0, 'latin1'), this.eleAlt);
      this.g.xor(this.alt, this.eleAlt);
    } else this.g.xor(this.alt, this.ele);
  }

  scoreText(b: Buffer, start: number, end: number): void {
    // Canonical for formatScore, which is not the target's format beyond plain integers: short
    // integers print the same in every format, the rest are parsed and printed again.
    if (this.shape === Shape.Zset && plainInteger(b, start, end)) {
      if (this.printing) {
        this.p.scoreText(b, start, end);
        if (this.bigNow()) return;
      }
      const n = end - start;
      b.copy(this.tmp, 0, start, end);
      this.memberScore(this.tmp, n, this.ele);
      this.g.xor(this.d, this.ele);
      this.g.xor(this.alt, this.ele);
      return;
    }
    this.score(packedScore(latin1(b, start, end)));
  }

  streamNode(entries: readonly StreamEntry[]): void {
    if (this.shape !== Shape.Stream) return;
    const g = this.g;
    const first = entries[0]!.id;
    if (first.ms < this.lastMs || (first.ms === this.lastMs && first.seq <= this.lastSeq)) this.ordered = false;
    const last = entries[entries.length - 1]!.id;
    this.lastMs = last.ms;
    this.lastSeq = last.seq;
    if (this.printing) {
      for (const e of entries) this.p.streamEntry(e.id.ms, e.id.seq, e.fields);
      if (this.bigNow()) return;
    }
    for (const e of entries) {
      g.mix(this.d, this.tmp, 0, this.tmp.write(`${e.id.ms}.${e.id.seq}`, 0, 'latin1'));
      for (const f of e.fields) g.mix(this.d, f);
    }
  }

  streamEnd(meta: StreamMeta): void {
    // adapt() judges a whole value: what follows the entries (groups, IDMP state) is all it weighs.
    if (this.open && this.adapt({ type: 'stream', value: { entries: [], ...meta } }) === null) this.whole = 'drop';
  }

  value(v: RedisValue): void {
    const open = this.open;
    if (!open) return;
    this.shape = Shape.None;
    this.printing = false;
    const adapted = this.adapt(v);
    this.whole = adapted === null ? 'drop' : acceptableDigests(adapted, open.expireAtMs !== null, this.scoreFormat);
  }

  end(): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (this.whole === 'drop') return;
    let want: string[] | null;
    let print: string | null = null;
    if (this.whole !== undefined) want = this.whole;
    else if (this.shape === Shape.None || !this.ordered) want = null; // a module the reader did not decode, a stream out of order
    else if (this.big) {
      want = null;
      print = this.p.result();
    } else {
      const ttl = open.expireAtMs !== null;
      want = [this.hex(this.d, ttl)];
      if (this.negZero) want.push(this.hex(this.alt, ttl));
    }
    this.shape = Shape.None;
    this.done.push({ db: open.db, key: open.key, expireAtMs: open.expireAtMs, want, print });
  }

  discard(): void {
    this.open = null;
    this.shape = Shape.None;
    this.printing = false;
  }

  func(): void {}

  /** Completed keys since the last call. */
  take(): DigestedKey[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  /** True once the open aggregate has passed printFrom elements: its SHA-1 digest is dropped. */
  private bigNow(): boolean {
    if (!this.big && this.p.elements > this.printFrom) this.big = true;
    return this.big;
  }

  /** ele = mixDigest(mixDigest(0, member), score text), from the member digest kept by str(). */
  private memberScore(text: Buffer, n: number, ele: Buffer): void {
    this.member.copy(ele);
    this.g.mix(ele, text, 0, n);
  }

  private hex(d: Buffer, ttl: boolean): string {
    if (!ttl) return d.toString('hex');
    const c = Buffer.from(d);
    this.g.xor(c, EXPIRE_MARK);
    return c.toString('hex');
  }
}

/** Up to 15 digits with an optional minus and no leading zero (or "0"): every score format prints these as they are. */
function plainInteger(b: Buffer, start: number, end: number): boolean {
  let p = start;
  if (b[p] === 0x2d) p++;
  const n = end - p;
  if (n < 1 || n > 15 || (b[p] === 0x30 && (n > 1 || p > start))) return false;
  for (; p < end; p++) if (b[p]! < 0x30 || b[p]! > 0x39) return false;
  return true;
}
