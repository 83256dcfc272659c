import { RdbType, redisTypeOf } from '../codec/rdb/constants.js';
import { latin1 } from '../codec/rdb/blob-error.js';
import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import type { StreamMeta, ValueSink } from '../codec/rdb/value-sink.js';
import { keySelected, type KeyFilter } from './key-filter.js';
import { JsonOut } from './json-out.js';
import { bytes, functionJsonLine, keyHeadJson, objectKey, scoreJson, streamEntriesJson, streamTailJson, valueJson, type ByteEncoding } from './key-json.js';

/**
 * Writes rdb-dump's jsonl straight from the reader's validating pass (ReadRdbOptions.sink): the
 * same bytes as writeKeyJson on the decoded model, without building the model. Lists, hashes and
 * packed zsets (stored sorted) stream out as their elements arrive; sets and hashtable/skiplist
 * zsets are collected because they print sorted, as latin1 strings (whose code-unit order is the
 * bytes' memcmp order). Big streams stream out node by node, their groups after the entries.
 */

/** What the elements of the open key are written as. */
const enum Shape {
  String,
  List,
  Set,
  /** Listpack/ziplist zsets: sorted by (score, member) as stored. */
  PackedZset,
  /** Hashtable/skiplist zsets: collected and sorted. */
  Zset,
  Hash,
  /** A stream whose entries are being written (streamNode). */
  Stream,
  Model,
}

/** A pending member of a hashtable/skiplist zset. */
interface Member {
  m: string;
  score: number;
}

const memberOrder = (a: Member, b: Member): number => a.score - b.score || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0);

export class KeyJsonSink implements ValueSink {
  readonly out: JsonOut;
  /** Keys written (selected and complete). */
  keys = 0;
  /** Output offset where the open key's line starts, -1 when none is open. */
  private lineStart = -1;
  private shape = Shape.Model;
  private rdbType = 0;
  private index = 0;
  private setMembers: string[] = [];
  private zsetMembers: Member[] = [];
  /** The skiplist zset member whose score comes next. */
  private member = '';
  /** Decimal text of integer elements, and latin1 members turned back into bytes. */
  private tmp = Buffer.allocUnsafe(256);

  constructor(
    private readonly encoding: ByteEncoding,
    private readonly filter: KeyFilter,
    /** Where the lines go. */
    out = new JsonOut(1 << 22),
  ) {
    this.out = out;
  }

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null): boolean {
    const type = redisTypeOf(rdbType);
    if (!keySelected(this.filter, db, b, start, end, type)) return false;
    this.lineStart = this.out.pos;
    this.rdbType = rdbType;
    this.index = 0;
    keyHeadJson(this.out, db, b, start, end, type, expireAtMs);
    // The reader sends either elements or (for the types it decodes whole) one value().
    this.shape =
      type === 'string'
        ? Shape.String
        : type === 'list'
          ? Shape.List
          : type === 'set'
            ? Shape.Set
            : type === 'hash'
              ? Shape.Hash
              : type !== 'zset'
                ? Shape.Model
                : rdbType === RdbType.ZSET_ZIPLIST || rdbType === RdbType.ZSET_LISTPACK
                  ? Shape.PackedZset
                  : Shape.Zset;
    return true;
  }

  str(b: Buffer, start: number, end: number): void {
    const w = this.out;
    switch (this.shape) {
      case Shape.String:
        bytes(w, b, this.encoding, start, end);
        return;
      case Shape.List:
        w.byte(this.index++ ? 0x2c : 0x5b);
        bytes(w, b, this.encoding, start, end);
        this.boundary();
        return;
      case Shape.Hash: {
        const i = this.index++;
        if (i & 1) {
          w.byte(0x3a);
          bytes(w, b, this.encoding, start, end);
          this.boundary();
        } else {
          w.ascii(i ? ',' : '{"fields":{');
          objectKey(w, b, this.encoding, start, end);
        }
        return;
      }
      case Shape.Set:
        this.setMembers.push(latin1(b, start, end));
        return;
      case Shape.PackedZset:
        // `[member` now, `,"score"]` when the score comes (the first opens the array, end() closes it).
        w.ascii(this.index++ ? ',[' : '[[');
        bytes(w, b, this.encoding, start, end);
        return;
      case Shape.Zset:
        this.member = latin1(b, start, end);
        return;
      case Shape.Model:
        return;
    }
  }

  int(v: number | bigint): void {
    const s = String(v);
    if (this.shape === Shape.Set) this.setMembers.push(s);
    else this.str(this.tmp, 0, this.tmp.write(s, 0, 'latin1'));
  }

  score(x: number): void {
    if (this.shape === Shape.PackedZset) {
      scoreJson(this.out, x);
      this.boundary();
    } else this.zsetMembers.push({ m: this.member, score: x });
  }

  scoreText(b: Buffer, start: number, end: number): void {
    if (this.shape !== Shape.PackedZset) {
      this.score(Number(latin1(b, start, end)));
      return;
    }
    const w = this.out;
    w.ascii(',"');
    w.raw(b, start, end);
    w.ascii('"]');
    this.boundary();
  }

  value(v: RedisValue): void {
    this.shape = Shape.Model;
    valueJson(this.out, v, this.rdbType, this.encoding);
  }

  streamNode(entries: readonly StreamEntry[]): void {
    if (this.shape !== Shape.Stream) this.streamStart();
    streamEntriesJson(this.out, entries, this.index, this.encoding);
    this.index += entries.length;
    this.boundary();
  }

  streamEnd(meta: StreamMeta): void {
    if (this.shape !== Shape.Stream) this.streamStart();
    streamTailJson(this.out, meta, this.rdbType);
    this.shape = Shape.Model;
  }

  /** Opens a streamed stream's value (its `entries` array). */
  private streamStart(): void {
    this.shape = Shape.Stream;
    this.out.ascii('{"entries":[');
  }

  end(): void {
    const w = this.out;
    switch (this.shape) {
      case Shape.List:
        w.byte(0x5d);
        break;
      case Shape.Hash:
        w.ascii('}}');
        break;
      case Shape.Set: {
        const ms = this.setMembers.sort();
        w.byte(0x5b);
        for (let i = 0; i < ms.length; i++) {
          if (i) w.byte(0x2c);
          this.text(ms[i]!);
          this.boundary();
        }
        w.byte(0x5d);
        break;
      }
      case Shape.PackedZset:
        w.byte(0x5d);
        break;
      case Shape.Zset: {
        // Hashtable/skiplist zsets are saved in no useful order (skiplists backwards).
        const ms = this.zsetMembers.sort(memberOrder);
        for (let i = 0; i < ms.length; i++) {
          w.ascii(i ? ',[' : '[[');
          this.text(ms[i]!.m);
          scoreJson(this.out, ms[i]!.score);
          this.boundary();
        }
        w.byte(0x5d);
        break;
      }
      default:
        break;
    }
    w.ascii('}\n');
    this.keys++;
    this.clear();
  }

  discard(): void {
    if (this.lineStart >= 0) this.out.pos = this.lineStart;
    this.clear();
  }

  func(code: Buffer): void {
    this.out.text(`${functionJsonLine(code)}\n`);
  }

  /** The open line's text so far is final: a streamed output may drain it (see JsonOut.boundary). */
  private boundary(): void {
    if (this.out.boundary()) this.lineStart = 0;
  }

  private clear(): void {
    this.lineStart = -1;
    this.setMembers = [];
    this.zsetMembers = [];
  }

  /** A member kept as latin1 text: written from the string when ASCII, else from its bytes. */
  private text(s: string): void {
    if (this.encoding === 'utf8' && this.out.asciiStr(s)) return;
    if (this.tmp.length < s.length) this.tmp = Buffer.allocUnsafe(Math.max(s.length, this.tmp.length * 2));
    this.tmp.write(s, 0, 'latin1');
    bytes(this.out, this.tmp, this.encoding, 0, s.length);
  }
}
