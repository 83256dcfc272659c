import { RdbType, redisTypeOf } from '../../codec/rdb/constants.js';
import { formatG17 } from '../../codec/rdb/format-g17.js';
import type { RedisType, RedisValue, StreamEntry } from '../../codec/rdb/model.js';
import type { StreamMeta, ValueSink } from '../../codec/rdb/value-sink.js';
import { DictSim } from './dict-sim.js';
import { jemallocSize as sc } from './jemalloc.js';
import { decimalLength, intsetBytes, intWidth, LP_EMPTY, lpIntEntry, lpStrEntry, sdsAlloc, strictInt, ZL_EMPTY, zlIntBody, zlPrevLen, zlStrBody } from './packed-size.js';
import { RaxNodes } from './rax-nodes.js';
import { DICT_ENTRY, type MemoryRules, QUICKLIST, QUICKLIST_NODE, ROBJ, STREAM_NACK, ZSET, ZSKIPLIST } from './rules.js';

/** One key as the memory report sees it (the columns of redis-rdb-tools' memory CSV, and more). */
export interface KeyMemory {
  db: number;
  key: Buffer;
  type: RedisType;
  /** OBJECT ENCODING after the target server loaded it (int, embstr, raw, listpack, quicklist, intset, hashtable, skiplist, ziplist, stream, module). */
  encoding: string;
  /** Estimated MEMORY USAGE key SAMPLES 0. */
  bytes: number;
  /** Elements (list/set/zset members, hash fields, stream entries); a string's length in bytes, as rdb-tools reports it. */
  elements: number;
  /** Length of the longest element (a string's length). */
  largest: number;
  expireAtMs: number | null;
}

/**
 * The key just costed, as the model hands it over: one object for every key, its name in a scratch
 * buffer (key[0, keyLength)), valid only during the callback. Most keys only add to totals; what
 * outlives the callback (top lists, warnings, CSV rows) takes a lasting copy with toKeyMemory().
 */
export class CostedKey {
  db = 0;
  key: Buffer = Buffer.allocUnsafe(64);
  keyLength = 0;
  type: RedisType = 'string';
  encoding = '';
  bytes = 0;
  elements = 0;
  largest = 0;
  expireAtMs: number | null = null;

  /** Copies b[start, end) in as the key's name. */
  setName(b: Buffer, start: number, end: number): void {
    const len = end - start;
    if (this.key.length < len) this.key = Buffer.allocUnsafe(Math.max(len, 2 * this.key.length));
    const key = this.key;
    // Byte by byte: Buffer#copy's argument checks cost more than a short key's bytes.
    if (len <= 64) for (let i = 0; i < len; i++) key[i] = b[start + i]!;
    else b.copy(key, 0, start, end);
    this.keyLength = len;
  }

  toKeyMemory(): KeyMemory {
    return {
      db: this.db,
      key: Buffer.from(this.key.subarray(0, this.keyLength)),
      type: this.type,
      encoding: this.encoding,
      bytes: this.bytes,
      elements: this.elements,
      largest: this.largest,
      expireAtMs: this.expireAtMs,
    };
  }
}

/** zslCreateNode(32): the skiplist header, 24 + 32 levels of 16 bytes. */
const SKIPLIST_HEADER = sc(24 + 32 * 16);
/** A skiplist node's expected allocation: level l (P = 1/4 each step, at most 32) holds 24 + 16*l bytes. */
const SKIPLIST_NODE = (() => {
  let e = 0;
  let p = 0.75;
  for (let l = 1; l < 32; l++, p *= 0.25) e += p * sc(24 + 16 * l);
  return e + (p / 0.75) * sc(24 + 16 * 32);
})();
/** streamRadixTreeMemoryUsage: sizeof(streamID) per element, sizeof(raxNode) + 30 longs per node. */
const RAX_PER_KEY = 16;
const RAX_PER_NODE = 4 + 8 * 30;

/** MEMORY USAGE adds the key: its sds in the db's dict, and its dictEntry. */
export function keyOverhead(len: number): number {
  return sc(sdsAlloc(len)) + DICT_ENTRY;
}

/** The encoding a string value gets on load (tryObjectEncoding). */
function stringEncoding(b: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len <= 20 && strictInt(b, start, end) !== null) return 'int';
  return len <= 44 ? 'embstr' : 'raw';
}

/** What a string value costs in that encoding: a bare robj, one robj+sds allocation, or an robj and an sds. */
function stringBytes(encoding: string, len: number): number {
  if (encoding === 'int') return ROBJ;
  return encoding === 'embstr' ? sc(ROBJ + 3 + len + 1) : ROBJ + sc(sdsAlloc(len));
}

/** How a list's quicklist nodes are formed on load: kept as stored, one per stored blob (re-encoded), or filled element by element. */
type ListNodes = 'kept' | 'per-blob' | 'fill';

/**
 * A ValueSink that turns each key of the file into its KeyMemory: the cost of the value in the
 * encoding the target release gives it on load (objectComputeSize with SAMPLES 0), plus the key.
 * It keeps running sums per key, never the elements: memory is constant per key.
 */
export class MemoryModel implements ValueSink {
  private rules: MemoryRules;
  private open = false;
  /** The key being read; handed to onKey once costed. */
  private readonly k = new CostedKey();
  private rdbType = 0;
  private type: RedisType = 'string';
  // Running sums of the current value.
  private n = 0;
  private largest = 0;
  private strBytes = 0;
  private strEnc = '';
  private lp = 0;
  private zl = 0;
  private zlPrev = 0;
  private sdsSum = 0;
  private allInt = true;
  private width = 2;
  private firstOdd = -1;
  /** Elements (members) up to which the value may still be rebuilt as a listpack/ziplist on load: its size is summed only that far. */
  private packLimit = 0;
  private packedBytes = 0;
  private listNodes: ListNodes = 'fill';
  private nodeAlloc = 0;
  private nodeCount = 0;
  private cur = 0;
  private curCount = 0;
  private moduleBytes = 0;
  private streamBytes = 0;
  /** A path hash's estimate (pathHash). */
  private pathBytes = 0;
  private rax: RaxNodes | null = null;
  private readonly idKey = new Uint8Array(16);
  private readonly idView = new DataView(this.idKey.buffer);
  /** A computed score's text, to be sized as the listpack/ziplist entry it would be. */
  private readonly scoreBuf = Buffer.allocUnsafe(40);
  /** Scores matter only while the value may be rebuilt as a listpack/ziplist (ElementSink.wantsScores). */
  wantsScores = false;

  constructor(
    rules: MemoryRules,
    private readonly onKey: (k: CostedKey) => void,
  ) {
    this.rules = rules;
  }

  /** Stream nodes in file order suit the model (only a radix-tree node count depends on the order): no stream is held whole. */
  readonly nodesInFileOrder = true;

  /** Only lengths and running sums are kept of an element, never its bytes. */
  readonly keepsNoViews = true;

  setRules(rules: MemoryRules): void {
    this.rules = rules;
  }

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey = false): boolean {
    this.open = true;
    const k = this.k;
    k.db = db;
    k.setName(b, start, end);
    this.rdbType = rdbType;
    this.type = k.type = redisTypeOf(rdbType, valkey);
    k.expireAtMs = expireAtMs;
    this.n = 0;
    this.largest = 0;
    this.lp = LP_EMPTY;
    this.zl = ZL_EMPTY;
    this.zlPrev = 0;
    this.sdsSum = 0;
    this.allInt = true;
    this.width = 2;
    this.firstOdd = -1;
    this.packedBytes = 0;
    this.nodeAlloc = 0;
    this.nodeCount = 0;
    this.cur = LP_EMPTY;
    this.curCount = 0;
    this.moduleBytes = 0;
    this.streamBytes = 0;
    // A path hash: the object, the radixObject (rax pointer, field count), the rax struct and its root node.
    this.pathBytes = ROBJ + sc(16) + sc(24) + sc(4);
    this.rax = null;
    const zipNodes = this.rules.packed === 'ziplist';
    this.listNodes =
      rdbType === RdbType.LIST_QUICKLIST_2 || (rdbType === RdbType.LIST_QUICKLIST && zipNodes) ? 'kept' : rdbType === RdbType.LIST_QUICKLIST ? 'per-blob' : 'fill';
    if (this.listNodes !== 'fill') this.cur = 0;
    const r = this.rules;
    const zip = r.packed === 'ziplist';
    switch (this.type) {
      case 'list':
        this.packLimit = this.listNodes === 'kept' ? 0 : Infinity;
        break;
      case 'set':
        this.packLimit = rdbType === RdbType.SET && r.listpackSets ? r.setMaxListpackEntries : 0;
        break;
      case 'hash':
        this.packLimit = rdbType === RdbType.HASH_LISTPACK || (rdbType === RdbType.HASH_ZIPLIST && zip) ? 0 : 2 * r.hashMaxEntries;
        break;
      case 'zset':
        this.packLimit = rdbType === RdbType.ZSET_LISTPACK || (rdbType === RdbType.ZSET_ZIPLIST && zip) ? 0 : r.zsetMaxEntries;
        break;
      default:
        this.packLimit = 0;
    }
    this.wantsScores = this.type === 'zset' && this.packLimit > 0;
    return true;
  }

  /** A value with more members than a packed encoding holds stays a hashtable/skiplist on load: no entry sizes (nor scores) to sum. */
  memberCount(n: number): void {
    const r = this.rules;
    const packable = this.type === 'zset' ? n <= r.zsetMaxEntries : this.type === 'hash' ? n <= r.hashMaxEntries : this.type === 'set' ? n <= r.setMaxListpackEntries : true;
    if (packable) return;
    this.packLimit = 0;
    this.wantsScores = false;
  }

  packed(bytes: number): void {
    this.packedBytes += bytes;
    if (this.type !== 'list') return;
    if (this.listNodes === 'kept') {
      this.nodeAlloc += QUICKLIST_NODE + sc(bytes);
      this.nodeCount++;
    } else if (this.listNodes === 'per-blob') {
      this.closeNode();
      this.cur = LP_EMPTY;
    }
  }

  str(b: Buffer, start: number, end: number): void {
    const len = end - start;
    if (this.type === 'string') {
      this.strEnc = stringEncoding(b, start, end);
      this.strBytes = stringBytes(this.strEnc, len);
      this.largest = len;
      this.n = len;
      return;
    }
    // Whether it spells an integer matters only for a packed entry's size and an intset candidate.
    const v = len <= 20 && (this.n < this.packLimit || (this.type === 'set' && this.allInt)) ? strictInt(b, start, end) : null;
    this.element(len, v);
  }

  int(v: number | bigint): void {
    this.element(decimalLength(v), v);
  }

  /** One element (a set member, list item, hash field or value, zset member) of `len` bytes; `v` when it spells an integer. */
  private element(len: number, v: number | bigint | null): void {
    const i = this.n++;
    if (len > this.largest) this.largest = len;
    if (i < this.packLimit) {
      const entry = this.packedEntry(len, v);
      if (this.type === 'list') {
        this.listItem(entry);
        return;
      }
    }
    switch (this.type) {
      case 'set':
        this.sdsSum += sc(sdsAlloc(len));
        if (v === null) {
          if (this.allInt) this.firstOdd = i;
          this.allInt = false;
        } else this.width = Math.max(this.width, intWidth(v));
        return;
      case 'hash':
        this.sdsSum += sc(sdsAlloc(len));
        if (len > this.rules.hashMaxValue && this.firstOdd < 0) this.firstOdd = i >> 1;
        return;
      case 'zset':
        this.sdsSum += sc(sdsAlloc(len));
        return;
      default:
    }
  }

  /** Adds an entry to the value's listpack (or ziplist, by the rules) size; its size in a list node. */
  private packedEntry(len: number, v: number | bigint | null): number {
    if (this.rules.packed === 'listpack') {
      const e = v === null ? lpStrEntry(len) : lpIntEntry(v);
      this.lp += e;
      return e;
    }
    const body = v === null ? zlStrBody(len) : zlIntBody(v);
    const prev = zlPrevLen(this.zlPrev);
    this.zl += prev + body;
    this.zlPrev = prev + body;
    // A list node's share: the entry after a short one (the usual case).
    return body + 1;
  }

  /** A list element filling quicklist nodes of at most listNodeBytes (list-max-listpack-size -2). */
  private listItem(entry: number): void {
    if (this.listNodes === 'fill' && this.curCount > 0 && this.cur + entry > this.rules.listNodeBytes) this.closeNode();
    if (this.curCount === 0 && this.cur === 0) this.cur = this.rules.packed === 'listpack' ? LP_EMPTY : ZL_EMPTY;
    this.cur += entry;
    this.curCount++;
  }

  private closeNode(): void {
    if (this.curCount > 0) {
      this.nodeAlloc += QUICKLIST_NODE + sc(this.cur);
      this.nodeCount++;
    }
    this.cur = 0;
    this.curCount = 0;
  }

  score(x: number): void {
    if (this.n > this.packLimit) return;
    const r = this.rules;
    const text = Number.isInteger(x) && Math.abs(x) < 2 ** 52 ? String(x) : r.scores === 'g17' ? formatG17(x) : shortest(x);
    this.scoreEntry(this.scoreBuf, 0, this.scoreBuf.write(text, 0, 'latin1'));
  }

  scoreText(b: Buffer, start: number, end: number): void {
    if (this.n > this.packLimit) return;
    this.scoreEntry(b, start, end);
  }

  private scoreEntry(b: Buffer, start: number, end: number): void {
    const len = end - start;
    this.packedEntry(len, len <= 20 ? strictInt(b, start, end) : null);
  }

  value(v: RedisValue): void {
    switch (v.type) {
      case 'hash':
        for (const [f, val] of v.value) {
          this.str(f, 0, f.length);
          this.str(val, 0, val.length);
        }
        return;
      case 'module':
        this.moduleBytes = v.value.raw.length;
        return;
      case 'stream':
        // Only when nodes came out of key order (never written by Redis): no node sizes, groups only.
        this.streamEnd(v.value);
        return;
      case 'pathhash':
        for (const p of v.value.paths) this.pathHashPath(p.path, p.fields);
        return;
      default:
        // Zipmaps arrive as hashes; nothing else is handed over decoded.
    }
  }

  /**
   * One path of a Valkey path hash (radixTypeMemUsage in valkey t_path_hash.c counts the
   * radixObject, the rax of paths and each path's payload): the path's share of the tree and its
   * payload, a hash object costed with the hash rules (listpack while small, else a table). An
   * estimate: Valkey 9's hashtable differs from the dict the rules model, and the tree is costed
   * without shared prefixes (each path a compressed node holding its bytes, child and value
   * pointers, plus a leaf), so it is an upper bound of raxAllocSize.
   */
  pathHashPath(path: Buffer, fields: ReadonlyArray<readonly [Buffer, Buffer]>): void {
    const r = this.rules;
    let bytes = sc(4 + path.length + 16) + sc(4 + 8);
    if (path.length > this.largest) this.largest = path.length;
    let lp = LP_EMPTY;
    let sds = 0;
    let small = fields.length <= r.hashMaxEntries;
    for (const [f, val] of fields) {
      for (const b of [f, val]) {
        if (b.length > this.largest) this.largest = b.length;
        if (b.length > r.hashMaxValue) small = false;
        const n = b.length <= 20 ? strictInt(b, 0, b.length) : null;
        lp += n === null ? lpStrEntry(b.length) : lpIntEntry(n);
        sds += sc(sdsAlloc(b.length));
      }
    }
    this.n += fields.length;
    if (small) bytes += ROBJ + sc(lp);
    else {
      const d = new DictSim();
      d.expand(fields.length);
      d.addMany(fields.length);
      bytes += ROBJ + r.dict + 8 * d.slots + fields.length * DICT_ENTRY + sds;
    }
    this.pathBytes += bytes;
  }

  streamListpack(bytes: number, ms: bigint, seq: bigint): void {
    this.streamBytes += sc(bytes);
    this.rax ??= new RaxNodes();
    this.rax.insert(this.id(ms, seq));
  }

  streamNode(entries: readonly StreamEntry[]): void {
    for (const e of entries) for (const f of e.fields) if (f.length > this.largest) this.largest = f.length;
  }

  private id(ms: bigint, seq: bigint): Uint8Array {
    this.idView.setBigUint64(0, ms);
    this.idView.setBigUint64(8, seq);
    return this.idKey;
  }

  streamEnd(meta: StreamMeta): void {
    const r = this.rules;
    const rax = this.rax ?? new RaxNodes();
    let bytes = ROBJ + r.stream + raxUsage(rax) + this.streamBytes;
    for (const g of meta.groups) {
      const pel = new RaxNodes();
      for (const p of g.pel) pel.insert(this.id(p.id.ms, p.id.seq));
      bytes += r.streamGroup + raxUsage(pel) + STREAM_NACK * g.pel.length;
      for (const c of g.consumers) {
        const cp = new RaxNodes();
        for (const id of c.pending) cp.insert(this.id(id.ms, id.seq));
        bytes += r.streamConsumer + c.name.length + raxUsage(cp);
      }
    }
    this.streamBytes = bytes;
    this.n = meta.length;
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    const k = this.k;
    k.bytes = this.cost() + keyOverhead(k.keyLength);
    k.elements = this.type === 'hash' ? this.n >> 1 : this.n; // a path hash: its fields
    k.largest = this.largest;
    this.onKey(k);
  }

  discard(): void {
    this.open = false;
  }

  func(): void {}

  /** The value's cost in the encoding the target gives it on load (the encoding goes to the key). */
  private cost(): number {
    const r = this.rules;
    const t = this.rdbType;
    const packedName = r.packed;
    switch (this.type) {
      case 'string':
        return this.costs(this.strBytes, this.strEnc);
      case 'list': {
        this.closeNode();
        if (r.listpackLists && this.nodeCount === 1 && this.nodeAlloc - QUICKLIST_NODE <= r.listNodeBytes / 2) {
          return this.costs(ROBJ + this.nodeAlloc - QUICKLIST_NODE, 'listpack');
        }
        return this.costs(ROBJ + QUICKLIST + this.nodeAlloc, 'quicklist');
      }
      case 'set': {
        const n = this.n;
        if (t === RdbType.SET_INTSET && n <= r.setMaxIntset) return this.costs(ROBJ + sc(this.packedBytes), 'intset');
        if (t === RdbType.SET_LISTPACK && r.listpackSets && n <= r.setMaxListpackEntries) return this.costs(ROBJ + sc(this.packedBytes), 'listpack');
        if (t === RdbType.SET && this.allInt && n <= r.setMaxIntset) return this.costs(ROBJ + sc(intsetBytes(n, this.width)), 'intset');
        if (t === RdbType.SET && r.listpackSets && n <= r.setMaxListpackEntries && this.largest <= r.setMaxListpackValue) {
          return this.costs(ROBJ + sc(this.lp), 'listpack');
        }
        const d = new DictSim();
        if (t === RdbType.SET && n <= r.setMaxIntset && this.firstOdd >= 0) {
          // Loaded into an intset until the first member that is not an integer, then converted.
          const k = this.firstOdd;
          d.expand(k);
          d.addMany(k);
          d.expand(n);
          d.addMany(n - k);
        } else {
          if (n > 4) d.expand(n);
          d.addMany(n);
        }
        return this.costs(ROBJ + r.dict + 8 * d.slots + n * DICT_ENTRY + this.sdsSum, 'hashtable');
      }
      case 'hash': {
        const pairs = this.n >> 1;
        const stored = t === RdbType.HASH_LISTPACK || (t === RdbType.HASH_ZIPLIST && packedName === 'ziplist');
        if (pairs <= r.hashMaxEntries) {
          if (stored) return this.costs(ROBJ + sc(this.packedBytes), packedName);
          if (this.firstOdd < 0) return this.costs(ROBJ + sc(packedName === 'listpack' ? this.lp : this.zl), packedName);
        }
        const d = new DictSim();
        if (pairs <= r.hashMaxEntries && this.firstOdd >= 0 && t === RdbType.HASH) {
          // A listpack until the first field or value longer than hash-max-listpack-value.
          const k = this.firstOdd;
          d.expand(k);
          d.addMany(k + 1);
          const rest = pairs - k - 1;
          if (rest > 4) d.expand(rest);
          d.addMany(rest);
        } else {
          d.expand(t === RdbType.HASH ? 0 : pairs);
          if (t === RdbType.HASH && pairs > 4) d.expand(pairs);
          d.addMany(pairs);
        }
        return this.costs(ROBJ + r.dict + 8 * d.slots + pairs * DICT_ENTRY + this.sdsSum, 'hashtable');
      }
      case 'zset': {
        const n = this.n;
        const stored = t === RdbType.ZSET_LISTPACK || (t === RdbType.ZSET_ZIPLIST && packedName === 'ziplist');
        if (n <= r.zsetMaxEntries) {
          if (stored) return this.costs(ROBJ + sc(this.packedBytes), packedName);
          if (this.largest <= r.zsetMaxValue) return this.costs(ROBJ + sc(packedName === 'listpack' ? this.lp : this.zl), packedName);
        }
        const d = new DictSim();
        if ((t === RdbType.ZSET || t === RdbType.ZSET_2) && n > 4) d.expand(n);
        d.addMany(n);
        return this.costs(Math.round(ROBJ + ZSET + ZSKIPLIST + r.dict + 8 * d.slots + SKIPLIST_HEADER + this.sdsSum + n * (DICT_ENTRY + SKIPLIST_NODE)), 'skiplist');
      }
      case 'stream':
        return this.costs(this.streamBytes, 'stream');
      case 'pathhash':
        return this.costs(this.pathBytes, 'path-hash');
      default:
        // A module's own mem_usage callback cannot be known from the file: its serialized size stands in.
        return this.costs(ROBJ + this.moduleBytes, 'module');
    }
  }

  private costs(bytes: number, encoding: string): number {
    this.k.encoding = encoding;
    return bytes;
  }
}

function raxUsage(r: RaxNodes): number {
  return r.keys * RAX_PER_KEY + r.nodes * RAX_PER_NODE;
}

/** Shortest round-trip digits, as 7.2+ (fpconv_dtoa) spells a score: JavaScript's spelling, exponent as C writes it. */
function shortest(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2');
}
