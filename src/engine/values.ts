import type { ModuleValue } from '../codec/rdb/model.js';
import type { List } from './list.js';
import type { Stream } from './stream.js';
import type { SortedSet } from './sorted-set.js';

/**
 * The engine's live, mutable values. Maps are keyed by the member's bytes read as latin1, which
 * is a 1:1 binary-safe mapping, so every byte string stays distinct.
 */
export interface HashField {
  value: Buffer;
  /** Absolute unix ms of the field's TTL (Redis 7.4+ hash-field expiry), or null. */
  expireAt: number | null;
}

export type Value =
  | { type: 'string'; v: Buffer }
  | { type: 'list'; v: List }
  | { type: 'set'; v: Set<string> }
  | { type: 'zset'; v: SortedSet }
  | { type: 'hash'; v: Map<string, HashField> }
  | { type: 'stream'; v: Stream }
  | { type: 'module'; v: ModuleValue };

/** The live value type per Redis type name. */
export interface ValueOf {
  string: Buffer;
  list: List;
  set: Set<string>;
  zset: SortedSet;
  hash: Map<string, HashField>;
  stream: Stream;
  module: ModuleValue;
}

/** A key's value and TTL; the key itself is the db Map's key (bytes as latin1). */
export interface Entry {
  value: Value;
  expireAt: number | null;
}

export type Db = Map<string, Entry>;

/** The Map key of a byte string (latin1 keeps every byte as one UTF-16 unit). */
export function bkey(b: Buffer): string {
  return b.toString('latin1');
}

/** The bytes of a Map key made by bkey. */
export function kbuf(k: string): Buffer {
  return Buffer.from(k, 'latin1');
}

/**
 * A Buffer the engine may keep. Command arguments are views of the reader's read window, and a
 * stored view would pin the whole window (a 3-byte value holding tens of KB, the whole AOF over a
 * replay); such views are copied. Buffers with modest spare room (pool slices, APPEND's growable
 * values) are kept as they are.
 */
export function own(b: Buffer): Buffer {
  return b.buffer.byteLength > 2 * b.length + 8192 ? Buffer.from(b) : b;
}

/** Byte-wise comparison, as Redis's memcmp-based ordering does. */
export function memcmp(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}
