import type { ElementSink } from './check-visitor.js';
import type { RedisValue, StreamEntry, StreamValue } from './model.js';

/** A stream's state after its entries: length, IDs, consumer groups (and RDB 13 IDMP state). */
export type StreamMeta = Omit<StreamValue, 'entries'>;

/**
 * Receives keys straight from the reader's validating pass (ReadRdbOptions.sink), element by
 * element, instead of a decoded RdbKey per key: no Buffer per element, no arrays. This is what
 * lets rdb-dump keep pace with the file (building the model costs more than the JSON). Byte
 * ranges are views of the reader's window or scratch space, valid only during the call.
 *
 * Per key: `key()`, then (when it returned true) the elements, then `end()`; or `discard()` when
 * the key turned out empty, the file ends inside it, or (small values only: a big value is checked
 * in resumable steps and never handed over twice) its record must be parsed again once more
 * bytes arrive.
 */
export interface ValueSink extends ElementSink {
  /**
   * A key of RDB type `rdbType` starts; false skips it (its value is still validated). `valkey`:
   * the file has the VALKEY magic, where some type bytes mean other types (redisTypeOf). `streamed`
   * (raw mode with rawUpTo only): the key's record is too long to come raw, the sink is its only
   * consumer.
   */
  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey: boolean, streamed?: boolean): boolean;
  /**
   * An element's bytes. Strings, list elements, set members, hash fields and values (field then
   * value), zset members.
   */
  str(b: Buffer, start: number, end: number): void;
  /** An integer element (intsets, integer-encoded listpack/ziplist entries). */
  int(v: number | bigint): void;
  /** The score of the zset member just given (every encoding: packed scores arrive parsed). */
  score(x: number): void;
  /** The whole value, for the types the reader decodes into the model (modules, zipmaps, hash-field TTLs, path hashes; streams unless the sink takes them in nodes). */
  value(v: RedisValue): void;
  /**
   * Optional, with streamEnd: a stream's live entries one listpack node at a time, in ID order
   * (bounded batches: a node holds at most a few KB), instead of one value(). The array and its
   * entries are only valid during the call.
   */
  streamNode?(entries: readonly StreamEntry[]): void;
  /**
   * Optional, with streamNode: true when the sink takes a stream's nodes in file order (Redis
   * writes them in key order, but a file may not): the stream is then checked in resumable steps
   * like any big value, never held whole in the window.
   */
  readonly nodesInFileOrder?: boolean;
  /**
   * Optional: true when the sink keeps no view of an element past the call that handed it over;
   * compressed packed blobs are then decompressed into the reader's reused scratch space instead
   * of a fresh buffer each.
   */
  readonly keepsNoViews?: boolean;
  /** After the stream's last streamNode: its state (`entries` is what a decoded value would hold). */
  streamEnd?(meta: StreamMeta): void;
  /**
   * Optional, with arrayElement: an RDB 14 array element by element (its insert cursor first)
   * instead of one value(); int and double elements arrive as their decimal text.
   */
  arrayStart?(insertIdx: bigint | null): void;
  arrayElement?(index: bigint, b: Buffer, start: number, end: number): void;
  /**
   * Optional: a Valkey path hash one path at a time (its fields in file order), instead of one
   * value(): the key is checked in resumable steps and never held whole. No call before end(): a
   * path hash without paths. The buffers are only valid during the call.
   */
  pathHashPath?(path: Buffer, fields: ReadonlyArray<readonly [Buffer, Buffer]>): void;
  /**
   * Optional: a packed blob (ziplist, listpack, intset, quicklist node) of `bytes` bytes once
   * decompressed starts; its elements follow. Lets a sink see a value's stored layout.
   */
  packed?(bytes: number): void;
  /**
   * Optional: the member count a set, hash (fields), zset or array stored element by element
   * declares, before its elements. Lets a sink skip work that only matters for small values.
   */
  memberCount?(n: number): void;
  /** Optional, with streamNode: every stream node's key (master ID) and listpack size once decompressed, before its entries. */
  streamListpack?(bytes: number, masterMs: bigint, masterSeq: bigint): void;
  /** The key is complete. */
  end(): void;
  /** Forget the key started by the last `key()`, if it is still open. */
  discard(): void;
  /** A function library (FUNCTION LOAD body), in file order among the keys. */
  func(code: Buffer): void;
  /** Optional: a Valkey RDB 81 UPDATE command (argv) for database `db`, in file order among the keys. */
  update?(db: number, argv: readonly Buffer[]): void;
}
