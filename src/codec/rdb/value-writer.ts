import { ToolError } from '../../util/errors.js';
import { RdbType, QuicklistContainer, VALKEY_TYPE_PATH_HASH } from './constants.js';
import { binaryDouble, canonicalInt, formatScore, lenBytes, strBytes, u64le, type StringEncodeOptions } from './encoding.js';
import { intsetEncode } from './intset-writer.js';
import { ListpackBuilder, lpEntrySize } from './listpack-writer.js';
import { hashFieldKey, type ArrayValue, type PathHashValue, type RedisValue, type StreamValue } from './model.js';
import { encodeStream } from './stream-writer.js';
import { ZiplistBuilder } from './ziplist-writer.js';

/**
 * Encodes one value for a target RDB version with the encoding a Redis of that version writes
 * under its default thresholds (compact listpack/ziplist/intset forms for small values, plain
 * forms otherwise), formats digest §2.7–2.10. Data the target cannot hold goes through `loss`.
 */

/** RDB versions we write: 9 (Redis 5–6.2), 10 (7.0), 11 (7.2, Valkey 7.2/8), 12 (7.4+). */
export const WRITABLE_RDB_VERSIONS: readonly number[] = [9, 10, 11, 12];

/** Redis's default encoding thresholds. */
const MAX_PACKED_ENTRIES = 128;
const MAX_PACKED_VALUE = 64;
const SET_MAX_INTSET_ENTRIES = 512;
const LIST_NODE_MAX_BYTES = 8192;

export interface EncodeContext extends StringEncodeOptions {
  version: number;
  /**
   * Called for data the target cannot represent (`what`); throws unless the writer is lossy.
   * `effect` says what the output keeps instead, for the drop report.
   */
  loss(what: string, effect?: string): void;
}

export interface EncodedValue {
  type: number;
  /** The value's bytes, produced as they are consumed (a big collection is never held encoded). */
  parts: Iterable<Buffer>;
}

/**
 * A collection's elements in order, walked more than once (sizes first, then bytes), so it must be
 * re-iterable. Arrays qualify; the engine passes views over its compact representations.
 */
export interface Items<T> extends Iterable<T> {
  readonly length: number;
}

/** Zset members in ascending (score, member) order, with the descending walk ZSET_2 is written in. */
export interface ScoredItems extends Items<[Buffer, number]> {
  descending(): Iterable<[Buffer, number]>;
}

/** The collections a caller can hand over element by element, without building the model. */
export type CollectionSource =
  | { type: 'list'; value: Items<Buffer> }
  | { type: 'set'; value: Items<Buffer> }
  | { type: 'zset'; value: ScoredItems }
  /** A hash without field TTLs (those go through encodeValue). */
  | { type: 'hash'; value: Items<[Buffer, Buffer]> };

/** The lowest RDB version whose loader knows each type byte we may pass through unchanged. */
const TYPE_SINCE: ReadonlyMap<number, number> = new Map([
  [RdbType.STRING, 1], [RdbType.LIST, 1], [RdbType.SET, 1], [RdbType.ZSET, 1], [RdbType.HASH, 1],
  [RdbType.ZSET_2, 8], [RdbType.MODULE_2, 8], [RdbType.HASH_ZIPMAP, 2], [RdbType.LIST_ZIPLIST, 2],
  [RdbType.SET_INTSET, 2], [RdbType.ZSET_ZIPLIST, 2], [RdbType.HASH_ZIPLIST, 4], [RdbType.LIST_QUICKLIST, 7],
  [RdbType.STREAM_LISTPACKS, 9], [RdbType.HASH_LISTPACK, 10], [RdbType.ZSET_LISTPACK, 10],
  [RdbType.LIST_QUICKLIST_2, 10], [RdbType.STREAM_LISTPACKS_2, 10], [RdbType.SET_LISTPACK, 11],
  [RdbType.STREAM_LISTPACKS_3, 11], [RdbType.HASH_METADATA, 12], [RdbType.HASH_LISTPACK_EX, 12],
  [RdbType.STREAM_LISTPACKS_5, 14], [RdbType.ARRAY, 14],
  // Self-contained template hashes only: the _REF forms (30, 32) point into a file's template section.
  [RdbType.HASH_TMPL_LP, 15], [RdbType.HASH_TMPL_ARRAY, 15],
]);

/** True when a value stored with `type` can be copied byte for byte into an RDB of `version`. */
export function typeLoadableIn(type: number, version: number): boolean {
  const since = TYPE_SINCE.get(type);
  return since !== undefined && since <= version;
}

/** The encoded value, or null when it is an empty collection (Redis skips those on load). */
export function encodeValue(v: RedisValue, ctx: EncodeContext): EncodedValue | null {
  switch (v.type) {
    case 'string':
      return { type: RdbType.STRING, parts: strBytes(v.value, ctx) };
    case 'list':
    case 'set':
      return encodeCollection(v, ctx);
    case 'zset':
      return encodeCollection({ type: 'zset', value: scoredItems(v.value) }, ctx);
    case 'hash':
      if (v.expires && v.expires.size > 0) return v.value.length ? encodeHashExpires(v.value, v.expires, ctx) : null;
      return encodeCollection({ type: 'hash', value: v.value }, ctx);
    case 'stream':
      return encodeStreamValue(v.value, ctx);
    case 'module':
      // Type 7 exists in every target; the module itself must be loaded on the target server.
      return { type: RdbType.MODULE_2, parts: [lenBytes(v.value.id), v.value.raw] };
    case 'array':
      if (ctx.version < 14) {
        ctx.loss('an array value (RDB 14, Redis 8.8+)', 'key dropped');
        return null;
      }
      return { type: RdbType.ARRAY, parts: arrayParts(v.value) };
    case 'pathhash':
      // Only Valkey 9.2+ (RDB 81) has the type; no other type holds a path's field map per path.
      if (ctx.version < 81) {
        ctx.loss('a Valkey path hash (VALKEY081, Valkey 9.2+)', 'key dropped');
        return null;
      }
      return { type: VALKEY_TYPE_PATH_HASH, parts: pathHashParts(v.value, ctx) };
  }
}

/** Valkey RDB 81 type 23 (see VALKEY_TYPE_PATH_HASH): path count, then path, field count, pairs. */
function* pathHashParts(v: PathHashValue, ctx: EncodeContext): Generator<Buffer> {
  yield lenBytes(v.paths.length);
  for (const { path, fields } of v.paths) {
    yield* strBytes(path, ctx);
    yield lenBytes(fields.length);
    for (const [f, val] of fields) {
      yield* strBytes(f, ctx);
      yield* strBytes(val, ctx);
    }
  }
}

/** A list, set, zset or field-TTL-free hash, encoded as it is consumed; null when it is empty. */
export function encodeCollection(c: CollectionSource, ctx: EncodeContext): EncodedValue | null {
  if (c.value.length === 0) return null;
  switch (c.type) {
    case 'list':
      return encodeList(c.value, ctx);
    case 'set':
      return encodeSet(c.value, ctx);
    case 'zset':
      return encodeZset(c.value, ctx);
    case 'hash':
      return encodeHash(c.value, ctx);
  }
}

/** `n` as a length, then each item's encoding. */
function* counted<T>(n: number, items: Iterable<T>, encode: (item: T) => Buffer[]): Generator<Buffer> {
  yield lenBytes(n);
  for (const x of items) yield* encode(x);
}

function blob(b: Buffer, ctx: EncodeContext): Buffer[] {
  return strBytes(b, ctx);
}

/**
 * A list as quicklist nodes, the way Redis fills them: ziplists (RDB 9) or listpacks (RDB 10+) of
 * up to 8 KB, and PLAIN nodes for elements over the node limit. The node count comes first in the
 * file, so the nodes are built once to count them and again to write them: the list is never
 * held encoded in full.
 */
function encodeList(items: Items<Buffer>, ctx: EncodeContext): EncodedValue {
  let count = 0;
  for (const _ of quicklistNodes(items, ctx.version)) count++;
  const type = ctx.version < 10 ? RdbType.LIST_QUICKLIST : RdbType.LIST_QUICKLIST_2;
  const parts = function* (): Generator<Buffer> {
    yield lenBytes(count);
    for (const [container, node] of quicklistNodes(items, ctx.version)) {
      if (container !== null) yield lenBytes(container);
      yield* blob(node, ctx);
    }
  };
  return { type, parts: parts() };
}

/** The nodes of a quicklist: [container (null before RDB 10), node bytes]. */
function* quicklistNodes(items: Iterable<Buffer>, version: number): Generator<[number | null, Buffer]> {
  if (version < 10) {
    let zl = new ZiplistBuilder();
    for (const e of items) {
      if (zl.count > 0 && zl.bytes + e.length + 11 > LIST_NODE_MAX_BYTES) {
        yield [null, zl.finish()];
        zl = new ZiplistBuilder();
      }
      zl.add(e);
    }
    yield [null, zl.finish()];
    return;
  }
  // Redis 7.4+ keeps elements over the 8 KB node limit in PLAIN nodes; 7.0/7.2 only above 1 GB.
  const plainAbove = version >= 12 ? LIST_NODE_MAX_BYTES : 1 << 30;
  let lp = new ListpackBuilder();
  for (const e of items) {
    if (e.length > plainAbove) {
      if (lp.count > 0) yield [QuicklistContainer.PACKED, lp.finish()];
      lp = new ListpackBuilder();
      yield [QuicklistContainer.PLAIN, e];
      continue;
    }
    if (lp.count > 0 && lp.bytes + lpEntrySize(e) > LIST_NODE_MAX_BYTES) {
      yield [QuicklistContainer.PACKED, lp.finish()];
      lp = new ListpackBuilder();
    }
    lp.add(e);
  }
  if (lp.count > 0) yield [QuicklistContainer.PACKED, lp.finish()];
}

function encodeSet(members: Items<Buffer>, ctx: EncodeContext): EncodedValue {
  if (members.length <= SET_MAX_INTSET_ENTRIES) {
    const ints: Array<number | bigint> = [];
    for (const m of members) {
      const v = m.length <= 20 ? canonicalInt(m) : null;
      if (v === null) break;
      ints.push(v);
    }
    if (ints.length === members.length) return { type: RdbType.SET_INTSET, parts: blob(intsetEncode(ints), ctx) };
  }
  if (ctx.version >= 11 && fitsPacked(members.length, members)) {
    const lp = new ListpackBuilder();
    for (const m of members) lp.add(m);
    return { type: RdbType.SET_LISTPACK, parts: blob(lp.finish(), ctx) };
  }
  return { type: RdbType.SET, parts: counted(members.length, members, (m) => strBytes(m, ctx)) };
}

function fitsPacked(count: number, items: Iterable<Buffer>): boolean {
  if (count > MAX_PACKED_ENTRIES) return false;
  for (const b of items) if (b.length > MAX_PACKED_VALUE) return false;
  return true;
}

function* firsts<A, B>(pairs: Iterable<[A, B]>): Generator<A> {
  for (const [x] of pairs) yield x;
}

function* flatPairs<T>(pairs: Iterable<[T, T]>): Generator<T> {
  for (const [x, y] of pairs) {
    yield x;
    yield y;
  }
}

function encodeZset(members: ScoredItems, ctx: EncodeContext): EncodedValue {
  for (const [m, s] of members) if (Number.isNaN(s)) throw new ToolError(`zset member "${m.toString('latin1')}" has a NaN score, which ZADD refuses and Redis loads only from a listpack text`);
  if (fitsPacked(members.length, firsts(members))) {
    const builder = ctx.version >= 10 ? new ListpackBuilder() : new ZiplistBuilder();
    for (const [m, s] of members) builder.add(m).add(Buffer.from(formatScore(s), 'latin1'));
    return { type: ctx.version >= 10 ? RdbType.ZSET_LISTPACK : RdbType.ZSET_ZIPLIST, parts: blob(builder.finish(), ctx) };
  }
  // ZSET_2 lists members from the highest score down, as Redis walks its skiplist from the tail.
  return { type: RdbType.ZSET_2, parts: counted(members.length, members.descending(), ([m, s]) => [...strBytes(m, ctx), binaryDouble(s)]) };
}

function compareScoreMember(a: [Buffer, number], b: [Buffer, number]): number {
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : Buffer.compare(a[0], b[0]);
}

function isSorted(m: Array<[Buffer, number]>): boolean {
  for (let i = 1; i < m.length; i++) if (compareScoreMember(m[i - 1]!, m[i]!) > 0) return false;
  return true;
}

/** The model's members (ascending unless a producer wrote them otherwise) as ScoredItems. */
function scoredItems(members: Array<[Buffer, number]>): ScoredItems {
  const sorted = isSorted(members) ? members : [...members].sort(compareScoreMember);
  return {
    length: sorted.length,
    [Symbol.iterator]: () => sorted[Symbol.iterator](),
    *descending(): Generator<[Buffer, number]> {
      for (let i = sorted.length - 1; i >= 0; i--) yield sorted[i]!;
    },
  };
}

function encodeHash(fields: Items<[Buffer, Buffer]>, ctx: EncodeContext): EncodedValue {
  if (fitsPacked(fields.length, flatPairs(fields))) {
    const b = ctx.version >= 10 ? new ListpackBuilder() : new ZiplistBuilder();
    for (const [f, x] of fields) b.add(f).add(x);
    return { type: ctx.version >= 10 ? RdbType.HASH_LISTPACK : RdbType.HASH_ZIPLIST, parts: blob(b.finish(), ctx) };
  }
  return { type: RdbType.HASH, parts: counted(fields.length, fields, ([f, x]) => [...strBytes(f, ctx), ...strBytes(x, ctx)]) };
}

/** A hash with field TTLs: kept without them before RDB 12 (reported), else the 7.4 encodings. */
function encodeHashExpires(fields: Array<[Buffer, Buffer]>, expires: Map<string, number>, ctx: EncodeContext): EncodedValue {
  if (ctx.version < 12) {
    ctx.loss(`${expires.size} hash-field TTL(s)`, 'the fields are kept without TTL');
    return encodeHash(fields, ctx);
  }
  return encodeHashWithTtl(fields, expires, fitsPacked(fields.length, flatPairs(fields)), ctx);
}

/** Redis 7.4 hash-field expiry: HASH_LISTPACK_EX when small, else HASH_METADATA (§2.7). */
function encodeHashWithTtl(fields: Array<[Buffer, Buffer]>, expires: Map<string, number>, packed: boolean, ctx: EncodeContext): EncodedValue {
  const withTtl = fields.map(([f, x]) => ({ f, x, at: expires.get(hashFieldKey(f)) ?? 0 }));
  let min = 0;
  for (const e of withTtl) if (e.at > 0 && (min === 0 || e.at < min)) min = e.at;
  if (packed) {
    // Fields with a TTL first in ascending expiry order, then the rest (listpackEx order).
    const ordered = [...withTtl.filter((e) => e.at > 0).sort((a, b) => a.at - b.at), ...withTtl.filter((e) => e.at === 0)];
    const lp = new ListpackBuilder();
    for (const e of ordered) lp.add(e.f).add(e.x).addInt(e.at);
    return { type: RdbType.HASH_LISTPACK_EX, parts: [u64le(min), ...blob(lp.finish(), ctx)] };
  }
  const parts = function* (): Generator<Buffer> {
    yield u64le(min);
    yield* counted(withTtl.length, withTtl, (e) => [lenBytes(e.at === 0 ? 0 : e.at - min + 1), ...strBytes(e.f, ctx), ...strBytes(e.x, ctx)]);
  };
  return { type: RdbType.HASH_METADATA, parts: parts() };
}

function encodeStreamValue(s: StreamValue, ctx: EncodeContext): EncodedValue {
  if (s.idmpRaw) ctx.loss('stream idempotent-producer (IDMP) state', 'an RDB 13 stream field');
  s = withoutNacked(s, ctx);
  if (ctx.version >= 11) return { type: RdbType.STREAM_LISTPACKS_3, parts: encodeStream(s, 3, ctx) };
  // Consumer active-time (stream v3) is idle metadata like LRU/LFU: older formats derive it from
  // seen-time on load, so it is not reported as lost data.
  if (ctx.version === 10) return { type: RdbType.STREAM_LISTPACKS_2, parts: encodeStream(s, 2, ctx) };
  const lost = streamV1Loss(s);
  if (lost) ctx.loss(`stream ${lost}`, 'a stream v1 loader re-derives these');
  return { type: RdbType.STREAM_LISTPACKS, parts: encodeStream(s, 1, ctx) };
}

const idCmp = (a: { ms: bigint; seq: bigint }, b: { ms: bigint; seq: bigint }) => (a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);

/**
 * What a stream v1 (RDB 9) cannot carry: a v1 loader sets max-deleted-id 0-0, entries-added =
 * length and re-estimates each group's entries-read (streamEstimateDistanceFromFirstEverEntry);
 * anything that differs from those is lost.
 */
function streamV1Loss(s: StreamValue): string | null {
  const lost: string[] = [];
  if (s.maxDeletedId.ms !== 0n || s.maxDeletedId.seq !== 0n) lost.push(`max-deleted-entry-id ${s.maxDeletedId.ms}-${s.maxDeletedId.seq}`);
  if (s.entriesAdded !== BigInt(s.length)) lost.push(`entries-added ${s.entriesAdded}`);
  const first = s.entries[0]?.id ?? { ms: 0n, seq: 0n };
  const added = BigInt(s.length);
  for (const g of s.groups) {
    if (g.entriesRead === null) continue;
    const id = g.lastDeliveredId;
    let derived: bigint | null;
    if (added === 0n) derived = 0n;
    else if (idCmp(id, s.lastId) === 0) derived = added;
    else if (idCmp(id, s.lastId) > 0) derived = null;
    else if (idCmp(id, first) < 0) derived = 0n;
    else if (idCmp(id, first) === 0) derived = 1n;
    else derived = null;
    if (derived !== g.entriesRead) lost.push(`group "${g.name.toString('latin1')}" entries-read ${g.entriesRead}`);
  }
  return lost.length ? lost.join(', ') : null;
}

/** An RDB 14 array (layout in the reader's array()): each element with the tag it was stored with. */
function* arrayParts(a: ArrayValue): Iterable<Buffer> {
  yield lenBytes(a.elements.length);
  yield a.insertIdx === null ? lenBytes(0) : Buffer.concat([lenBytes(1), lenBytes(a.insertIdx)]);
  for (const e of a.elements) {
    yield Buffer.concat([lenBytes(e.index), lenBytes(e.tag)]);
    if (e.tag === 1) {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64LE(BigInt(e.value.toString('latin1')));
      yield b;
    } else if (e.tag === 2) yield binaryDouble(Number(e.value.toString('latin1')));
    else yield* strBytes(e.value);
  }
}

/**
 * Streams of RDB < 14 have no NACK zone and every PEL entry needs an owner: NACKed entries (RDB
 * 14) leave the group PEL, reported as lost.
 */
function withoutNacked(s: StreamValue, ctx: EncodeContext): StreamValue {
  const n = s.groups.reduce((sum, g) => sum + (g.nacked?.length ?? 0), 0);
  if (n === 0) return s;
  ctx.loss(`${n} NACKed pending entr${n === 1 ? 'y' : 'ies'} of stream consumer groups (RDB 14 NACK zone)`, 'removed from the group PEL');
  return streamWithoutNacked(s);
}

/** The stream with its NACKed entries (RDB 14 NACK zones) taken out of the group PELs. */
export function streamWithoutNacked(s: StreamValue): StreamValue {
  const groups = s.groups.map((g) => {
    if (!g.nacked?.length) return g;
    const gone = new Set(g.nacked.map((id) => `${id.ms}-${id.seq}`));
    return { ...g, pel: g.pel.filter((p) => !gone.has(`${p.id.ms}-${p.id.seq}`)), nacked: undefined };
  });
  return { ...s, groups };
}
