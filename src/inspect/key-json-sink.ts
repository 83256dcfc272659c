import { RdbType, redisTypeOf } from '../codec/rdb/constants.js';
import { latin1 } from '../codec/rdb/blob-error.js';
import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import type { StreamMeta, ValueSink } from '../codec/rdb/value-sink.js';
import { keySelected, type KeyFilter } from './key-filter.js';
import { JsonOut } from './json-out.js';
import { sortIndexes } from '../util/sort-indexes.js';
import { bytes, bytesArray, functionJsonLine, keyHeadJson, objectKey, scoreJson, streamEntriesJson, streamTailJson, valueJson, type ByteEncoding } from './key-json.js';

/**
 * Writes rdb-dump's jsonl straight from the reader's validating pass (ReadRdbOptions.sink): the
 * same bytes as writeKeyJson on the decoded model, without building the model. Lists, hashes and
 * packed zsets (stored sorted) stream out as their elements arrive; sets and hashtable/skiplist
 * zsets are collected because they print sorted (see PendingMembers). Big streams stream out
 * node by node, their groups after the entries.
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
  /** An RDB 14 array whose elements are being written (arrayElement). */
  Array,
  /** A Valkey path hash whose paths are being written (pathHashPath). */
  PathHash,
  Model,
}

/**
 * The members of a set or hashtable/skiplist zset, held until the key ends to be printed sorted:
 * their bytes back to back with offsets and scores in typed arrays (a string and an object per
 * member cost several times the bytes on a key of millions).
 */
class PendingMembers {
  bytes = Buffer.allocUnsafe(1 << 12);
  len = 0;
  /** Member i is bytes[starts[i], starts[i + 1]) (the last ends at `len`). */
  starts = new Uint32Array(256);
  /** Zsets only (a set's members have none). */
  scores = new Float64Array(0);
  n = 0;

  add(b: Buffer, start: number, end: number): void {
    const size = end - start;
    if (this.len + size > this.bytes.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.len + size));
      this.bytes.copy(nb, 0, 0, this.len);
      this.bytes = nb;
    }
    if (this.n === this.starts.length) {
      const ns = new Uint32Array(this.n * 2);
      ns.set(this.starts);
      this.starts = ns;
    }
    this.starts[this.n++] = this.len;
    this.len += b.copy(this.bytes, this.len, start, end);
  }

  /** The score of the member added last. */
  score(x: number): void {
    if (this.scores.length < this.starts.length) {
      const nf = new Float64Array(this.starts.length);
      nf.set(this.scores);
      this.scores = nf;
    }
    this.scores[this.n - 1] = x;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  end(i: number): number {
    return i + 1 < this.n ? this.starts[i + 1]! : this.len;
  }

  /** Member indexes in byte order (memcmp, then length), or by score first (`byScore`). */
  order(byScore: boolean): Uint32Array {
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    const b = this.bytes;
    const scores = this.scores;
    const bytesOrder = (x: number, y: number): number => {
      const xe = this.end(x);
      const ye = this.end(y);
      for (let i = this.starts[x]!, j = this.starts[y]!; i < xe && j < ye; i++, j++) if (b[i] !== b[j]) return b[i]! - b[j]!;
      return xe - this.starts[x]! - (ye - this.starts[y]!);
    };
    return sortIndexes(idx, byScore ? (x, y) => scores[x]! - scores[y]! || bytesOrder(x, y) : bytesOrder);
  }
}

export class KeyJsonSink implements ValueSink {
  readonly out: JsonOut;
  /** Keys written (selected and complete). */
  keys = 0;
  /** Set when the stream nodes are known to be in key order (rdb-dump checked the piece first): they are taken node by node in steps, never held whole (ValueSink.nodesInFileOrder). */
  nodesInFileOrder = false;
  /** Output offset where the open key's line starts, -1 when none is open. */
  private lineStart = -1;
  private shape = Shape.Model;
  private rdbType = 0;
  private index = 0;
  private members = new PendingMembers();
  /** Decimal text of integer elements. */
  private tmp = Buffer.allocUnsafe(256);

  constructor(
    private readonly encoding: ByteEncoding,
    private readonly filter: KeyFilter,
    /** Where the lines go. */
    out = new JsonOut(1 << 22),
  ) {
    this.out = out;
  }

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey = false): boolean {
    const type = redisTypeOf(rdbType, valkey);
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
              : type === 'array'
                ? Shape.Array
              : type === 'pathhash'
                ? Shape.PathHash
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
        this.members.add(b, start, end);
        return;
      case Shape.PackedZset:
        // `[member` now, `,"score"]` when the score comes (the first opens the array, end() closes it).
        w.ascii(this.index++ ? ',[' : '[[');
        bytes(w, b, this.encoding, start, end);
        return;
      case Shape.Zset:
        this.members.add(b, start, end);
        return;
      case Shape.Model:
        return;
    }
  }

  int(v: number | bigint): void {
    this.str(this.tmp, 0, this.tmp.write(String(v), 0, 'latin1'));
  }

  score(x: number): void {
    if (this.shape === Shape.PackedZset) {
      scoreJson(this.out, x);
      this.boundary();
    } else this.members.score(x);
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

  /** Opens an array value (same JSON as valueJson's: insert cursor, then the elements). */
  arrayStart(insertIdx: bigint | null): void {
    this.out.ascii(`{"insert_idx":${insertIdx === null ? 'null' : `"${insertIdx}"`},"elements":[`);
  }

  arrayElement(index: bigint, b: Buffer, start: number, end: number): void {
    const w = this.out;
    w.ascii(`${this.index++ ? ',' : ''}{"idx":"${index}","val":`);
    bytes(w, b, this.encoding, start, end);
    w.byte(0x7d);
    this.boundary();
  }

  /** One path of a path hash (same JSON as valueJson's: `{"paths":{path:{field:value}}}`). */
  pathHashPath(path: Buffer, fields: ReadonlyArray<readonly [Buffer, Buffer]>): void {
    const w = this.out;
    w.ascii(this.index++ ? ',' : '{"paths":{');
    objectKey(w, path, this.encoding);
    w.ascii(':{');
    for (let j = 0; j < fields.length; j++) {
      const [f, v] = fields[j]!;
      if (j) w.byte(0x2c);
      objectKey(w, f, this.encoding);
      w.byte(0x3a);
      bytes(w, v, this.encoding);
    }
    w.byte(0x7d);
    this.boundary();
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
      case Shape.Array:
        w.ascii(']}');
        break;
      case Shape.PathHash:
        w.ascii(this.index ? '}}' : '{"paths":{}}');
        break;
      case Shape.Set: {
        const ms = this.members;
        const order = ms.order(false);
        w.byte(0x5b);
        for (let k = 0; k < order.length; k++) {
          if (k) w.byte(0x2c);
          bytes(w, ms.bytes, this.encoding, ms.start(order[k]!), ms.end(order[k]!));
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
        const ms = this.members;
        const order = ms.order(true);
        for (let k = 0; k < order.length; k++) {
          const i = order[k]!;
          w.ascii(k ? ',[' : '[[');
          bytes(w, ms.bytes, this.encoding, ms.start(i), ms.end(i));
          scoreJson(this.out, ms.scores[i]!);
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

  /** A Valkey UPDATE command: `{"db":N,"command":[args]}` (arguments as values are: text or base64:). */
  update(db: number, argv: readonly Buffer[]): void {
    this.out.ascii(`{"db":${db},"command":`);
    bytesArray(this.out, argv, this.encoding);
    this.out.ascii('}\n');
  }

  /** The open line's text so far is final: a streamed output may drain it (see JsonOut.boundary). */
  private boundary(): void {
    if (this.out.boundary()) this.lineStart = 0;
  }

  private clear(): void {
    this.lineStart = -1;
    if (this.members.n > 0) this.members = new PendingMembers();
  }
}
