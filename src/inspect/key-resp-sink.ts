import { redisTypeOf } from '../codec/rdb/constants.js';
import { formatScore } from '../codec/rdb/encoding.js';
import type { RedisValue, StreamEntry } from '../codec/rdb/model.js';
import { emptyPathHashCommands, forEachCommand, functionToCommand, ITEMS_PER_COMMAND, pathCommands, streamTailCommands, type Out } from '../codec/rdb/to-commands.js';
import type { StreamMeta, ValueSink } from '../codec/rdb/value-sink.js';
import { keySelected, type KeyFilter } from './key-filter.js';
import { JsonOut } from './json-out.js';
import { writeDecimal } from '../util/decimal-text.js';

/**
 * Writes the commands that recreate each key (valueToCommands' form: SELECT when the database
 * changes, RPUSH/SADD/ZADD/HMSET of 64 items each, SET, PEXPIREAT, FUNCTION LOAD) as RESP,
 * straight from the reader's validating pass (ReadRdbOptions.sink): no decoded model, no Buffer
 * per element, so a 4M-element list costs its output bytes and nothing per element. Big streams
 * arrive node by node (an XADD per entry, then the group commands); the types the reader decodes
 * whole (small streams, hash-field TTLs, zipmaps, modules) go through forEachCommand.
 * Zset members arrive in stored order rather than sorted: the same set of ZADDs in meaning.
 */

/** Pre-encoded `$n\r\n` heads for short bulk strings (most elements). */
const HEADS = Array.from({ length: 1024 }, (_, n) => Buffer.from(`$${n}\r\n`, 'latin1'));
const bulkName = (s: string): Buffer => Buffer.from(`$${s.length}\r\n${s}\r\n`, 'latin1');
const NAMES = { RPUSH: bulkName('RPUSH'), SADD: bulkName('SADD'), ZADD: bulkName('ZADD'), HMSET: bulkName('HMSET'), SET: bulkName('SET'), XADD: bulkName('XADD') };
const PEXPIREAT = bulkName('PEXPIREAT');
const SELECT = bulkName('SELECT');

/** What the elements of the open key are written as. */
const enum Shape {
  /** Not selected, or a value decoded whole (written by value()). */
  None,
  String,
  /** RPUSH/SADD: one element per item. */
  Single,
  /** HMSET: field, value per item. */
  Pair,
  /** ZADD: member then score arrive; written score, member. */
  Zset,
  /** PHSET per path (pathHashPath). */
  PathHash,
}

export class KeyRespSink implements ValueSink {
  readonly out: JsonOut;
  /** Keys written (selected and complete). */
  keys = 0;
  /** Set when the stream nodes are known to be in key order (rdb-dump checked the piece first): they are taken node by node in steps, never held whole (ValueSink.nodesInFileOrder). */
  nodesInFileOrder = false;
  /** The database the output has SELECTed last, -1 before the first SELECT. */
  db: number;
  /** Where the first SELECT of this output is, and which db it selects: a concatenation may drop it. */
  firstSelect: { db: number; start: number; end: number } | null = null;
  /** Output offset where the open key's commands start, -1 when none is open. */
  private keyStart = -1;
  private dbBefore = -1;
  private shape = Shape.None;
  private keyBuf = Buffer.allocUnsafe(256);
  private keyLen = 0;
  private expireAtMs: number | null = null;
  private name: Buffer = NAMES.SET;
  /** Arguments per item (1 for RPUSH/SADD, 2 for ZADD/HMSET). */
  private stride = 1;
  /** A batch command is open: its completed items, and where its `*n` head starts and ends. */
  private batchOpen = false;
  private items = 0;
  private index = 0;
  private headStart = 0;
  private headEnd = 0;
  /** The zset member waiting for its score. */
  private member = Buffer.allocUnsafe(256);
  private memberLen = 0;
  /** Decimal text of integer elements. */
  private readonly tmp = Buffer.allocUnsafe(32);

  constructor(
    private readonly filter: KeyFilter,
    out = new JsonOut(1 << 22),
    /** The database already selected where this output goes (-1: none). */
    db = -1,
    /** Applied to a value the reader decoded whole before it is written (restore drops what the target cannot hold). */
    private readonly adapt: (v: RedisValue) => RedisValue = (v) => v,
  ) {
    this.out = out;
    this.db = db;
  }

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey = false): boolean {
    const type = redisTypeOf(rdbType, valkey);
    if (!keySelected(this.filter, db, b, start, end, type)) return false;
    this.keyStart = this.out.pos;
    this.dbBefore = this.db;
    if (db !== this.db) {
      const at = this.out.pos;
      this.out.ascii('*2\r\n');
      this.out.raw(SELECT);
      this.text(String(db));
      this.firstSelect ??= { db, start: at, end: this.out.pos };
      this.db = db;
    }
    this.keyLen = end - start;
    if (this.keyBuf.length < this.keyLen) this.keyBuf = Buffer.allocUnsafe(this.keyLen * 2);
    b.copy(this.keyBuf, 0, start, end);
    this.expireAtMs = expireAtMs;
    this.items = 0;
    this.index = 0;
    this.batchOpen = false;
    this.stride = type === 'zset' || type === 'hash' ? 2 : 1;
    switch (type) {
      case 'string':
        this.shape = Shape.String;
        break;
      case 'list':
      case 'set':
        this.shape = Shape.Single;
        this.name = type === 'list' ? NAMES.RPUSH : NAMES.SADD;
        break;
      case 'zset':
        this.shape = Shape.Zset;
        this.name = NAMES.ZADD;
        break;
      case 'hash':
        // Hashes with field TTLs arrive whole (value()); the rest element by element.
        this.shape = Shape.Pair;
        this.name = NAMES.HMSET;
        break;
      case 'pathhash':
        this.shape = Shape.PathHash;
        break;
      default:
        this.shape = Shape.None;
    }
    return true;
  }

  str(b: Buffer, start: number, end: number): void {
    switch (this.shape) {
      case Shape.String:
        this.out.ascii('*3\r\n');
        this.out.raw(NAMES.SET);
        this.keyBulk();
        this.bulk(b, start, end);
        return;
      case Shape.Single:
        this.open();
        this.bulk(b, start, end);
        this.item();
        return;
      case Shape.Pair:
        if ((this.index++ & 1) === 0) this.open();
        this.bulk(b, start, end);
        if ((this.index & 1) === 0) this.item();
        return;
      case Shape.Zset:
        this.memberLen = end - start;
        if (this.member.length < this.memberLen) this.member = Buffer.allocUnsafe(this.memberLen * 2);
        b.copy(this.member, 0, start, end);
        return;
      case Shape.None:
      case Shape.PathHash:
        return;
    }
  }

  int(v: number | bigint): void {
    this.str(this.tmp, 0, writeDecimal(v, this.tmp));
  }

  score(x: number): void {
    const s = formatScore(x);
    this.scoreText(this.tmp, 0, this.tmp.write(s, 0, 'latin1'));
  }

  scoreText(b: Buffer, start: number, end: number): void {
    this.open();
    this.bulk(b, start, end);
    this.bulk(this.member, 0, this.memberLen);
    this.item();
  }

  value(v: RedisValue): void {
    this.shape = Shape.None;
    // The expiry goes after the value's commands, by end().
    forEachCommand(this.keyBuf.subarray(0, this.keyLen), this.adapt(v), null, (argv) => this.command(argv));
  }

  /** XADD <key> <id> <fields...> per entry, written straight from the node's entries. */
  streamNode(entries: readonly StreamEntry[]): void {
    for (const e of entries) {
      this.out.ascii(`*${3 + e.fields.length}\r\n`);
      this.out.raw(NAMES.XADD);
      this.keyBulk();
      this.text(`${e.id.ms}-${e.id.seq}`);
      for (const f of e.fields) this.bulk(f, 0, f.length);
    }
    this.index += entries.length;
    this.boundary();
  }

  streamEnd(meta: StreamMeta): void {
    // adapt() judges a whole value: the state after the entries is all it can drop (IDMP state).
    const v = this.adapt({ type: 'stream', value: { entries: [], ...meta } }) as Extract<RedisValue, { type: 'stream' }>;
    streamTailCommands({ push: (argv) => this.command(argv) }, this.keyBuf.subarray(0, this.keyLen), v.value, this.index > 0);
  }

  /** Commands written as they are made. */
  private readonly commands: Out = { push: (argv) => this.command(argv) };

  /** PHSET of one path of a path hash (64 fields per command). */
  pathHashPath(path: Buffer, fields: ReadonlyArray<readonly [Buffer, Buffer]>): void {
    this.index++;
    pathCommands(this.commands, this.keyBuf.subarray(0, this.keyLen), path, fields);
  }

  end(): void {
    if (this.shape === Shape.PathHash && this.index === 0) emptyPathHashCommands(this.commands, this.keyBuf.subarray(0, this.keyLen));
    this.close();
    if (this.expireAtMs !== null) {
      this.out.ascii('*3\r\n');
      this.out.raw(PEXPIREAT);
      this.keyBulk();
      this.text(String(this.expireAtMs));
    }
    this.keys++;
    this.keyStart = -1;
    this.shape = Shape.None;
  }

  discard(): void {
    if (this.keyStart < 0) return;
    this.out.pos = this.keyStart;
    this.db = this.dbBefore;
    if (this.firstSelect && this.firstSelect.start >= this.keyStart) this.firstSelect = null;
    this.keyStart = -1;
    this.shape = Shape.None;
  }

  func(code: Buffer): void {
    this.command(functionToCommand(code));
  }

  /** A Valkey UPDATE command, after a SELECT of its db when another is selected. */
  update(db: number, argv: readonly Buffer[]): void {
    if (db !== this.db) {
      this.out.ascii("*2\r\n");
      this.out.raw(SELECT);
      this.text(String(db));
      this.db = db;
    }
    this.command(argv);
  }

  private command(argv: readonly Buffer[]): void {
    this.out.ascii(`*${argv.length}\r\n`);
    for (const a of argv) this.bulk(a, 0, a.length);
  }

  /** Starts a batch command unless one is open: its head claims a full batch, close() corrects a short one. */
  private open(): void {
    if (this.batchOpen) return;
    const w = this.out;
    this.headStart = w.pos;
    w.ascii(`*${2 + this.stride * ITEMS_PER_COMMAND}\r\n`);
    this.headEnd = w.pos;
    w.raw(this.name);
    this.keyBulk();
    this.batchOpen = true;
  }

  /** An item is complete: the batch closes at 64 (AOF_REWRITE_ITEMS_PER_CMD). */
  private item(): void {
    if (++this.items < ITEMS_PER_COMMAND) return;
    this.items = 0;
    this.batchOpen = false;
    this.boundary();
  }

  /** The commands so far are whole: a streamed output may drain them (see JsonOut.boundary). */
  private boundary(): void {
    if (this.out.boundary()) this.keyStart = 0;
  }

  /** Closes a short batch: its head gets the real argument count (the bytes after it shift when that is shorter). */
  private close(): void {
    if (!this.batchOpen) return;
    const head = `*${2 + this.stride * this.items}\r\n`;
    const w = this.out;
    const shift = this.headEnd - this.headStart - head.length;
    if (shift > 0) w.buf.copyWithin(this.headStart + head.length, this.headEnd, w.pos);
    w.buf.write(head, this.headStart, 'latin1');
    w.pos -= shift;
    this.items = 0;
    this.batchOpen = false;
  }

  private keyBulk(): void {
    this.bulk(this.keyBuf, 0, this.keyLen);
  }

  private text(s: string): void {
    this.bulk(this.tmp, 0, this.tmp.write(s, 0, 'latin1'));
  }

  /** `$n\r\n<bytes>\r\n`. */
  private bulk(b: Buffer, start: number, end: number): void {
    const n = end - start;
    const w = this.out;
    if (n < HEADS.length) w.raw(HEADS[n]!);
    else w.ascii(`$${n}\r\n`);
    if (n <= 64) w.raw(b, start, end);
    else {
      w.ensure(n);
      w.pos += b.copy(w.buf, w.pos, start, end);
    }
    w.byte(13);
    w.byte(10);
  }
}
