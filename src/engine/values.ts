import type { ModuleValue } from '../codec/rdb/model.js';
import type { Hash } from './hash.js';
import type { List } from './list.js';
import type { Stream } from './stream.js';
import type { SortedSet } from './sorted-set.js';

/**
 * The engine's live, mutable values. Maps are keyed by the member's bytes read as latin1, which
 * is a 1:1 binary-safe mapping, so every byte string stays distinct.
 */

export type Value =
  | { readonly type: 'string'; readonly v: Buffer }
  | { type: 'list'; v: List }
  | { type: 'set'; v: Set<string> }
  | { type: 'zset'; v: SortedSet }
  | { type: 'hash'; v: Hash }
  | { type: 'stream'; v: Stream }
  | { type: 'module'; v: ModuleValue };

/** The live value type per Redis type name. */
export interface ValueOf {
  string: Buffer;
  list: List;
  set: Set<string>;
  zset: SortedSet;
  hash: Hash;
  stream: Stream;
  module: ModuleValue;
}

/** A key's value and TTL; the key itself is the db Map's key (bytes as latin1). */
export interface Entry {
  readonly value: Value;
  expireAt: number | null;
}

/**
 * What a db Map holds for a key: a small string without a TTL as its bare latin1 text (no object
 * at all: datasets are mostly millions of such keys), anything else as its Entry (a string's
 * StoredString is its own Entry).
 */
export type Slot = Entry | string;

export type Db = Map<string, Slot>;

/** The Entry of a slot; a bare string gets a holder of its own, which stores nothing when changed. */
export function entryOf(slot: Slot): Entry {
  return typeof slot === 'string' ? new StoredString(slot) : slot;
}

/** The TTL of a slot (absolute unix ms), or null. */
export function ttlOf(slot: Slot): number | null {
  return typeof slot === 'string' ? null : slot.expireAt;
}

/**
 * The slot a string value is stored as: bare text when it is small and has no TTL, else a
 * StoredString (the one given is taken over: it is new, or its key was deleted: RENAME, MOVE).
 */
export function stringSlot(value: Buffer | string | StoredString, expireAt: number | null): Slot {
  if (expireAt === null) {
    if (typeof value === 'string' && value.length <= SMALL_STRING) return value;
    if (value instanceof StoredString && value.text !== null) return value.text;
    if (Buffer.isBuffer(value) && value.length <= SMALL_STRING) return value.toString('latin1');
  }
  const held = value instanceof StoredString ? value : new StoredString(value);
  held.expireAt = expireAt;
  return held;
}

/** The Map key of a byte string (latin1 keeps every byte as one UTF-16 unit). */
export function bkey(b: Buffer): string {
  return b.toString('latin1');
}

/** The bytes of a Map key made by bkey. */
export function kbuf(k: string): Buffer {
  return Buffer.from(k, 'latin1');
}

/** Strings up to this size are held as latin1 JS strings (~24 bytes) instead of a Buffer (~100 bytes of object). */
const SMALL_STRING = 512;

/**
 * A string value as the keyspace holds it: small ones as a latin1 string, so a dataset of millions
 * of short strings costs about what Redis's embstr objects do; bigger ones as an owned Buffer
 * (APPEND's growable values among them). `v` gives the bytes. Once stored it is also the key's
 * Entry (its TTL beside the bytes); see Slot for the keys that need no holder.
 */
export class StoredString implements Entry {
  private readonly s: string | Buffer;
  expireAt: number | null = null;

  /** From the bytes or their latin1 text (a holder belongs to one key: copies of a key get their own). */
  constructor(v: Buffer | string) {
    if (typeof v === 'string') this.s = v.length <= SMALL_STRING ? v : Buffer.from(v, 'latin1');
    else this.s = v.length <= SMALL_STRING ? v.toString('latin1') : own(v);
  }

  get value(): StoredString {
    return this;
  }

  get type(): 'string' {
    return 'string';
  }

  get v(): Buffer {
    return typeof this.s === 'string' ? Buffer.from(this.s, 'latin1') : this.s;
  }

  /** The bytes as latin1 text when held so (small strings), else null. */
  get text(): string | null {
    return typeof this.s === 'string' ? this.s : null;
  }
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
