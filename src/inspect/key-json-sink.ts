import { RdbType, redisTypeOf } from '../codec/rdb/constants.js';
import { latin1, parseScoreText } from '../codec/rdb/blob-error.js';
import type { RedisType, RedisValue } from '../codec/rdb/model.js';
import type { ValueSink } from '../codec/rdb/value-sink.js';
import { globMatch } from './glob.js';
import { JsonOut } from './json-out.js';
import { bytes, functionJsonLine, keyHeadJson, objectKey, valueJson, zsetPairJson, type ByteEncoding } from './key-json.js';

/**
 * Writes rdb-dump's jsonl straight from the reader's validating pass (ReadRdbOptions.sink): the
 * same bytes as writeKeyJson on the decoded model, without building the model. Lists and hashes
 * stream out as their elements arrive; sets and skiplist zsets are collected (as latin1 strings,
 * whose code-unit order is the bytes' memcmp order) because they print sorted.
 */

export interface KeyFilter {
  db?: number;
  type?: RedisType;
  match?: Buffer;
}

/** What the elements of the open key are written as. */
const enum Shape {
  String,
  List,
  Set,
  Zset,
  Hash,
  Model,
}

/** Pending members of a set or zset. */
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
  private members: Member[] = [];
  /** Decimal text of integer elements, and latin1 members turned back into bytes. */
  private tmp = Buffer.allocUnsafe(256);

  constructor(
    private readonly encoding: ByteEncoding,
    private readonly filter: KeyFilter,
    /** An output buffer to reuse. */
    reuse?: ArrayBuffer,
  ) {
    this.out = new JsonOut(1 << 22, reuse);
  }

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null): boolean {
    const type = redisTypeOf(rdbType);
    const f = this.filter;
    if ((f.db !== undefined && db !== f.db) || (f.type !== undefined && type !== f.type) || (f.match && !globMatch(f.match, b.subarray(start, end)))) return false;
    this.lineStart = this.out.pos;
    this.rdbType = rdbType;
    this.index = 0;
    keyHeadJson(this.out, db, b, start, end, type, expireAtMs);
    // The reader sends either elements or (for the types it decodes whole) one value().
    this.shape = type === 'string' ? Shape.String : type === 'list' ? Shape.List : type === 'set' ? Shape.Set : type === 'zset' ? Shape.Zset : type === 'hash' ? Shape.Hash : Shape.Model;
    return true;
  }

  str(b: Buffer, start: number, end: number): void {
    const w = this.out;
    const i = this.index++;
    switch (this.shape) {
      case Shape.String:
        bytes(w, b, this.encoding, start, end);
        return;
      case Shape.List:
        w.byte(i ? 0x2c : 0x5b);
        bytes(w, b, this.encoding, start, end);
        return;
      case Shape.Hash:
        if (i & 1) {
          w.byte(0x3a);
          bytes(w, b, this.encoding, start, end);
        } else {
          w.ascii(i ? ',' : '{"fields":{');
          objectKey(w, b, this.encoding, start, end);
        }
        return;
      case Shape.Set:
        this.members.push({ m: latin1(b, start, end), score: 0 });
        return;
      case Shape.Zset:
        // Listpack/ziplist zsets store the score as the element after its member.
        if (i & 1 && this.packedZset()) this.members[this.members.length - 1]!.score = parseScoreText(latin1(b, start, end));
        else this.members.push({ m: latin1(b, start, end), score: 0 });
        return;
      case Shape.Model:
        return;
    }
  }

  int(v: number | bigint): void {
    const s = String(v);
    if (this.shape === Shape.Set || (this.shape === Shape.Zset && !(this.index & 1 && this.packedZset()))) {
      this.index++;
      this.members.push({ m: s, score: 0 });
    } else if (this.shape === Shape.Zset) {
      this.index++;
      this.members[this.members.length - 1]!.score = Number(v);
    } else this.str(this.tmp, 0, this.tmp.write(s, 0, 'latin1'));
  }

  score(x: number): void {
    this.members[this.members.length - 1]!.score = x;
  }

  value(v: RedisValue): void {
    this.shape = Shape.Model;
    valueJson(this.out, v, this.rdbType, this.encoding);
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
      case Shape.Set:
        this.members.sort(memberOrder);
        w.byte(0x5b);
        this.members.forEach((e, i) => {
          if (i) w.byte(0x2c);
          bytes(w, this.tmpOf(e.m), this.encoding, 0, e.m.length);
        });
        w.byte(0x5d);
        break;
      case Shape.Zset:
        // Hashtable/skiplist zsets are saved in no useful order; packed ones are sorted already.
        if (!this.packedZset()) this.members.sort(memberOrder);
        w.byte(0x5b);
        this.members.forEach((e, i) => zsetPairJson(w, i, this.tmpOf(e.m), 0, e.m.length, e.score, this.encoding));
        w.byte(0x5d);
        break;
      default:
        break;
    }
    w.ascii('}\n');
    this.members = [];
    this.lineStart = -1;
    this.keys++;
  }

  discard(): void {
    if (this.lineStart >= 0) this.out.pos = this.lineStart;
    this.lineStart = -1;
    this.members = [];
  }

  func(code: Buffer): void {
    this.out.text(`${functionJsonLine(code)}\n`);
  }

  private packedZset(): boolean {
    return this.rdbType === RdbType.ZSET_ZIPLIST || this.rdbType === RdbType.ZSET_LISTPACK;
  }

  /** A latin1 member back as bytes, in a reused buffer. */
  private tmpOf(s: string): Buffer {
    if (this.tmp.length < s.length) this.tmp = Buffer.allocUnsafe(Math.max(s.length, this.tmp.length * 2));
    this.tmp.write(s, 0, 'latin1');
    return this.tmp;
  }
}
