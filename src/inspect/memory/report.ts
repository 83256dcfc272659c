import { isUtf8 } from 'node:buffer';
import { showKey } from '../../restore/key-name.js';
import { nextSize } from './dict-sim.js';
import { PrefixTree, type PrefixRow, type PrefixTreeJson } from './prefix-tree.js';
import { TopHeap } from './top-heap.js';
import { DICT_ENTRY } from './rules.js';
import type { CostedKey, KeyMemory } from './value-cost.js';

export interface ReportOptions {
  top: number;
  separators: string;
  depth: number;
  /** Cap of the prefix tree (nodes); the smallest branches fold beyond it. */
  maxPrefixes: number;
  bigKeyBytes: number;
  bigKeyElements: number;
  /** "Already expired" and the TTL buckets are relative to this (unix ms). */
  now: number;
}

/** A key in the top lists and warnings (the key as text: UTF-8, or \xHH escapes when it is not). */
export interface KeyRow {
  db: number;
  key: string;
  type: string;
  encoding: string;
  bytes: number;
  elements: number;
  largest: number;
  ttlMs: number | null;
}

export interface BigKey extends KeyRow {
  reasons: string[];
}

export interface Share {
  name: string;
  keys: number;
  bytes: number;
  share: number;
}

export interface TtlBucket {
  bucket: 'none' | 'expired' | '<1h' | '<1d' | '<7d' | '>=7d';
  keys: number;
  bytes: number;
}

export interface MemoryReportData {
  source: string;
  rdbVersion: number;
  redisVersion: string | null;
  /** The release whose rules were applied. */
  model: string;
  keys: number;
  /** Sum of the per-key estimates (each as MEMORY USAGE key SAMPLES 0 would answer). */
  bytes: number;
  /** What MEMORY USAGE leaves out: the main dicts' bucket arrays and the expires dicts (entries and buckets). */
  keyspaceOverhead: number;
  byDb: Share[];
  byType: Share[];
  byEncoding: Share[];
  topByBytes: KeyRow[];
  topByElements: KeyRow[];
  prefixes: PrefixRow[];
  prefixTree: PrefixTreeJson;
  prefixesFolded: { branches: number; keys: number; bytes: number };
  ttl: TtlBucket[];
  /** Bytes of keys that have a TTL still in the future, and of those already expired (dropped at load by a master). */
  expiringBytes: number;
  expiredBytes: number;
  bigKeys: BigKey[];
  bigKeysTotal: number;
  options: { top: number; separators: string; depth: number; bigKeyBytes: number; bigKeyElements: number };
}

/** proto-max-bulk-len default: a string or DUMP payload beyond it cannot be sent back to a server. */
const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
const HOUR = 3_600_000;
const BIG_KEYS_KEPT = 1000;
const NONE: string[] = [];

export function keyText(key: Buffer): string {
  return isUtf8(key) ? key.toString('utf8') : showKey(key);
}

interface Tally {
  keys: number;
  bytes: number;
}

/** A type's keys and bytes, and by encoding within it. */
interface TypeTally extends Tally {
  encodings: Map<string, Tally>;
}

function tallyOf<K>(m: Map<K, Tally>, name: K): Tally {
  let t = m.get(name);
  if (!t) m.set(name, (t = { keys: 0, bytes: 0 }));
  return t;
}

const TTL_BUCKETS = ['none', 'expired', '<1h', '<1d', '<7d', '>=7d'] as const;

/**
 * The aggregations of the memory report, fed one KeyMemory at a time in file order: totals by db,
 * type and encoding, top-N heaps, the capped prefix tree, TTL buckets and big-key warnings. Memory
 * is bounded by the options (N, the prefix cap, 1000 big keys), not by the file.
 */
export class MemoryReport {
  private keys = 0;
  private bytes = 0;
  private readonly dbs = new Map<number, Tally>();
  /** The current db's tally: keys come db by db. */
  private db: Tally | null = null;
  private dbNumber = -1;
  /** By type, then encoding (no string built per key). */
  private readonly types = new Map<string, TypeTally>();
  private readonly expiresPerDb = new Map<number, number>();
  private readonly topBytes: TopHeap<KeyMemory>;
  private readonly topElements: TopHeap<KeyMemory>;
  private readonly big: TopHeap<BigKey>;
  private bigTotal = 0;
  private readonly prefixes: PrefixTree;
  /** By TTL_BUCKETS. */
  private readonly ttl: Tally[] = TTL_BUCKETS.map(() => ({ keys: 0, bytes: 0 }));
  private expiringBytes = 0;
  private expiredBytes = 0;

  constructor(private readonly opts: ReportOptions) {
    this.topBytes = new TopHeap(opts.top, (k) => k.bytes);
    this.topElements = new TopHeap(opts.top, (k) => k.elements);
    this.big = new TopHeap(BIG_KEYS_KEPT, (k) => k.bytes);
    this.prefixes = new PrefixTree(opts.separators, opts.depth, opts.maxPrefixes);
  }

  /** Folds in one key (valid only during the call: a key kept in a list is copied). */
  add(k: CostedKey): void {
    this.keys++;
    this.bytes += k.bytes;
    if (k.db !== this.dbNumber || this.db === null) {
      this.db = tallyOf(this.dbs, k.db);
      this.dbNumber = k.db;
    }
    this.db.keys++;
    this.db.bytes += k.bytes;
    let type = this.types.get(k.type);
    if (!type) this.types.set(k.type, (type = { keys: 0, bytes: 0, encodings: new Map() }));
    type.keys++;
    type.bytes += k.bytes;
    const enc = tallyOf(type.encodings, k.encoding);
    enc.keys++;
    enc.bytes += k.bytes;
    // Most keys enter neither top list: only those that do are copied out.
    const byBytes = this.topBytes.accepts(k.bytes);
    const byElements = k.type !== 'string' && this.topElements.accepts(k.elements);
    if (byBytes || byElements) {
      const kept = k.toKeyMemory();
      if (byBytes) this.topBytes.offer(kept);
      if (byElements) this.topElements.offer(kept);
    }
    this.prefixes.add(k.key, k.bytes, k.keyLength);
    const left = k.expireAtMs === null ? null : k.expireAtMs - this.opts.now;
    const bucket = left === null ? 0 : left <= 0 ? 1 : left < HOUR ? 2 : left < 24 * HOUR ? 3 : left < 168 * HOUR ? 4 : 5;
    const t = this.ttl[bucket]!;
    t.keys++;
    t.bytes += k.bytes;
    if (left !== null) {
      this.expiresPerDb.set(k.db, (this.expiresPerDb.get(k.db) ?? 0) + 1);
      if (left > 0) this.expiringBytes += k.bytes;
      else this.expiredBytes += k.bytes;
    }
    const reasons = this.bigReasons(k);
    if (reasons.length > 0) {
      this.bigTotal++;
      if (this.big.accepts(k.bytes)) this.big.offer({ ...this.row(k.toKeyMemory()), reasons });
    }
  }

  private bigReasons(k: CostedKey): string[] {
    const o = this.opts;
    if (k.bytes < o.bigKeyBytes && k.bytes <= PROTO_MAX_BULK_LEN && (k.type === 'string' ? k.largest <= PROTO_MAX_BULK_LEN : k.elements < o.bigKeyElements)) return NONE;
    const r: string[] = [];
    if (k.bytes >= o.bigKeyBytes) r.push(`uses ${k.bytes} bytes (>= --big-key-bytes ${o.bigKeyBytes})`);
    if (k.type !== 'string' && k.elements >= o.bigKeyElements) {
      r.push(`${k.elements} elements (>= --big-key-elements ${o.bigKeyElements}): DEL frees them in one blocking call, use UNLINK; HGETALL/SMEMBERS/LRANGE 0 -1 block too`);
    }
    if (k.type === 'string' && k.largest > PROTO_MAX_BULK_LEN) r.push(`string of ${k.largest} bytes, above proto-max-bulk-len (512 MB): SET/RESTORE of it are refused by a default server`);
    else if (k.bytes > PROTO_MAX_BULK_LEN) r.push(`about ${k.bytes} bytes: its DUMP payload may exceed proto-max-bulk-len (512 MB), so RESTORE/MIGRATE of it would fail`);
    return r;
  }

  private row(k: KeyMemory): KeyRow {
    return {
      db: k.db,
      key: keyText(k.key),
      type: k.type,
      encoding: k.encoding,
      bytes: k.bytes,
      elements: k.elements,
      largest: k.largest,
      ttlMs: k.expireAtMs === null ? null : k.expireAtMs - this.opts.now,
    };
  }

  finish(meta: { source: string; rdbVersion: number; redisVersion: string | null; model: string }): MemoryReportData {
    const shares = (m: Map<string, Tally>, sort: (a: [string, Tally], b: [string, Tally]) => number): Share[] =>
      [...m.entries()].sort(sort).map(([name, t]) => ({ name, keys: t.keys, bytes: t.bytes, share: this.bytes > 0 ? t.bytes / this.bytes : 0 }));
    const bySize = (a: [string, Tally], b: [string, Tally]) => b[1].bytes - a[1].bytes;
    const dbs = new Map([...this.dbs].map(([db, t]) => [String(db), t]));
    const types = new Map<string, Tally>();
    const encodings = new Map<string, Tally>();
    for (const [type, t] of this.types) {
      types.set(type, { keys: t.keys, bytes: t.bytes });
      for (const [enc, e] of t.encodings) encodings.set(`${type}/${enc}`, e);
    }
    // The main dict of each db is sized to its key count by RESIZEDB/growth (8 bytes a bucket);
    // the expires dict holds a dictEntry per key with a TTL and its own buckets.
    let overhead = 0;
    for (const [db, t] of this.dbs) {
      overhead += 8 * nextSize(t.keys);
      const e = this.expiresPerDb.get(db) ?? 0;
      if (e > 0) overhead += e * DICT_ENTRY + 8 * nextSize(e);
    }
    const o = this.opts;
    return {
      ...meta,
      keys: this.keys,
      bytes: this.bytes,
      keyspaceOverhead: overhead,
      byDb: shares(dbs, (a, b) => Number(a[0]) - Number(b[0])),
      byType: shares(types, bySize),
      byEncoding: shares(encodings, bySize),
      topByBytes: this.topBytes.sorted().map((k) => this.row(k)),
      topByElements: this.topElements.sorted().map((k) => this.row(k)),
      prefixes: this.prefixes.rows(Math.max(o.top, 50)).map((r) => ({ ...r, prefix: keyText(Buffer.from(r.prefix, 'latin1')) })),
      prefixTree: textTree(this.prefixes.tree(400)),
      prefixesFolded: { ...this.prefixes.folded },
      ttl: TTL_BUCKETS.map((bucket, i) => ({ bucket, keys: this.ttl[i]!.keys, bytes: this.ttl[i]!.bytes })),
      expiringBytes: this.expiringBytes,
      expiredBytes: this.expiredBytes,
      bigKeys: this.big.sorted(),
      bigKeysTotal: this.bigTotal,
      options: { top: o.top, separators: o.separators, depth: o.depth, bigKeyBytes: o.bigKeyBytes, bigKeyElements: o.bigKeyElements },
    };
  }
}

function textTree(t: PrefixTreeJson): PrefixTreeJson {
  return { ...t, prefix: keyText(Buffer.from(t.prefix, 'latin1')), children: t.children.map(textTree) };
}
