import type { ModuleValue } from '../codec/rdb/model.js';
import type { Stream } from './stream.js';
import type { SortedSet } from './sorted-set.js';

/**
 * The engine's live, mutable values. Maps are keyed by the member's bytes read as latin1, which
 * is a 1:1 binary-safe mapping, so every byte string stays distinct.
 */
export interface HashField {
  field: Buffer;
  value: Buffer;
  /** Absolute unix ms of the field's TTL (Redis 7.4+ hash-field expiry), or null. */
  expireAt: number | null;
}

export type Value =
  | { type: 'string'; v: Buffer }
  | { type: 'list'; v: Buffer[] }
  | { type: 'set'; v: Map<string, Buffer> }
  | { type: 'zset'; v: SortedSet }
  | { type: 'hash'; v: Map<string, HashField> }
  | { type: 'stream'; v: Stream }
  | { type: 'module'; v: ModuleValue };

/** The live value type per Redis type name. */
export interface ValueOf {
  string: Buffer;
  list: Buffer[];
  set: Map<string, Buffer>;
  zset: SortedSet;
  hash: Map<string, HashField>;
  stream: Stream;
  module: ModuleValue;
}

export interface Entry {
  key: Buffer;
  value: Value;
  expireAt: number | null;
}

export type Db = Map<string, Entry>;

/** The Map key of a byte string (latin1 keeps every byte as one UTF-16 unit). */
export function bkey(b: Buffer): string {
  return b.toString('latin1');
}

/** Byte-wise comparison, as Redis's memcmp-based ordering does. */
export function memcmp(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}
