/**
 * The decoded form of RDB content, shared by the reader, the writer, DUMP payloads, the engine and
 * the replica. Byte strings stay Buffers (binary-safe); 64-bit identifiers are bigint.
 */

export type RedisType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module' | 'array' | 'pathhash';

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** Field/value pairs, flattened: [f1, v1, f2, v2, ...]. */
  fields: Buffer[];
}

export interface StreamPendingEntry {
  id: StreamId;
  deliveryTimeMs: number;
  deliveryCount: number;
  /** Owning consumer's name (filled from the consumers' PELs). */
  consumer: Buffer;
}

export interface StreamConsumer {
  name: Buffer;
  seenTimeMs: number;
  /** RDB stream v3+; older files: equal to seen time (as Redis derives it). */
  activeTimeMs: number;
  /** IDs of this consumer's pending entries, in PEL order. */
  pending: StreamId[];
}

export interface StreamGroup {
  name: Buffer;
  lastDeliveredId: StreamId;
  /** null when the file stores the "unknown" sentinel or predates v2. */
  entriesRead: bigint | null;
  /** PEL entries; a NACKed one (RDB 14 NACK zone) has no owner: its `consumer` is empty. */
  pel: StreamPendingEntry[];
  consumers: StreamConsumer[];
  /** RDB 14 (stream type 27): the group's NACK zone, PEL entries owned by no consumer, in file order. */
  nacked?: StreamId[];
}

export interface StreamValue {
  entries: StreamEntry[];
  length: number;
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  groups: StreamGroup[];
  /** RDB 13 IDMP state, kept opaque (raw bytes after the groups) so it round-trips. */
  idmpRaw?: Buffer;
}

export interface ModuleValue {
  /** The 64-bit module type id as stored. */
  id: bigint;
  /** 9-character module type name decoded from the id. */
  name: string;
  encver: number;
  /** The module opcode stream, from after the id through the terminating EOF opcode. */
  raw: Buffer;
}

/**
 * RDB 14 sparse array: elements by index (0 .. 2^64-2), in file order. Integer and float elements
 * arrive as their decimal text (as librdb prints them); the tag each was stored with is kept so
 * a writer can tell them apart.
 */
export interface ArrayValue {
  /** The array's insert cursor (ARINSERT), null when none was stored. */
  insertIdx: bigint | null;
  elements: ArrayElement[];
}

export interface ArrayElement {
  index: bigint;
  /** 0 string, 1 int64, 2 double, 3 small string (the stored tag). */
  tag: number;
  value: Buffer;
}

/**
 * Valkey 9.2 path hash (RDB 81 type 23): paths, each with a non-empty field/value map. Paths and
 * fields in file order (Valkey writes paths in byte order, fields in its hash's iteration order).
 */
export interface PathHashValue {
  paths: PathHashPath[];
}

export interface PathHashPath {
  path: Buffer;
  fields: Array<[Buffer, Buffer]>;
}

export type RedisValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; value: Buffer[] }
  | { type: 'set'; value: Buffer[] }
  /** Members with scores, in ascending (score, member) order. */
  | { type: 'zset'; value: Array<[Buffer, number]> }
  /** Fields in file order; `expires` holds absolute ms per field for hash-field TTLs, keyed by hashFieldKey(field). */
  | { type: 'hash'; value: Array<[Buffer, Buffer]>; expires?: Map<string, number> }
  | { type: 'stream'; value: StreamValue }
  | { type: 'module'; value: ModuleValue }
  | { type: 'array'; value: ArrayValue }
  | { type: 'pathhash'; value: PathHashValue };

/** The `expires` map key of a hash field: its bytes as latin1 (lossless, one char per byte). */
export function hashFieldKey(field: Buffer): string {
  return field.toString('latin1');
}

/** A key as read from (or to be written to) an RDB. */
export interface RdbKey {
  db: number;
  key: Buffer;
  /** Absolute unix ms, or null for no TTL. */
  expireAtMs: number | null;
  /** LRU idle seconds (IDLE opcode) when present. */
  idleSeconds?: number;
  /** LFU counter (FREQ opcode) when present. */
  freq?: number;
  /** The RDB type byte it was stored with (tells the source encoding). */
  rdbType: number;
  /** Decoded value; absent when the reader runs in raw mode. */
  value?: RedisValue;
  /** The value's encoded bytes exactly as in the file (type byte excluded); set in raw mode. */
  raw?: Buffer;
  /** Raw mode with a sink (ReadRdbOptions.rawUpTo): the value went to the sink element by element instead of into `raw`. */
  streamed?: true;
  /** RDB 13 KEY_META payload (class count + class specs and module opcode streams), kept opaque. */
  keyMeta?: Buffer;
  /** Absolute offset of the record's first byte (its first prefix opcode or type byte). */
  offset: number;
}

/** Records yielded by the streaming RDB reader, in file order. */
export type RdbRecord =
  | { kind: 'header'; version: number; flavor: 'redis' | 'valkey'; offset: number }
  | { kind: 'aux'; key: Buffer; value: Buffer; offset: number }
  | { kind: 'selectdb'; db: number; offset: number }
  | { kind: 'resizedb'; dbSize: number; expiresSize: number; offset: number }
  | { kind: 'slot-info'; slot: number; slotSize: number; expiresSlotSize: number; offset: number }
  | { kind: 'function'; code: Buffer; offset: number }
  | { kind: 'module-aux'; module: ModuleValue; when: number; offset: number }
  | { kind: 'key'; entry: RdbKey }
  /** RDB 15 template section: the field names (strictly ascending) the _REF hash types point to by id. */
  | { kind: 'hash-template'; id: number; fields: Buffer[]; offset: number }
  /** Valkey RDB 81 UPDATE: a command (argv) written during a forkless save, replayed after the keys before it. */
  | { kind: 'update'; db: number; argv: Buffer[]; offset: number }
  /** checksum null: the file has none (RDB < 5) or it was written as 0 (checksum disabled).
   *  end: absolute offset just past the EOF opcode and its checksum. */
  | { kind: 'eof'; offset: number; checksum: bigint | null; computed: bigint; end: number };
