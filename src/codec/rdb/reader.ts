import type { ByteSource } from '../../util/byte-source.js';
import { FormatError, NewerVersionError } from '../../util/errors.js';
import { BadData, NeedMore } from '../parse-signals.js';
import { BlobError, entryToBuffer, type EntryVisitor, type PackedEntry } from './blob-error.js';
import { CheckVisitor } from './check-visitor.js';
import { EnterpriseOpcode, MAX_REDIS_RDB_VERSION, MAX_REDIS_VALUE_TYPE, ModuleOpcode, QuicklistContainer, RdbOpcode, RdbType, redisTypeOf, VALKEY_TYPE_HASH_2, VALKEY_TYPE_PATH_HASH } from './constants.js';
import { Crc64 } from './crc64.js';
import { formatScore } from './encoding.js';
import { intsetDecode } from './intset.js';
import { lpDecode, lpWalk } from './listpack.js';
import { packedScore, strtodPrefix } from './score-text.js';
import { LzfError, lzfDecompress, lzfDecompressInto } from './lzf.js';
import { hashFieldKey, type ArrayElement, type PathHashPath, type ModuleValue, type RdbKey, type RdbRecord, type RedisValue, type StreamConsumer, type StreamEntry, type StreamGroup, type StreamId, type StreamPendingEntry, type StreamValue } from './model.js';
import { zipmapDecode } from './zipmap.js';
import { UniqueBytes } from './unique-bytes.js';
import type { ValueSink } from './value-sink.js';
import { zlDecode, zlWalk } from './ziplist.js';

/**
 * Streaming RDB reader for every version Redis 2.x–8.x and Valkey write (formats digest §2).
 * Records are parsed synchronously over the ByteSource window; when the window ends inside a
 * record the parse restarts once more bytes are buffered (the wanted size grows geometrically), so
 * memory is bounded by the largest record. Hand-written: it must be exact to the byte, report the
 * offset of every defect, and be fast enough to keep up with redis-check-rdb.
 */

export interface ReadRdbOptions {
  /** Fill RdbKey.raw with the value's encoded bytes instead of decoding it into RdbKey.value. */
  raw?: boolean;
  /** Compare the CRC-64 trailer (default true). */
  verifyChecksum?: boolean;
  /**
   * Check everything but decode nothing (rdb-check): RdbKey.key is empty and .value/.raw stay
   * unset (module values excepted); the type follows from RdbKey.rdbType (redisTypeOf). Much
   * less allocation on large files.
   */
  validateOnly?: boolean;
  /** Computes the CRC-64 elsewhere (another thread); default: on this thread as the bytes are committed. */
  crc?: CrcAccumulator;
  /** Told about things the reader skips (empty keys, Valkey slot-import records). */
  onNotice?: (message: string, offset: number) => void;
  /**
   * Hand every key to this sink element by element while validating (implies validateOnly; every
   * key record is one shared stand-in, to be counted only). Function libraries go to the sink too.
   * With `raw`, key records are whole (RdbKey.raw set) and the sink sees each key's elements as
   * well, in the same pass (see rawUpTo).
   */
  sink?: ValueSink;
  /**
   * With raw and sink: a key record longer than this many bytes is not kept raw. It goes to the
   * sink (ValueSink.key's `streamed`) element by element, in resumable steps like any big value,
   * its elements handed over once and never held whole; its RdbKey has `streamed` set and no
   * `raw`. A record found longer only once parsed (or cut by the window) is parsed again from its
   * start, streamed: at most this many bytes parsed twice. Default: no limit.
   */
  rawUpTo?: number;
  /**
   * Check only the structure (lengths, opcodes, record boundaries) and the CRC: no LZF, no blob
   * walks, no uniqueness. Implies validateOnly; key records are a shared stand-in, as with a
   * sink. A splitter uses it to cut a file into pieces that other threads parse in full (`piece`).
   */
  skim?: boolean;
  /**
   * The source is a record-aligned piece of a file, not the whole file: it may end after any
   * record (null is returned then), and its CRC is not checked. `resume` gives the state at its
   * first byte when that is not the header. Offsets in errors are absolute when the source was
   * built with the piece's file offset.
   */
  piece?: { resume: PieceState | null };
  /**
   * Told about the bytes of every committed record, in file order (views of the window, never
   * mutated); before a FormatError, also about the unparsed rest of the window.
   */
  onBytes?: (b: Buffer, from: number, to: number) => void;
  /**
   * The same bytes passed a full check already (rdb-dump checks a big piece before printing it):
   * big sets, hashes, zsets and arrays build no table of their members to find duplicates, which
   * for a key of millions costs tens of MB.
   */
  checked?: boolean;
  /**
   * nextBatch() also returns (with no records, or those before it) each time a big value checked
   * in steps needs more bytes, rather than reading on to its end: its caller can act between
   * windows (rdb-dump's splitter moves a big key's bytes out as they come).
   */
  returnInSteps?: boolean;
  /**
   * Read a file of a newer version than this tool knows as the newest it knows (as Valkey's
   * relaxed version check does): the first type or opcode it does not know stops the read with a
   * NewerVersionError naming its offset, the records before it having been yielded.
   */
  allowNewer?: boolean;
}

/** Takes the CRC-covered bytes in order (views valid only during the call) and gives the CRC-64 at the end. */
export interface CrcAccumulator {
  update(b: Buffer, from: number, to: number): void;
  value(): bigint | Promise<bigint>;
}

/** Where a piece starts: the file's format and the database selected at that point. */
export interface PieceState {
  version: number;
  valkey: boolean;
  db: number;
  /** The file's version is newer than this tool knows (read under allowNewer). */
  newer?: boolean;
  /** RDB 15 hash templates defined before the piece (id, field names). */
  templates?: Array<[number, Uint8Array[]]>;
}

/**
 * A type or opcode this tool does not read, in a file that may legitimately hold it (a newer
 * version read under allowNewer, or a type named in public sources whose layout is not public):
 * not damage, so it becomes a NewerVersionError (exit 6), not a FormatError.
 */
class Unreadable {
  constructor(
    readonly at: number,
    readonly found: string,
    readonly why: string,
  ) {}
}

/** Decimal text of an RDB 14 array element's int64 / double (as librdb prints them). */
const ARRAY_TAG = { SDS: 0, INT: 1, FLOAT: 2, SMALLSTR: 3 } as const;
/** The array index sentinel "none" (UINT64_MAX) is not a valid element index. */
const U64_MAX = 0xffffffffffffffffn;
/** A template id above this is refused rather than trusted (librdb bounds it the same way). */
const MAX_TEMPLATE_ID = 1 << 24;

const TWO32 = 0x100000000;
/** A string value at least this long is checked as it streams (see Steps), not held whole. */
const BIG_STRING = 1 << 20;
const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Sentinel of a stream group's unknown entries_read (uint64 all ones). */
const ENTRIES_READ_UNKNOWN = 0xffffffffffffffffn;

/**
 * A big value checked step by step (validate-only): a step is one element, one pair or one node.
 * When the window ends inside the value, the bytes of the whole steps are committed and the check
 * continues from the next step once more bytes arrive, instead of parsing the record again from
 * its start: a value of millions of elements arriving in network-sized chunks stays linear, and
 * the window holds one step rather than the whole record.
 */
interface Steps {
  type: number;
  /** Steps in the value (elements, pairs, quicklist or stream nodes). */
  n: number;
  /** Steps done. */
  i: number;
  /** Elements counted so far (quicklists: the sum of the node counts). */
  total: number;
  /** Absolute offsets of the record and of the first step (duplicate errors point there). */
  startAbs: number;
  firstAbs: number;
  /** The key's window index while the record has not been cut yet; its bytes afterwards (empty-key notice). */
  keyAt: number;
  name: Buffer | null;
  /** Stream node keys seen (they must be unique). */
  nodeKeys: Set<string> | null;
  /** Streams: the last node's key, whether the nodes came in key order so far, the first live entry's ID. */
  lastNode: StreamId | null;
  ordered: boolean;
  firstEntry: StreamId | null;
  /** Template hashes (types 31, 32): the field names the values pair with. */
  fields?: Buffer[];
  /**
   * Raw mode: the absolute offset of the next step. The window keeps the record from its start
   * (its raw bytes are wanted whole), and the steps go on from there instead of the record being
   * parsed again: a big record is parsed once, and a sink sees its elements once.
   */
  resumeAbs?: number;
}

export function moduleTypeName(id: bigint): string {
  let name = '';
  for (let i = 0; i < 9; i++) name += MODULE_CHARSET[Number((id >> BigInt(58 - 6 * i)) & 63n)];
  return name;
}

/** Bytes from the file shown inside a one-line message: printable ASCII, escaped, at most 40 chars. */
function shown(b: Buffer | string): string {
  const t = typeof b === 'string' ? b : b.toString('latin1');
  const esc = JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}...` : t).replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return esc;
}

function idKey(ms: bigint, seq: bigint): string {
  return `${ms}-${seq}`;
}

/** The synchronous record parser. `b` is the current window, `p` the read position in it. */
class RecordParser {
  b: Buffer = Buffer.alloc(0);
  p = 0;
  version = 0;
  valkey = false;
  db = 0;
  /** Prefix opcodes waiting for the next key. */
  expireAt: number | null = null;
  idle: number | undefined;
  freq: number | undefined;
  keyMeta: Buffer | undefined;
  /** The RDB type of the value being decoded, -1 outside values: reset by record() (see FormatError.corrupt). */
  valueType = -1;
  /** Absolute offset of the first prefix opcode of the pending key, -1 when none. */
  prefixAbs = -1;
  /** Window index just past the byte that ends the CRC-covered part of an EOF record. */
  crcEnd = 0;
  /** The header's version is newer than MAX_REDIS_RDB_VERSION / 81 (read under allowNewer). */
  newer = false;
  /** RDB 15 template section: id -> field names (strictly ascending by length, then bytes). */
  readonly templates = new Map<number, Buffer[]>();
  /** The same, in definition order, as pieces carry them (PieceState.templates). */
  readonly templateList: Array<[number, Uint8Array[]]> = [];

  /** Scratch output for LZF strings that are only validated. */
  private scratch = Buffer.allocUnsafe(1 << 16);
  /**
   * str() decompresses LZF into the scratch: blobCheck without a sink walks the blob before the
   * next string is read (a sink may keep views of the blob's elements, so it gets a fresh one
   * unless it says it keeps none).
   */
  private lzfIntoScratch = false;
  /** Decimal text of an array index (up to 20 digits), for the uniqueness check. */
  private readonly indexText = Buffer.allocUnsafe(24);
  /** Decimal text of an array's int64 or double element. */
  private readonly numText = Buffer.allocUnsafe(40);
  /** Decimal text of the last integer-encoded string read by span(). */
  private readonly intText = Buffer.allocUnsafe(16);
  /** The bytes of the last string read by span(): rb[rs, re) (window, LZF scratch or intText). */
  rb: Buffer = this.intText;
  rs = 0;
  re = 0;
  /** Where the current key's elements go: the sink, or null when it is only validated. */
  private out: ValueSink | null = null;
  private readonly listCheck = new CheckVisitor(0, false);
  private readonly setCheck = new CheckVisitor(1, false);
  private readonly hashCheck = new CheckVisitor(2, false);
  private readonly zsetCheck = new CheckVisitor(2, true);
  /** Members/fields seen in the current hashtable-encoded value. */
  private readonly unique = new UniqueBytes();
  /** Fields seen in the current path of a path hash checked in steps (its paths go in `unique`). */
  private readonly pathFields = new UniqueBytes();
  /** False when the bytes were checked already (ReadRdbOptions.checked): big values skip `unique`. */
  uniqueCheck = true;
  /** File offset of b[0]. */
  private base = 0;
  /** The big value being checked in steps, while its record is not complete; null otherwise. */
  steps: Steps | null = null;
  /** Window index after the last whole step of `steps`. */
  mark = 0;
  /** Decompressed size of the last stream node listpack read (ValueSink.streamListpack). */
  private nodeBytes = 0;
  /** Raw mode with a sink: the absolute offset of the key record to stream (see ReadRdbOptions.rawUpTo), and whether the open key is it. */
  streamAbs = -1;
  streaming = false;
  rawUpTo = Infinity;
  /** Raw mode: the absolute offset where the open key's value starts (its raw bytes). */
  private rawValueAbs = -1;

  constructor(
    readonly raw: boolean,
    readonly validateOnly: boolean,
    readonly notice: (message: string, at: number) => void,
    readonly sink: ValueSink | null,
    readonly skim: boolean,
    readonly allowNewer: boolean,
  ) {}

  /** Re-reads the key string at window index `at` (messages in validate-only mode). */
  private keyAt(at: number): Buffer {
    const p = this.p;
    this.p = at;
    const key = this.str();
    this.p = p;
    return key;
  }

  /**
   * Validates an RDB string and leaves its bytes in rb[rs, re) without allocating; with `only`
   * (skim), steps over it without decompressing or reading it.
   */
  span(only = this.skim): void {
    const at = this.p;
    const b0 = this.u8();
    if (b0 >> 6 !== 3) {
      this.p = at;
      const n = this.len();
      this.need(n);
      this.rb = this.b;
      this.rs = this.p;
      this.p += n;
      this.re = this.p;
      return;
    }
    const enc = b0 & 0x3f;
    if (enc <= 2) {
      const size = enc === 0 ? 1 : enc === 1 ? 2 : 4;
      this.need(size);
      if (only) {
        this.p += size;
        return;
      }
      const v = enc === 0 ? this.b.readInt8(this.p) : enc === 1 ? this.b.readInt16LE(this.p) : this.b.readInt32LE(this.p);
      this.p += size;
      this.rb = this.intText;
      this.rs = 0;
      this.re = this.intText.write(String(v), 0, 'latin1');
      return;
    }
    if (enc !== 3) throw new BadData(at, `a string encoding, found 0x${b0.toString(16)}`, true);
    const clen = this.len();
    const ulen = this.len();
    this.need(clen);
    const from = this.p;
    this.p += clen;
    if (ulen === 0 || ulen > clen * 132 + 64) throw new BadData(at, `an LZF string whose length ${ulen} fits its ${clen} compressed bytes`, true);
    if (only) return;
    if (this.scratch.length < ulen) this.scratch = Buffer.allocUnsafe(Math.max(ulen, this.scratch.length * 2));
    try {
      lzfDecompressInto(this.b, this.scratch, ulen, from, from + clen);
    } catch (e) {
      if (e instanceof LzfError) throw new BadData(at, `a valid LZF string (${e.message})`, true);
      throw e;
    }
    this.rb = this.scratch;
    this.rs = 0;
    this.re = ulen;
  }

  /** span() and hand the string to the current key's sink. */
  private element(): void {
    this.span();
    this.out?.str(this.rb, this.rs, this.re);
  }

  /** Validates a listpack/ziplist blob with `check`; returns its element count. */
  private blobCheck(walk: (blob: Buffer, v: EntryVisitor) => number, check: CheckVisitor, what: string): number {
    if (this.skim) return this.skimBlob();
    const at = this.p;
    let n: number;
    this.lzfIntoScratch = this.out === null || this.out.keepsNoViews === true;
    try {
      n = this.blob((b) => {
        this.out?.packed?.(b.length);
        return walk(b, check.reset(this.out));
      }, what);
    } finally {
      this.lzfIntoScratch = false;
    }
    if (check.problem) throw new BadData(at, `${what}: ${check.problem}`);
    return n;
  }

  /** Skim mode: a blob is just a string to step over (counted as one element). */
  private skimBlob(): number {
    this.span();
    return 1;
  }

  /**
   * Validation-only counterpart of value(): the element count (0 = empty key, skipped). `keyAt`:
   * window index of the key (big values keep it for a notice).
   */
  checkValue(type: number, start: number, keyAt: number): number {
    switch (type) {
      case RdbType.STRING:
        // A big plain string nobody reads is stepped over as it arrives: the window never holds it.
        if (this.out === null && this.plainLength() >= BIG_STRING) return this.beginSteps(type, start, keyAt, false);
        this.element();
        return 1;
      case RdbType.LIST:
      case RdbType.SET:
      case RdbType.HASH:
      case RdbType.ZSET:
      case RdbType.ZSET_2:
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        return this.beginSteps(type, start, keyAt, false);
      case RdbType.STREAM_LISTPACKS:
      case RdbType.STREAM_LISTPACKS_2:
      case RdbType.STREAM_LISTPACKS_3:
      case RdbType.STREAM_LISTPACKS_4:
      case RdbType.STREAM_LISTPACKS_5: {
        // Checked node by node; a sink gets the nodes (streamNode) or the decoded value.
        if (this.out === null || this.out.nodesInFileOrder === true) return this.beginSteps(type, start, keyAt, true);
        return this.streamToSink(this.out, type, start);
      }
      case RdbType.HASH_METADATA:
      case RdbType.HASH_METADATA_PRE_GA: // also Valkey's HASH_2
        // Hashes with field TTLs: a sink takes them decoded; otherwise they are checked pair by pair.
        if (this.out !== null) break;
        if (type === RdbType.HASH_METADATA) this.i64(); // min expire: informational
        return this.beginSteps(type, start, keyAt, false);
      case RdbType.LIST_ZIPLIST:
        return this.blobCheck(zlWalk, this.listCheck, 'ziplist');
      case RdbType.SET_INTSET: {
        if (this.skim) return this.skimBlob();
        const at = this.p;
        let bytes = 0;
        const items = this.blob((b) => ((bytes = b.length), intsetDecode(b)), 'intset');
        if (items.length === 0) throw new BadData(at, 'a non-empty intset');
        if (this.out) {
          this.out.packed?.(bytes);
          for (const v of items) this.out.int(v);
        }
        return items.length;
      }
      case RdbType.SET_LISTPACK:
        return this.blobCheck(lpWalk, this.setCheck, 'listpack');
      case RdbType.HASH_TMPL_ARRAY_REF:
      case RdbType.HASH_TMPL_ARRAY: {
        // Field names from the template, values checked (and handed to a sink pair by pair) in
        // resumable steps: a big template hash is never decoded whole nor parsed again from its start.
        const idAt = this.p;
        const fields = type === RdbType.HASH_TMPL_ARRAY ? this.inlineTemplate() : this.template(this.len(), idAt);
        return this.beginSteps(type, start, keyAt, false, fields.length, fields);
      }
      case RdbType.ARRAY: {
        // Checked (and handed to a sink that takes elements) step by step; other sinks get value().
        if (this.out !== null && this.out.arrayElement === undefined) break;
        const [n, insertIdx] = this.arrayHead();
        this.out?.arrayStart!(insertIdx);
        return this.beginSteps(type, start, keyAt, false, n);
      }
      case VALKEY_TYPE_PATH_HASH: // in REDIS files 23 is the 7.4-rc HASH_LISTPACK_EX, decoded below
        // Checked path by path in resumable steps (and handed to a sink that takes paths); other sinks get value().
        if (!this.valkey || (this.out !== null && this.out.pathHashPath === undefined)) break;
        return this.beginSteps(type, start, keyAt, false);
      case RdbType.ZSET_ZIPLIST:
      case RdbType.HASH_ZIPLIST:
      case RdbType.ZSET_LISTPACK:
      case RdbType.HASH_LISTPACK: {
        const at = this.p;
        const zset = type === RdbType.ZSET_ZIPLIST || type === RdbType.ZSET_LISTPACK;
        const walk = type === RdbType.ZSET_ZIPLIST || type === RdbType.HASH_ZIPLIST ? zlWalk : lpWalk;
        const n = this.blobCheck(walk, zset ? this.zsetCheck : this.hashCheck, walk === zlWalk ? 'ziplist' : 'listpack');
        if (n % 2 !== 0 && !this.skim) throw new BadData(at, `a ${zset ? 'zset' : 'hash'} blob with an even number of entries`);
        return n;
      }
    }
    // Rare or small types (zipmap, module, hash-field TTL listpacks), and what a sink takes decoded
    // (Valkey path hashes among them): the full decoder checks them.
    const v = this.value(type, start);
    if (v !== null) this.out?.value(v);
    return v === null ? 0 : 1;
  }

  /** Reads the step count of a big value and checks its steps (see Steps). */
  private beginSteps(type: number, start: number, keyAt: number, stream: boolean, count?: number, fields?: Buffer[]): number {
    const n = count ?? this.len();
    // Sized for the members of a set, hash or zset up front (n counts bytes, nodes or elements otherwise).
    const members =
      type === RdbType.SET || type === RdbType.HASH || type === RdbType.ZSET || type === RdbType.ZSET_2 || type === RdbType.HASH_METADATA || type === RdbType.HASH_METADATA_PRE_GA || type === RdbType.ARRAY ||
      type === VALKEY_TYPE_PATH_HASH; // its paths (checkValue takes 23 in steps only in VALKEY files)
    this.unique.reset(members && this.uniqueCheck ? n : 0);
    if (members) this.out?.memberCount?.(n);
    this.steps = {
      type,
      n,
      i: 0,
      total: 0,
      startAbs: this.base + start,
      firstAbs: this.base + this.p,
      keyAt,
      name: null,
      nodeKeys: stream && !this.skim ? new Set<string>() : null,
      lastNode: null,
      ordered: true,
      firstEntry: null,
      fields,
    };
    this.mark = this.p;
    return this.runSteps(this.steps);
  }

  /**
   * Checks the steps of `s` from the next one on; this.mark follows the end of the last whole
   * step. A step records nothing (uniqueness, sink) until all its bytes are in the window, so a
   * step cut by the window's end is simply taken again. Returns the value's element count.
   */
  private runSteps(s: Steps): number {
    const out = this.out;
    switch (s.type) {
      case RdbType.STRING: {
        // Steps are bytes here: whatever part of the string the window holds.
        const take = Math.min(s.n - s.i, this.b.length - this.p);
        this.p += take;
        s.i += take;
        this.mark = this.p;
        if (s.i < s.n) throw new NeedMore(this.p + Math.min(s.n - s.i, 1 << 16));
        return 1;
      }
      case RdbType.LIST:
        for (; s.i < s.n; s.i++) {
          this.element();
          this.mark = this.p;
        }
        return s.n;
      case RdbType.SET:
      case RdbType.HASH:
      case RdbType.ZSET:
      case RdbType.ZSET_2:
      case RdbType.HASH_METADATA:
      case RdbType.HASH_METADATA_PRE_GA: {
        const seen = this.unique;
        const type = s.type;
        const zset = type === RdbType.ZSET || type === RdbType.ZSET_2;
        // Field TTLs: a LEN before the field (Redis), an int64 after the value (Valkey HASH_2).
        const ttlFirst = type === RdbType.HASH_METADATA || (type === RdbType.HASH_METADATA_PRE_GA && !this.valkey);
        const ttlAfter = type === RdbType.HASH_METADATA_PRE_GA && this.valkey;
        for (; s.i < s.n; s.i++) {
          if (type !== RdbType.SET) this.pairPresent(type, ttlFirst, ttlAfter);
          if (ttlFirst) this.len();
          this.span();
          if (!this.skim && this.uniqueCheck && !seen.add(this.rb, this.rs, this.re))
            throw new BadData(s.firstAbs - this.base, `unique ${type === RdbType.SET ? 'set members' : zset ? 'zset members' : 'hash fields'}, found a duplicate`);
          out?.str(this.rb, this.rs, this.re);
          if (zset) {
            const sAt = this.p;
            const sc = type === RdbType.ZSET ? this.stringDouble() : this.binaryDouble();
            if (Number.isNaN(sc)) throw new BadData(sAt, 'a zset score that is not NaN');
            out?.score(sc);
          } else if (type !== RdbType.SET) {
            this.element();
            if (ttlAfter) this.p += 8;
          }
          this.mark = this.p;
        }
        return s.n;
      }
      case RdbType.HASH_TMPL_ARRAY_REF:
      case RdbType.HASH_TMPL_ARRAY:
        for (; s.i < s.n; s.i++) {
          // The value must be whole before its field goes out (a step cut by the window is taken again).
          const at = this.p;
          this.span(true);
          this.p = at;
          const f = s.fields![s.i]!;
          out?.str(f, 0, f.length);
          this.element();
          this.mark = this.p;
        }
        return s.n;
      case RdbType.ARRAY:
        for (; s.i < s.n; s.i++) {
          const at = this.p;
          const index = this.arrayIndex();
          // Indexes are unique: their decimal text goes into the member set.
          const text = this.indexText.write(index.toString(), 0, 'latin1');
          this.arrayElement();
          if (this.uniqueCheck && !this.unique.add(this.indexText, 0, text)) throw new BadData(at, `unique array indexes, found ${index} twice`);
          out?.arrayElement!(index, this.rb, this.rs, this.re);
          this.mark = this.p;
        }
        return s.n;
      case VALKEY_TYPE_PATH_HASH: {
        // A step is one path with its fields (the window holds one path, not the key): stepped over
        // first, so nothing is recorded until it is whole. Same checks and offsets as pathHash().
        const paths = this.unique;
        const fields = this.pathFields;
        for (; s.i < s.n; s.i++) {
          const at = this.p;
          this.span(true);
          const m = this.len();
          for (let j = 0; j < 2 * m; j++) this.span(true);
          this.p = at;
          this.span();
          if (!this.skim && this.uniqueCheck && !paths.add(this.rb, this.rs, this.re)) throw new BadData(at, `unique path hash paths, found ${shown(this.keyAt(at))} twice`);
          const mAt = this.p;
          this.len();
          if (m === 0) throw new BadData(mAt, `a path hash path with at least one field, found 0 for path ${shown(this.keyAt(at))}`);
          const fAt = this.p;
          fields.reset(m);
          for (let j = 0; j < m; j++) {
            this.span();
            if (!this.skim && !fields.add(this.rb, this.rs, this.re)) throw new BadData(fAt, `unique fields of path hash path ${shown(this.keyAt(at))}, found a duplicate`);
            this.span();
          }
          s.total += m;
          if (out !== null) this.pathToSink(out, at, m);
          this.mark = this.p;
        }
        // Fields counted; a path hash without paths is still a key (Valkey loads it).
        return Math.max(1, s.total);
      }
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2: {
        const v2 = s.type === RdbType.LIST_QUICKLIST_2;
        for (; s.i < s.n; s.i++) {
          const at = this.p;
          const container = v2 ? this.len() : QuicklistContainer.PACKED;
          if (container === QuicklistContainer.PLAIN) {
            this.element();
            s.total++;
          } else {
            if (container !== QuicklistContainer.PACKED) throw new BadData(at, `a quicklist node container 1 (PLAIN) or 2 (PACKED), found ${container}`);
            const bAt = this.p;
            const n = this.blobCheck(v2 ? lpWalk : zlWalk, this.listCheck, v2 ? 'quicklist listpack node' : 'quicklist ziplist node');
            if (n === 0 && v2) throw new BadData(bAt, 'a non-empty quicklist node');
            s.total += n;
          }
          this.mark = this.p;
        }
        return s.total;
      }
      default:
        return this.streamSteps(s, this.out);
    }
  }

  /** The checked path at window index `at` (m fields) read again as Buffers for the sink; p ends where it was. */
  private pathToSink(out: ValueSink, at: number, m: number): void {
    const end = this.p;
    this.p = at;
    const path = this.str();
    this.len();
    const fields: Array<[Buffer, Buffer]> = [];
    for (let j = 0; j < m; j++) {
      const f = this.str();
      fields.push([f, this.str()]);
    }
    this.p = end;
    out.pathHashPath!(path, fields);
  }

  /** The length of the plain (not int or LZF encoded) string at p, or -1; p does not move. */
  private plainLength(): number {
    const b0 = this.b[this.p];
    if (b0 === undefined || b0 >> 6 === 3) return -1;
    const at = this.p;
    const n = this.len();
    this.p = at;
    return n;
  }

  /** Hash and zset steps are pairs: steps over the pair first, so its member is recorded only once it is whole. */
  private pairPresent(type: number, ttlFirst: boolean, ttlAfter: boolean): void {
    const at = this.p;
    if (ttlFirst) this.len();
    this.span(true);
    if (type === RdbType.ZSET_2) this.need(8);
    else if (type === RdbType.ZSET) {
      const n = this.u8();
      if (n < 253) this.need(n);
    } else {
      this.span(true);
      if (ttlAfter) this.need(8);
    }
    this.p = at;
  }

  /**
   * A stream for a sink, read twice from the window, which holds the whole record (no Steps: a
   * NeedMore parses it again from its start with more bytes): a check of every node as rdb-check
   * makes it (same errors, nothing kept), then the nodes again, each node's entries handed to the
   * sink as one batch (streamNode) and the groups after them (streamEnd). The raw record is held,
   * never its decoded entries. Nodes out of key order (Redis never writes them, but loads them
   * sorted), or a sink without streamNode, get the value decoded whole and sorted instead.
   */
  private streamToSink(out: ValueSink, type: number, start: number): number {
    if (out.streamNode !== undefined) {
      const from = this.p;
      const ordered = this.streamScan(type, null).ordered;
      this.p = from;
      if (ordered) {
        this.streamScan(type, out);
        return 1;
      }
    }
    out.value(this.value(type, start)!);
    return 1;
  }

  /** streamSteps over a whole stream record in the window, not resumable (see streamToSink). */
  private streamScan(type: number, out: ValueSink | null): Steps {
    const s: Steps = { type, n: this.len(), i: 0, total: 0, startAbs: -1, firstAbs: -1, keyAt: -1, name: null, nodeKeys: new Set<string>(), lastNode: null, ordered: true, firstEntry: null };
    this.streamSteps(s, out);
    return s;
  }

  /**
   * A stream checked node by node (no entry decoded past its node), then its groups in one step.
   * `out`: the sink of a stream whose nodes are known to be in key order (streamToSink), handed
   * each node's live entries, then the stream's state.
   */
  private streamSteps(s: Steps, out: ValueSink | null): number {
    const ver = streamVersion(s.type);
    const entries: StreamEntry[] = [];
    for (; s.i < s.n; s.i++) {
      const at = this.p;
      this.span(true);
      this.span(true);
      if (!this.skim) {
        this.p = at;
        entries.length = 0;
        const node = this.streamNode(s.nodeKeys!, entries);
        const prev = s.lastNode;
        if (prev !== null && compareId(prev.ms, prev.seq, node.ms, node.seq) > 0) s.ordered = false;
        s.lastNode = node;
        out?.streamListpack?.(this.nodeBytes, node.ms, node.seq);
        if (entries.length > 0) {
          s.firstEntry ??= entries[0]!.id;
          out?.streamNode!(entries);
        }
      }
      this.mark = this.p;
    }
    const meta = this.streamTail(ver, s.n, s.firstEntry ?? { ms: 0n, seq: 0n });
    out?.streamEnd!(meta);
    return 1;
  }

  private need(n: number): void {
    if (this.p + n > this.b.length) throw new NeedMore(this.p + n);
  }

  u8(): number {
    if (this.p >= this.b.length) throw new NeedMore(this.p + 1);
    return this.b[this.p++]!;
  }

  take(n: number): Buffer {
    this.need(n);
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  /**
   * A plain LEN. A special string encoding byte (11xxxxxx) here is its low 6 bits, as Redis's
   * rdbLoadLen reads it (formats digest §2.3): a stricter reader calls loadable files corrupt.
   */
  len(): number {
    const at = this.p;
    const b0 = this.u8();
    switch (b0 >> 6) {
      case 0:
        return b0 & 0x3f;
      case 1:
        return ((b0 & 0x3f) << 8) | this.u8();
      case 2: {
        if (b0 === 0x80) {
          this.need(4);
          const v = this.b.readUInt32BE(this.p);
          this.p += 4;
          return v;
        }
        if (b0 === 0x81) {
          this.need(8);
          const hi = this.b.readUInt32BE(this.p);
          const lo = this.b.readUInt32BE(this.p + 4);
          if (hi >= 0x200000) throw new BadData(at, 'a 64-bit length below 2^53');
          this.p += 8;
          return hi * TWO32 + lo;
        }
        throw new BadData(at, `a length encoding, found 0x${b0.toString(16)}`, true);
      }
      default:
        return b0 & 0x3f;
    }
  }

  /** A LEN read as bigint (stream IDs, module ids, entries_read sentinel). */
  lenBig(): bigint {
    const b0 = this.b[this.p];
    if (b0 === 0x81) {
      this.p++;
      this.need(8);
      const v = this.b.readBigUInt64BE(this.p);
      this.p += 8;
      return v;
    }
    return BigInt(this.len());
  }

  /** An RDB string (§2.4): raw, int-encoded or LZF. Raw strings are slices of the window. */
  str(): Buffer {
    const at = this.p;
    const b0 = this.u8();
    if (b0 >> 6 !== 3) {
      this.p = at;
      return this.take(this.len());
    }
    switch (b0 & 0x3f) {
      case 0:
        this.need(1);
        return Buffer.from(String(this.b.readInt8(this.p++)), 'latin1');
      case 1: {
        this.need(2);
        const v = this.b.readInt16LE(this.p);
        this.p += 2;
        return Buffer.from(String(v), 'latin1');
      }
      case 2: {
        this.need(4);
        const v = this.b.readInt32LE(this.p);
        this.p += 4;
        return Buffer.from(String(v), 'latin1');
      }
      case 3: {
        const clen = this.len();
        const ulen = this.len();
        this.need(clen);
        const from = this.p;
        this.p += clen;
        // LZF expands at most ~132x; a larger claim is corruption, not an allocation to attempt.
        if (ulen === 0 || ulen > clen * 132 + 64) throw new BadData(at, `an LZF string whose length ${ulen} fits its ${clen} compressed bytes`);
        try {
          if (!this.lzfIntoScratch) return lzfDecompress(this.b.subarray(from, from + clen), ulen);
          if (this.scratch.length < ulen) this.scratch = Buffer.allocUnsafe(Math.max(ulen, this.scratch.length * 2));
          lzfDecompressInto(this.b, this.scratch, ulen, from, from + clen);
          return this.scratch.subarray(0, ulen);
        } catch (e) {
          if (e instanceof LzfError) throw new BadData(at, `a valid LZF string (${e.message})`, true);
          throw e;
        }
      }
      default:
        throw new BadData(at, `a string encoding, found 0x${b0.toString(16)}`, true);
    }
  }

  /** A blob string, decoded by `fn`; blob errors are mapped to window positions when uncompressed. */
  blob<T>(fn: (blob: Buffer) => T, what: string): T {
    const at = this.p;
    const compressed = this.b[at] !== undefined && this.b[at]! >> 6 === 3;
    const data = this.str();
    try {
      return fn(data);
    } catch (e) {
      if (e instanceof BlobError) {
        const pos = compressed ? at : this.p - data.length + e.at;
        throw new BadData(pos, `${what}: ${e.expected}${compressed ? ` (at byte ${e.at} of the decompressed blob)` : ''}`);
      }
      throw e;
    }
  }

  i64(): number {
    this.need(8);
    const lo = this.b.readUInt32LE(this.p);
    const hi = this.b.readInt32LE(this.p + 4);
    this.p += 8;
    return hi * TWO32 + lo;
  }

  binaryDouble(): number {
    this.need(8);
    const v = this.b.readDoubleLE(this.p);
    this.p += 8;
    return v;
  }

  stringDouble(): number {
    const at = this.p;
    const n = this.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    // sscanf("%lg"): the number at the start of the text, whatever follows it.
    const s = this.take(n).toString('latin1');
    const v = strtodPrefix(s);
    if (v === null) throw new BadData(at, `a decimal score, found ${shown(s)}`);
    return v;
  }

  streamIdRaw(): StreamId {
    this.need(16);
    const ms = this.b.readBigUInt64BE(this.p);
    const seq = this.b.readBigUInt64BE(this.p + 8);
    this.p += 16;
    return { ms, seq };
  }

  streamIdLen(): StreamId {
    const ms = this.lenBig();
    const seq = this.lenBig();
    return { ms, seq };
  }

  /** Skips a module opcode stream up to and including its EOF opcode (§2.11). */
  moduleOpcodes(): void {
    for (;;) {
      const at = this.p;
      const op = this.len();
      switch (op) {
        case ModuleOpcode.EOF:
          return;
        case ModuleOpcode.SINT:
        case ModuleOpcode.UINT:
          this.lenBig();
          break;
        case ModuleOpcode.FLOAT:
          this.take(4);
          break;
        case ModuleOpcode.DOUBLE:
          this.take(8);
          break;
        case ModuleOpcode.STRING:
          this.str();
          break;
        default:
          throw new BadData(at, `a module opcode 0-5, found ${op}`);
      }
    }
  }

  moduleValue(): ModuleValue {
    const id = this.lenBig();
    const start = this.p;
    this.moduleOpcodes();
    return { id, name: moduleTypeName(id), encver: Number(id & 1023n), raw: this.b.subarray(start, this.p) };
  }

  /** Parses the header; the window starts at file offset 0. `name` names the file in errors. */
  header(name: string): RdbRecord {
    this.need(9);
    const b = this.b;
    let digits: string;
    if (b.toString('latin1', 0, 5) === 'REDIS') {
      digits = b.toString('latin1', 5, 9);
      this.p = 9;
    } else if (b.toString('latin1', 0, 6) === 'VALKEY') {
      digits = b.toString('latin1', 6, 9);
      this.valkey = true;
      this.p = 9;
    } else {
      throw new BadData(0, `the RDB magic "REDIS" or "VALKEY", found ${shown(b.subarray(0, 6))}`);
    }
    if (!/^[0-9]+$/.test(digits)) throw new BadData(this.valkey ? 6 : 5, `RDB version digits, found ${shown(digits)}`);
    const v = Number(digits);
    const [lo, hi] = this.valkey ? [80, 81] : [1, MAX_REDIS_RDB_VERSION];
    const reads = `${this.valkey ? 'VALKEY' : 'REDIS'} RDB ${lo}-${hi}`;
    // Newer than we know is not damage (a later Redis wrote it): its own error kind and exit code.
    if (v > hi) {
      if (!this.allowNewer) throw new NewerVersionError(name, this.valkey ? 6 : 5, `${this.valkey ? 'VALKEY' : 'REDIS'} RDB version ${v}`, reads);
      this.newer = true;
      this.notice(`${this.valkey ? 'VALKEY' : 'REDIS'} RDB version ${v} is newer than this tool reads (${reads}): reading it as ${hi} (--allow-newer); the first unknown type or opcode stops the read`, this.valkey ? 6 : 5);
    }
    if (v < lo) throw new BadData(this.valkey ? 6 : 5, `an RDB version this tool reads (${reads}), found ${v}`);
    this.version = v;
    return { kind: 'header', version: v, flavor: this.valkey ? 'valkey' : 'redis', offset: 0 };
  }

  /**
   * Parses one record at `p`. Returns null for prefix opcodes (expiry, IDLE, FREQ, KEY_META) and
   * for skipped content; those are committed and attach to the next key. `base` = file offset of b[0].
   */
  record(base: number): RdbRecord | null {
    this.base = base;
    const start = this.p;
    this.valueType = -1;
    const op = this.u8();
    if (op <= (this.valkey ? VALKEY_TYPE_PATH_HASH : MAX_REDIS_VALUE_TYPE) && op !== 8) return this.key(op, start, base);
    switch (op) {
      case RdbOpcode.EOF: {
        this.crcEnd = this.p;
        if (this.version >= 5) this.need(8);
        if (this.prefixAbs >= 0) throw new BadData(start, 'a key after its expiry/IDLE/FREQ prefix, found EOF');
        return { kind: 'eof', offset: base + start, checksum: null, computed: 0n, end: 0 };
      }
      case RdbOpcode.SELECTDB: {
        const db = this.len();
        this.db = db;
        return { kind: 'selectdb', db, offset: base + start };
      }
      case RdbOpcode.EXPIRETIME: {
        this.need(4);
        const s = this.b.readInt32LE(this.p);
        this.p += 4;
        this.setPrefix(base + start);
        this.expireAt = s * 1000;
        return null;
      }
      case RdbOpcode.EXPIRETIME_MS:
        this.setPrefix(base + start);
        this.expireAt = this.i64();
        return null;
      case RdbOpcode.RESIZEDB: {
        const dbSize = this.len();
        const expiresSize = this.len();
        return { kind: 'resizedb', dbSize, expiresSize, offset: base + start };
      }
      case RdbOpcode.AUX: {
        const key = this.str();
        const value = this.str();
        return { kind: 'aux', key, value, offset: base + start };
      }
      case RdbOpcode.FREQ:
        this.setPrefix(base + start);
        this.freq = this.u8();
        return null;
      case RdbOpcode.IDLE:
        this.setPrefix(base + start);
        this.idle = this.len();
        return null;
      case RdbOpcode.MODULE_AUX: {
        const id = this.lenBig();
        const at = this.p;
        const uint = this.len();
        if (uint !== ModuleOpcode.UINT) throw new BadData(at, `the MODULE_AUX "when" opcode 2, found ${uint}`);
        const when = this.len();
        const rawStart = this.p;
        this.moduleOpcodes();
        const module: ModuleValue = { id, name: moduleTypeName(id), encver: Number(id & 1023n), raw: this.b.subarray(rawStart, this.p) };
        return { kind: 'module-aux', module, when, offset: base + start };
      }
      case RdbOpcode.FUNCTION_PRE_GA: {
        this.str(); // library name
        this.str(); // engine name
        if (this.len() !== 0) this.str(); // description
        const code = this.str();
        this.sink?.func(code);
        return { kind: 'function', code, offset: base + start };
      }
      case RdbOpcode.FUNCTION2: {
        const code = this.str();
        this.sink?.func(code);
        return { kind: 'function', code, offset: base + start };
      }
      case RdbOpcode.SLOT_INFO: {
        const slot = this.len();
        const slotSize = this.len();
        const expiresSlotSize = this.len();
        return { kind: 'slot-info', slot, slotSize, expiresSlotSize, offset: base + start };
      }
      case RdbOpcode.HASH_TEMPLATE: // also Valkey's UPDATE (decided by magic)
        if (this.valkey) return this.update(start, base);
        return { kind: 'hash-template', ...this.hashTemplate(), offset: base + start };
      case EnterpriseOpcode.RAM_LRU:
      case EnterpriseOpcode.SLOT_NUM: {
        const v = this.len();
        this.notice(`skipped Redis Enterprise ${op === EnterpriseOpcode.RAM_LRU ? 'RAM_LRU' : 'SLOT_NUM'} opcode ${op} (value ${v}): meaningful only to Redis Enterprise`, base + start);
        return null;
      }
      case 243: {
        if (this.valkey) {
          // SLOT_IMPORT: job name, then slot ranges. Meaningful only to a cluster node importing slots.
          const job = this.str();
          const n = this.len();
          for (let i = 0; i < n; i++) {
            this.len();
            this.len();
          }
          this.notice(`skipped Valkey SLOT_IMPORT record (job ${shown(job)}, ${n} slot ranges)`, base + start);
          return null;
        }
        // Redis RDB 13 KEY_META: class specs with module opcode streams, attached to the next key.
        this.setPrefix(base + start);
        const from = this.p;
        const classes = this.len();
        for (let i = 0; i < classes; i++) {
          this.take(4);
          this.moduleOpcodes();
        }
        this.keyMeta = this.b.subarray(from, this.p);
        return null;
      }
      default:
        if (this.newer || (!this.valkey && op <= RdbType.GCRA + 2)) throw this.unreadable(start, `RDB ${op <= 241 ? 'value type' : 'opcode'} ${op}${op === RdbType.GCRA ? ' (GCRA)' : op === 34 || op === 35 ? ' (set-member TTLs, Redis 8.12)' : ''}`);
        throw new BadData(start, `an RDB opcode or value type, found 0x${op.toString(16)} (${op})`);
    }
  }

  /**
   * A type or opcode this tool does not read: types 33 (GCRA, RDB 14) and 34-35 (set-member
   * TTLs, Redis 8.12) are named in public sources but their layouts are not; anything unknown in a
   * file newer than we know (--allow-newer) may be one of its additions.
   */
  private unreadable(at: number, what: string): Unreadable {
    const why = this.newer
      ? 'is unknown to this tool, in a file newer than it reads (read with --allow-newer): a newer server wrote it; upgrade tsredis-ops to read it'
      : 'is named in public sources but its layout is not public: this tool cannot read it';
    return new Unreadable(at, what, why);
  }

  /**
   * Redis RDB 15 template record (opcode 242 in REDIS files): LEN id, LEN field count (> 0), then
   * the field names as strings, strictly ascending by length, then bytes (sdscmplen order); ids are
   * unique within the file.
   */
  private hashTemplate(): { id: number; fields: Buffer[] } {
    const idAt = this.p;
    const id = this.len();
    if (id > MAX_TEMPLATE_ID) throw new BadData(idAt, `a hash template id up to ${MAX_TEMPLATE_ID}, found ${id}`);
    if (this.templates.has(id)) throw new BadData(idAt, `a hash template id not defined before, found ${id} again`);
    const nAt = this.p;
    const n = this.len();
    if (n === 0) throw new BadData(nAt, 'a hash template with at least one field, found 0');
    const fields: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const fAt = this.p;
      const f = Buffer.from(this.str());
      if (i > 0 && templateFieldCmp(fields[i - 1]!, f) >= 0) throw new BadData(fAt, `hash template fields in strictly ascending order (length, then bytes), found ${shown(f)} after ${shown(fields[i - 1]!)}`);
      fields.push(f);
    }
    this.templates.set(id, fields);
    this.templateList.push([id, fields]);
    return { id, fields };
  }

  /**
   * Valkey RDB 81 UPDATE (opcode 242 in VALKEY files): one command as a RESP multi-bulk
   * (`*N\r\n` then N x `$len\r\n<bytes>\r\n`), written during a forkless save for the loader to
   * replay after the keys before it.
   */
  private update(start: number, base: number): RdbRecord {
    const n = this.respNumber(0x2a, 'a RESP multi-bulk header "*<n>\\r\\n" after the UPDATE opcode');
    if (n < 1) throw new BadData(start + 1, `an UPDATE command with at least one argument, found ${n}`);
    const argv: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const len = this.respNumber(0x24, 'a RESP bulk header "$<len>\\r\\n" in the UPDATE command');
      const arg = this.take(len);
      this.need(2);
      if (this.b[this.p] !== 13 || this.b[this.p + 1] !== 10) throw new BadData(this.p, 'CRLF after a RESP bulk of the UPDATE command');
      this.p += 2;
      argv.push(Buffer.from(arg));
    }
    this.sink?.update?.(this.db, argv);
    return { kind: 'update', db: this.db, argv, offset: base + start };
  }

  /** `<lead><digits>\r\n` of a RESP header; returns the number. */
  private respNumber(lead: number, what: string): number {
    const at = this.p;
    if (this.u8() !== lead) throw new BadData(at, what);
    let v = 0;
    let digits = 0;
    for (;;) {
      const c = this.u8();
      if (c === 13) break;
      if (c < 48 || c > 57 || digits >= 15) throw new BadData(at, what);
      v = v * 10 + (c - 48);
      digits++;
    }
    if (digits === 0 || this.u8() !== 10) throw new BadData(at, what);
    return v;
  }

  /** Remembers where the first prefix opcode of the next key started (absolute offset). */
  private setPrefix(abs: number): void {
    if (this.prefixAbs < 0) this.prefixAbs = abs;
  }

  private key(type: number, start: number, base: number): RdbRecord | null {
    const keyAt = this.p;
    let key: Buffer = EMPTY;
    let keyEnd: number;
    let value: RedisValue | null;
    if (this.validateOnly) {
      this.span();
      keyEnd = this.p;
      this.valueType = type;
      const sink = this.sink;
      this.out = sink !== null && sink.key(this.db, this.rb, this.rs, this.re, type, this.expireAt, this.valkey) ? sink : null;
      // Module values are decoded even here (rdb-check reports their names), unless a sink takes them.
      if (sink === null && type === RdbType.MODULE_2) value = this.value(type, start);
      else value = this.checkValue(type, start, keyAt) === 0 ? null : CHECKED;
      this.steps = null;
    } else {
      key = this.str();
      keyEnd = this.p;
      this.rawValueAbs = base + keyEnd;
      this.valueType = type;
      const sink = this.sink;
      if (sink !== null) {
        // Raw mode with a sink: the same pass hands the elements over (rawUpTo).
        this.streaming = this.streamAbs === base + start;
        this.out = sink.key(this.db, key, 0, key.length, type, this.expireAt, this.valkey, this.streaming) ? sink : null;
      }
      // Raw mode keeps the stored bytes: validated as rdb-check does, no model built to be dropped.
      // A _REF template hash is decoded too: its stored bytes mean nothing without the file's template section.
      if (this.raw && type !== RdbType.HASH_TMPL_LP_REF && type !== RdbType.HASH_TMPL_ARRAY_REF) {
        value = this.checkValue(type, start, keyAt) === 0 ? null : CHECKED;
        if (sink !== null && !this.streaming && this.p - start > this.rawUpTo) throw new Restream();
        this.steps = null;
      } else {
        value = this.value(type, start);
        if (value !== null) this.out?.value(value);
      }
    }
    return this.endKey(type, base + start, key, keyEnd, value, keyAt);
  }

  /** Keeps a big value's progress while the window is cut at this.mark (see Steps). */
  suspend(): void {
    const s = this.steps!;
    s.name ??= Buffer.from(this.keyAt(s.keyAt));
  }

  /** Continues the big value the last window ended in; the window starts at its next step. */
  resume(base: number): RdbRecord | null {
    this.base = base;
    const s = this.steps!;
    // Raw mode: the window starts at the record, the steps go on where they stopped.
    const inPlace = s.resumeAbs !== undefined;
    if (inPlace) this.p = s.resumeAbs! - base;
    this.mark = this.p;
    const n = this.runSteps(s);
    if (inPlace && this.sink !== null && !this.streaming && this.p - (s.startAbs - base) > this.rawUpTo) throw new Restream();
    this.steps = null;
    return this.endKey(s.type, s.startAbs, EMPTY, inPlace ? this.rawValueAbs - base : -1, n === 0 ? null : CHECKED, s.name!);
  }

  /**
   * The key record for a value just read (null for an empty one). `nameAt`: the key's window
   * index, or its bytes once the window no longer holds it (a resumed big value).
   */
  private endKey(type: number, startAbs: number, key: Buffer, keyEnd: number, value: RedisValue | null, nameAt: number | Buffer): RdbRecord | null {
    // A sink or a skim wants no record per key (millions of objects): they get a shared stand-in.
    const lean = (this.sink !== null && !this.raw) || this.skim;
    const streamed = this.streaming;
    this.streaming = false;
    const entry: RdbKey | null = lean ? null : { db: this.db, key: typeof nameAt !== 'number' ? nameAt : key, expireAtMs: this.expireAt, rdbType: type, offset: this.prefixAbs >= 0 ? this.prefixAbs : startAbs };
    if (entry !== null) {
      if (this.idle !== undefined) entry.idleSeconds = this.idle;
      if (this.freq !== undefined) entry.freq = this.freq;
      if (this.keyMeta !== undefined) entry.keyMeta = this.keyMeta;
    }
    this.expireAt = null;
    this.idle = undefined;
    this.freq = undefined;
    this.keyMeta = undefined;
    this.prefixAbs = -1;
    if (value === null) {
      this.out?.discard();
      this.out = null;
      const name = typeof nameAt !== 'number' ? nameAt : this.validateOnly ? this.keyAt(nameAt) : key;
      this.notice(`skipped empty key ${shown(name)} (Redis skips it too)`, startAbs);
      return null;
    }
    this.out?.end();
    this.out = null;
    if (entry === null) return LEAN_KEY;
    if (streamed) entry.streamed = true;
    else if (this.raw) entry.raw = this.b.subarray(keyEnd, this.p);
    if (value !== CHECKED) entry.value = value;
    return { kind: 'key', entry };
  }

  /** Decodes a value of `type`; null for an empty collection (Redis skips those keys). */
  value(type: number, start: number): RedisValue | null {
    switch (type) {
      case RdbType.STRING:
        return { type: 'string', value: this.str() };
      case RdbType.LIST: {
        const n = this.len();
        const out: Buffer[] = [];
        for (let i = 0; i < n; i++) out.push(this.str());
        return n === 0 ? null : { type: 'list', value: out };
      }
      case RdbType.SET: {
        const n = this.len();
        const out: Buffer[] = [];
        const at = this.p;
        for (let i = 0; i < n; i++) out.push(this.str());
        if (n === 0) return null;
        this.checkUnique(out, self, at, 'set members');
        return { type: 'set', value: out };
      }
      case RdbType.ZSET:
      case RdbType.ZSET_2: {
        const n = this.len();
        const at = this.p;
        const out: Array<[Buffer, number]> = [];
        for (let i = 0; i < n; i++) {
          const m = this.str();
          const sAt = this.p;
          const s = type === RdbType.ZSET ? this.stringDouble() : this.binaryDouble();
          if (Number.isNaN(s)) throw new BadData(sAt, 'a zset score that is not NaN');
          out.push([m, s]);
        }
        if (n === 0) return null;
        this.checkUnique(out, first, at, 'zset members');
        out.sort(zsetOrder);
        return { type: 'zset', value: out };
      }
      case RdbType.HASH: {
        const n = this.len();
        const at = this.p;
        const out: Array<[Buffer, Buffer]> = [];
        for (let i = 0; i < n; i++) {
          const f = this.str();
          out.push([f, this.str()]);
        }
        if (n === 0) return null;
        this.checkUnique(out, first, at, 'hash fields');
        return { type: 'hash', value: out };
      }
      case RdbType.MODULE_2:
        return { type: 'module', value: this.moduleValue() };
      case RdbType.MODULE_PRE_GA:
        throw new BadData(start, 'a module value of type 7 (type 6 is from Redis 4.0-rc1 and cannot be parsed)');
      case RdbType.HASH_ZIPMAP: {
        const at = this.p;
        const flat = this.blob(zipmapDecode, 'zipmap');
        if (flat.length === 0) return null;
        return this.hashFromFlat(flat, at);
      }
      case RdbType.LIST_ZIPLIST: {
        const items = this.blob(zlDecode, 'ziplist');
        return items.length === 0 ? null : { type: 'list', value: items.map(entryToBuffer) };
      }
      case RdbType.SET_INTSET: {
        const at = this.p;
        const items = this.blob(intsetDecode, 'intset');
        if (items.length === 0) throw new BadData(at, 'a non-empty intset');
        return { type: 'set', value: items.map(entryToBuffer) };
      }
      case RdbType.SET_LISTPACK: {
        const at = this.p;
        const items = this.blob(lpDecode, 'listpack').map(entryToBuffer);
        if (items.length === 0) return null;
        this.checkUnique(items, self, at, 'set members');
        return { type: 'set', value: items };
      }
      case RdbType.ZSET_ZIPLIST:
      case RdbType.ZSET_LISTPACK: {
        const at = this.p;
        const items = type === RdbType.ZSET_ZIPLIST ? this.blob(zlDecode, 'ziplist') : this.blob(lpDecode, 'listpack');
        if (items.length === 0) return null;
        if (items.length % 2 !== 0) throw new BadData(at, 'a zset blob with an even number of entries (member, score)');
        const out: Array<[Buffer, number]> = [];
        for (let i = 0; i < items.length; i += 2) {
          const sc = items[i + 1]!;
          out.push([entryToBuffer(items[i]!), typeof sc === 'object' ? packedScore(sc.toString('latin1')) : Number(sc)]);
        }
        this.checkUnique(out, first, at, 'zset members');
        return { type: 'zset', value: out };
      }
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK: {
        const at = this.p;
        const items = type === RdbType.HASH_ZIPLIST ? this.blob(zlDecode, 'ziplist') : this.blob(lpDecode, 'listpack');
        if (items.length === 0) return null;
        if (items.length % 2 !== 0) throw new BadData(at, 'a hash blob with an even number of entries (field, value)');
        return this.hashFromFlat(items.map(entryToBuffer), at);
      }
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        return this.quicklist(type === RdbType.LIST_QUICKLIST_2);
      case RdbType.STREAM_LISTPACKS:
        return this.stream(1);
      case RdbType.STREAM_LISTPACKS_2:
        return this.stream(2);
      case RdbType.STREAM_LISTPACKS_3:
        return this.stream(3);
      case RdbType.STREAM_LISTPACKS_4:
        return this.stream(4);
      case RdbType.STREAM_LISTPACKS_5:
        return this.stream(5);
      case RdbType.ARRAY:
        return this.array();
      case RdbType.HASH_TMPL_LP_REF: {
        const at = this.p;
        return this.templatedLp(this.blob(lpDecode, 'template hash listpack'), null, at);
      }
      case RdbType.HASH_TMPL_ARRAY_REF: {
        const idAt = this.p;
        return this.templatedArray(this.template(this.len(), idAt));
      }
      case RdbType.HASH_TMPL_LP:
      case RdbType.HASH_TMPL_ARRAY: {
        const fields = this.inlineTemplate();
        if (type === RdbType.HASH_TMPL_ARRAY) return this.templatedArray(fields);
        const at = this.p;
        return this.templatedLp(this.blob(lpDecode, 'template hash values listpack'), fields, at);
      }
      case VALKEY_TYPE_HASH_2: // also Redis 7.4-rc HASH_METADATA_PRE_GA
        return this.valkey ? this.valkeyHash2() : this.hashMetadata(false);
      case 23: // Valkey PATH_HASH; Redis 7.4-rc HASH_LISTPACK_EX_PRE_GA
        return this.valkey ? this.pathHash() : this.hashListpackEx(false);
      case RdbType.HASH_METADATA:
        return this.hashMetadata(true);
      case RdbType.HASH_LISTPACK_EX:
        return this.hashListpackEx(true);
      default:
        throw new BadData(start, `a known RDB value type, found ${type}`);
    }
  }

  /**
   * Valkey RDB 81 path hash (valkey rdb.c rdbLoadObject): LEN path count, then per path a STRING
   * path, LEN field count (> 0) and that many STRING field, STRING value pairs. Paths are unique,
   * fields unique within their path, as Valkey's loader requires. No paths is a valid value (Valkey
   * keeps a path hash whose last path was deleted, and loads it back).
   */
  private pathHash(): RedisValue {
    const n = this.len();
    const paths: PathHashPath[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const at = this.p;
      const path = this.str();
      if (!unseen(seen, path)) throw new BadData(at, `unique path hash paths, found ${shown(path)} twice`);
      const mAt = this.p;
      const m = this.len();
      if (m === 0) throw new BadData(mAt, `a path hash path with at least one field, found 0 for path ${shown(path)}`);
      const fAt = this.p;
      const fields: Array<[Buffer, Buffer]> = [];
      const unique = m > 1 ? this.unique.reset(m) : null;
      for (let j = 0; j < m; j++) {
        const f = this.str();
        if (unique !== null && !unique.add(f, 0, f.length)) throw new BadData(fAt, `unique fields of path hash path ${shown(path)}, found a duplicate`);
        fields.push([f, this.str()]);
      }
      paths.push({ path, fields });
    }
    return { type: 'pathhash', value: { paths } };
  }

  /**
   * RDB 14 array: LEN count (> 0), LEN insert-cursor flag (0/1) and with 1 a LEN insert index,
   * then count x { LEN index (plain, not UINT64_MAX), LEN tag, payload }: tag 1 an int64 and tag 2
   * a double (8 bytes little-endian each), tags 0 and 3 an RDB string.
   */
  private array(): RedisValue {
    const [n, insertIdx] = this.arrayHead();
    const elements: ArrayElement[] = [];
    const seen = new Set<bigint>();
    while (elements.length < n) {
      const at = this.p;
      const index = this.arrayIndex();
      if (seen.has(index)) throw new BadData(at, `unique array indexes, found ${index} twice`);
      seen.add(index);
      elements.push({ index, ...this.arrayElement(true)! });
    }
    return { type: 'array', value: { insertIdx, elements } };
  }

  /** The element count (> 0), the insert-cursor flag (0/1) and, with 1, the cursor. */
  private arrayHead(): [number, bigint | null] {
    const nAt = this.p;
    const n = this.len();
    if (n === 0) throw new BadData(nAt, 'an array with at least one element, found 0');
    const fAt = this.p;
    const flag = this.len();
    if (flag > 1) throw new BadData(fAt, `an array insert-index flag 0 or 1, found ${flag}`);
    return [n, flag === 1 ? this.lenBig() : null];
  }

  /** An element's index: a plain LEN (no string encoding), below 2^64-1. */
  private arrayIndex(): bigint {
    const at = this.p;
    const b0 = this.b[this.p];
    if (b0 !== undefined && b0 >> 6 === 3) throw new BadData(at, 'a plain length as array index, found a string encoding');
    const index = this.lenBig();
    if (index === U64_MAX) throw new BadData(at, 'an array index below 2^64-1');
    return index;
  }

  /**
   * An element's tag and payload. With `decode` its tag and text; else null, its text left in
   * rb[rs, re) as span() leaves a string's (not computed in skim mode).
   */
  private arrayElement(decode = false): { tag: number; value: Buffer } | null {
    const tAt = this.p;
    const tag = this.len();
    if (tag === ARRAY_TAG.INT || tag === ARRAY_TAG.FLOAT) {
      this.need(8);
      const at = this.p;
      this.p += 8;
      if (this.skim && !decode) return null;
      const text = tag === ARRAY_TAG.INT ? this.b.readBigInt64LE(at).toString() : formatScore(this.b.readDoubleLE(at));
      if (decode) return { tag, value: Buffer.from(text, 'latin1') };
      this.rb = this.numText;
      this.rs = 0;
      this.re = this.numText.write(text, 0, 'latin1');
      return null;
    }
    if (tag !== ARRAY_TAG.SDS && tag !== ARRAY_TAG.SMALLSTR) throw new BadData(tAt, `an array element tag 0-3, found ${tag}`);
    if (decode) return { tag, value: Buffer.from(this.str()) };
    this.span();
    return null;
  }

  /** The field names of template `id` (from the template section). */
  private template(id: number, at: number): Buffer[] {
    const t = this.templates.get(id);
    if (!t) throw new BadData(at, `a hash template id defined in the template section, found ${id}`);
    return t;
  }

  /**
   * The inline field names of a self-contained template hash (types 29/31, DUMP payloads): LEN
   * format, 0 = one listpack blob of names, 1 = LEN count then that many strings; same order rule
   * as the template section.
   */
  private inlineTemplate(): Buffer[] {
    const at = this.p;
    const fmt = this.len();
    let fields: Buffer[];
    if (fmt === 0) {
      const lAt = this.p;
      fields = this.blob(lpDecode, 'template field-name listpack').map(entryToBuffer);
      if (fields.length === 0) throw new BadData(lAt, 'a template with at least one field, found 0');
    } else if (fmt === 1) {
      const nAt = this.p;
      const n = this.len();
      if (n === 0) throw new BadData(nAt, 'a template with at least one field, found 0');
      fields = [];
      for (let i = 0; i < n; i++) fields.push(Buffer.from(this.str()));
    } else throw new BadData(at, `a template field format 0 (listpack) or 1 (strings), found ${fmt}`);
    for (let i = 1; i < fields.length; i++) {
      if (templateFieldCmp(fields[i - 1]!, fields[i]!) >= 0) throw new BadData(at, `template fields in strictly ascending order (length, then bytes), found ${shown(fields[i]!)} after ${shown(fields[i - 1]!)}`);
    }
    return fields;
  }

  /** Values as strings in field order (types 31/32). */
  private templatedArray(fields: Buffer[]): RedisValue {
    const value: Array<[Buffer, Buffer]> = [];
    for (const f of fields) value.push([f, Buffer.from(this.str())]);
    return { type: 'hash', value };
  }

  /**
   * A values listpack (types 29/30): its first entry the template id (a non-negative integer),
   * then one value per field. `fields` null: the id names a template of the section (_REF).
   */
  private templatedLp(items: PackedEntry[], fields: Buffer[] | null, at: number): RedisValue {
    const id = items[0];
    if (typeof id !== 'number' || id < 0) throw new BadData(at, 'a template hash listpack whose first entry is the template id (a non-negative integer)');
    const names = fields ?? this.template(id, at);
    if (items.length !== names.length + 1) throw new BadData(at, `a template hash listpack of ${names.length + 1} entries (id and ${names.length} values), found ${items.length}`);
    const value: Array<[Buffer, Buffer]> = names.map((f, i) => [f, entryToBuffer(items[i + 1]!)]);
    return { type: 'hash', value };
  }

  private hashFromFlat(flat: Buffer[], at: number): RedisValue {
    const out: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
    this.checkUnique(out, first, at, 'hash fields');
    return { type: 'hash', value: out };
  }

  private quicklist(v2: boolean): RedisValue | null {
    const nodes = this.len();
    const out: Buffer[] = [];
    for (let i = 0; i < nodes; i++) {
      let container: number = QuicklistContainer.PACKED;
      if (v2) {
        const at = this.p;
        container = this.len();
        if (container !== QuicklistContainer.PACKED && container !== QuicklistContainer.PLAIN) {
          throw new BadData(at, `a quicklist node container 1 (PLAIN) or 2 (PACKED), found ${container}`);
        }
      }
      if (container === QuicklistContainer.PLAIN) {
        out.push(this.str());
        continue;
      }
      const at = this.p;
      const items = v2 ? this.blob(lpDecode, 'quicklist listpack node') : this.blob(zlDecode, 'quicklist ziplist node');
      // Redis skips empty nodes of old files; a listpack node must not be empty.
      if (items.length === 0 && v2) throw new BadData(at, 'a non-empty quicklist node');
      for (const e of items) out.push(entryToBuffer(e));
    }
    return out.length === 0 ? null : { type: 'list', value: out };
  }

  private hashMetadata(ga: boolean): RedisValue | null {
    const minExpire = ga ? this.i64() : 0;
    const n = this.len();
    const at = this.p;
    const out: Array<[Buffer, Buffer]> = [];
    const expires = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const ttl = this.len();
      const f = this.str();
      const v = this.str();
      out.push([f, v]);
      if (ttl !== 0) expires.set(hashFieldKey(f), ga ? ttl + minExpire - 1 : ttl);
    }
    if (n === 0) return null;
    this.checkUnique(out, first, at, 'hash fields');
    return { type: 'hash', value: out, expires };
  }

  private hashListpackEx(ga: boolean): RedisValue | null {
    if (ga) this.i64(); // min expire: informational
    const at = this.p;
    const items = this.blob(lpDecode, 'listpack');
    if (items.length === 0) return null;
    if (items.length % 3 !== 0) throw new BadData(at, 'a hash listpack of (field, value, expiry) triplets');
    const out: Array<[Buffer, Buffer]> = [];
    const expires = new Map<string, number>();
    for (let i = 0; i < items.length; i += 3) {
      const f = entryToBuffer(items[i]!);
      out.push([f, entryToBuffer(items[i + 1]!)]);
      const ttl = items[i + 2]!;
      if (typeof ttl !== 'number' || ttl < 0) throw new BadData(at, 'an integer field expiry in the hash listpack');
      if (ttl !== 0) expires.set(hashFieldKey(f), ttl);
    }
    this.checkUnique(out, first, at, 'hash fields');
    return { type: 'hash', value: out, expires };
  }

  private valkeyHash2(): RedisValue | null {
    const n = this.len();
    const at = this.p;
    const out: Array<[Buffer, Buffer]> = [];
    const expires = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const f = this.str();
      const v = this.str();
      const exp = this.i64();
      out.push([f, v]);
      if (exp !== -1) expires.set(hashFieldKey(f), exp);
    }
    if (n === 0) return null;
    this.checkUnique(out, first, at, 'hash fields');
    return { type: 'hash', value: out, expires };
  }

  private stream(ver: number): RedisValue {
    const nodes = this.len();
    let entries: StreamEntry[] = [];
    // Node keys must be unique (Redis inserts them in a radix tree), not ordered: the tree orders them.
    const keys: Array<{ ms: bigint; seq: bigint; from: number; to: number }> = [];
    const seen = new Set<string>();
    let ordered = true;
    for (let i = 0; i < nodes; i++) {
      const from = entries.length;
      const { ms, seq } = this.streamNode(seen, entries);
      const prev = keys[keys.length - 1];
      if (prev && compareId(prev.ms, prev.seq, ms, seq) > 0) ordered = false;
      keys.push({ ms, seq, from, to: entries.length });
    }
    if (!ordered) {
      const all = entries;
      entries = keys.sort((a, b) => compareId(a.ms, a.seq, b.ms, b.seq)).flatMap((n) => all.slice(n.from, n.to));
    }
    return { type: 'stream', value: { entries, ...this.streamTail(ver, nodes, entries.length > 0 ? entries[0]!.id : { ms: 0n, seq: 0n }) } };
  }

  /** One stream node (§2.9): its key (unique among `seen`) and its live entries, appended to `entries`. */
  private streamNode(seen: Set<string>, entries: StreamEntry[]): StreamId {
    const keyAt = this.p;
    const nodeKey = this.str();
    if (nodeKey.length !== 16) throw new BadData(keyAt, `a 16-byte stream node key, found ${nodeKey.length} bytes`);
    const ms = nodeKey.readBigUInt64BE(0);
    const seq = nodeKey.readBigUInt64BE(8);
    const k = idKey(ms, seq);
    if (!unseen(seen, k)) throw new BadData(keyAt, `unique stream node keys, found ${k} twice`);
    const lpAt = this.p;
    const lp = this.blob((b) => ((this.nodeBytes = b.length), lpDecode(b, false)), 'stream listpack');
    if (lp.length === 0) throw new BadData(lpAt, 'a non-empty stream listpack node');
    try {
      decodeStreamNode(lp, ms, seq, entries);
    } catch (e) {
      if (e instanceof BlobError) throw new BadData(lpAt, `a valid stream listpack node: ${e.expected}`);
      throw e;
    }
    return { ms, seq };
  }

  /** What follows a stream's nodes: length, IDs, consumer groups (and RDB 13 IDMP state). */
  private streamTail(ver: number, nodes: number, firstEntryId: StreamId): Omit<StreamValue, 'entries'> {
    const lenAt = this.p;
    // The stored length is taken as is (XLEN answers it), unless there are no nodes at all.
    const length = this.len();
    if (length > 0 && nodes === 0) throw new BadData(lenAt, `stream length 0 (the stream has no nodes), found ${length}`);
    const lastId = this.streamIdLen();
    let firstId: StreamId;
    let maxDeletedId: StreamId;
    let entriesAdded: bigint;
    if (ver >= 2) {
      firstId = this.streamIdLen();
      maxDeletedId = this.streamIdLen();
      entriesAdded = this.lenBig();
    } else {
      firstId = firstEntryId;
      maxDeletedId = { ms: 0n, seq: 0n };
      entriesAdded = BigInt(length);
    }
    const groupCount = this.len();
    const groups: StreamGroup[] = [];
    const groupNames = new Set<string>();
    for (let g = 0; g < groupCount; g++) {
      const nameAt = this.p;
      const name = this.str();
      if (!unseen(groupNames, name)) throw new BadData(nameAt, `unique consumer group names, found ${shown(name)} twice`);
      const lastDeliveredId = this.streamIdLen();
      let entriesRead: bigint | null = null;
      if (ver >= 2) {
        const er = this.lenBig();
        entriesRead = er === ENTRIES_READ_UNKNOWN ? null : er;
      }
      const pelCount = this.len();
      const pel: StreamPendingEntry[] = [];
      const byId = new Map<string, StreamPendingEntry>();
      for (let i = 0; i < pelCount; i++) {
        const idAt = this.p;
        const id = this.streamIdRaw();
        const deliveryTimeMs = this.i64();
        const deliveryCount = this.len();
        const pe: StreamPendingEntry = { id, deliveryTimeMs, deliveryCount, consumer: EMPTY };
        const k = idKey(id.ms, id.seq);
        if (byId.has(k)) throw new BadData(idAt, `a unique group PEL entry, found ${k} twice`);
        byId.set(k, pe);
        pel.push(pe);
      }
      const consumerCount = this.len();
      const consumers: StreamConsumer[] = [];
      const consumerNames = new Set<string>();
      for (let c = 0; c < consumerCount; c++) {
        const cnameAt = this.p;
        const cname = this.str();
        if (!unseen(consumerNames, cname)) throw new BadData(cnameAt, `unique consumer names in a group, found ${shown(cname)} twice`);
        const seenTimeMs = this.i64();
        const activeTimeMs = ver >= 3 ? this.i64() : seenTimeMs;
        const n = this.len();
        const pending: StreamId[] = [];
        for (let i = 0; i < n; i++) {
          const idAt = this.p;
          const id = this.streamIdRaw();
          const pe = byId.get(idKey(id.ms, id.seq));
          if (!pe) throw new BadData(idAt, `consumer PEL entry ${idKey(id.ms, id.seq)} present in the group PEL`);
          if (pe.consumer !== EMPTY) throw new BadData(idAt, `PEL entry ${idKey(id.ms, id.seq)} owned by one consumer only`);
          pe.consumer = cname;
          pending.push(id);
        }
        consumers.push({ name: cname, seenTimeMs, activeTimeMs, pending });
      }
      // Stream v5 (RDB 14): the NACK zone, count x 16-byte big-endian IDs of PEL entries no consumer owns.
      let nacked: StreamId[] | undefined;
      if (ver >= 5) {
        nacked = [];
        const n = this.len();
        for (let i = 0; i < n; i++) {
          const idAt = this.p;
          const id = this.streamIdRaw();
          const pe = byId.get(idKey(id.ms, id.seq));
          if (!pe) throw new BadData(idAt, `NACK zone entry ${idKey(id.ms, id.seq)} present in the group PEL`);
          if (pe.consumer !== EMPTY) throw new BadData(idAt, `NACK zone entry ${idKey(id.ms, id.seq)} owned by no consumer`);
          pe.consumer = NACKED;
          nacked.push(id);
        }
      }
      for (const pe of pel) {
        if (pe.consumer === EMPTY) throw new BadData(this.p, `group PEL entry ${idKey(pe.id.ms, pe.id.seq)} owned by a consumer${ver >= 5 ? ' or in the NACK zone' : ''}`);
        if (pe.consumer === NACKED) pe.consumer = EMPTY_OWNER;
      }
      const group: StreamGroup = { name, lastDeliveredId, entriesRead, pel, consumers };
      if (nacked) group.nacked = nacked;
      groups.push(group);
    }
    const value: Omit<StreamValue, 'entries'> = { length, lastId, firstId, maxDeletedId, entriesAdded, groups };
    if (ver >= 4) {
      const from = this.p;
      this.len(); // idmp duration
      this.len(); // idmp max entries
      const producers = this.len();
      for (let i = 0; i < producers; i++) {
        this.str();
        const n = this.len();
        for (let j = 0; j < n; j++) {
          this.str();
          this.lenBig();
          this.lenBig();
        }
      }
      this.lenBig(); // iids added
      this.lenBig(); // iids duplicates
      value.idmpRaw = Buffer.from(this.b.subarray(from, this.p));
    }
    return value;
  }

  /** Members, fields and set elements must be unique (Redis: "Duplicate ... detected"). */
  private checkUnique<T>(items: T[], nameOf: (item: T) => Buffer, at: number, what: string): void {
    if (items.length < 2) return;
    const seen = this.unique.reset(items.length);
    for (const item of items) {
      const b = nameOf(item);
      if (!seen.add(b, 0, b.length)) throw new BadData(at, `unique ${what}, found a duplicate`);
    }
  }
}

const EMPTY = Buffer.alloc(0);
/** Owner stand-ins of NACKed PEL entries: while checking, then in the model (an empty name). */
const NACKED = Buffer.alloc(0);
const EMPTY_OWNER = Buffer.alloc(0);

/** Stream value version of a stream type byte (1 for 15 ... 5 for 27). */
function streamVersion(type: number): number {
  switch (type) {
    case RdbType.STREAM_LISTPACKS:
      return 1;
    case RdbType.STREAM_LISTPACKS_2:
      return 2;
    case RdbType.STREAM_LISTPACKS_3:
      return 3;
    case RdbType.STREAM_LISTPACKS_4:
      return 4;
    default:
      return 5;
  }
}

/** Template field order (Redis sdscmplen as librdb describes it): length first, then bytes. */
function templateFieldCmp(a: Buffer, b: Buffer): number {
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}
const self = (b: Buffer): Buffer => b;
const first = <T>(pair: [Buffer, T]): Buffer => pair[0];
/** Stand-in value of a key that was validated but not decoded. */
const CHECKED: RedisValue = { type: 'string', value: EMPTY };
/** A key record found longer than rawUpTo once parsed whole: parse it again from its start, streamed. */
class Restream {}

/** The one record every key gets in sink and skim modes (only to be counted). */
const LEAN_KEY: RdbRecord = { kind: 'key', entry: { db: -1, key: EMPTY, expireAtMs: null, rdbType: -1, offset: -1 } };

/** Adds the name (its bytes, or a key) to `names`; false when it was there already. */
function unseen(names: Set<string>, name: Buffer | string): boolean {
  const k = typeof name === 'string' ? name : name.toString('latin1');
  if (names.has(k)) return false;
  names.add(k);
  return true;
}

function compareId(aMs: bigint, aSeq: bigint, bMs: bigint, bSeq: bigint): number {
  return aMs < bMs ? -1 : aMs > bMs ? 1 : aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0;
}

function zsetOrder(a: [Buffer, number], b: [Buffer, number]): number {
  return a[1] - b[1] || Buffer.compare(a[0], b[0]);
}

function asInt(e: PackedEntry | undefined, what: string): number {
  if (typeof e !== 'number') throw new BlobError(0, `an integer ${what}`);
  return e;
}

/** Decodes one stream listpack node (§2.9) and appends its live entries. */
function decodeStreamNode(lp: PackedEntry[], masterMs: bigint, masterSeq: bigint, out: StreamEntry[]): void {
  let i = 0;
  const count = asInt(lp[i++], 'live entry count');
  const deleted = asInt(lp[i++], 'deleted entry count');
  const nf = asInt(lp[i++], 'master field count');
  if (nf < 0 || i + nf >= lp.length) throw new BlobError(0, 'master entry fields inside the node');
  const masterFields = lp.slice(i, i + nf).map(entryToBuffer);
  i += nf;
  if (lp[i++] !== 0) throw new BlobError(0, 'the master entry terminator 0');
  let live = 0;
  let dead = 0;
  while (i < lp.length) {
    const first = i;
    const flags = asInt(lp[i++], 'entry flags');
    const msDelta = lp[i++];
    const seqDelta = lp[i++];
    if (typeof msDelta !== 'number' && typeof msDelta !== 'bigint') throw new BlobError(0, 'an integer ms delta');
    if (typeof seqDelta !== 'number' && typeof seqDelta !== 'bigint') throw new BlobError(0, 'an integer seq delta');
    let fields: Buffer[];
    if (flags & 2) {
      if (i + nf > lp.length) throw new BlobError(0, 'entry values inside the node');
      fields = new Array<Buffer>(nf * 2);
      for (let k = 0; k < nf; k++) {
        fields[2 * k] = masterFields[k]!;
        fields[2 * k + 1] = entryToBuffer(lp[i++]!);
      }
    } else {
      const n = asInt(lp[i++], 'entry field count');
      if (n < 0 || i + 2 * n > lp.length) throw new BlobError(0, 'entry fields inside the node');
      fields = new Array<Buffer>(n * 2);
      for (let k = 0; k < 2 * n; k++) fields[k] = entryToBuffer(lp[i++]!);
    }
    const lpCount = asInt(lp[i++], 'entry lp-count');
    if (lpCount !== i - first - 1) throw new BlobError(0, `entry lp-count ${i - first - 1}, found ${lpCount}`);
    if (flags & 1) {
      dead++;
      continue;
    }
    live++;
    // IDs are not checked for order: Redis does not either, and keeps them as stored.
    out.push({ id: { ms: masterMs + BigInt(msDelta), seq: masterSeq + BigInt(seqDelta) }, fields });
  }
  // Redis walks exactly live + deleted entries to the end, whatever their flags say.
  if (live + dead !== count + deleted) throw new BlobError(0, `${count} live and ${deleted} deleted entries, found ${live} and ${dead}`);
}

/**
 * Incremental RDB decoder over a ByteSource: `nextBatch()` returns as many records as the buffered
 * window holds (at least one), committing each (CRC + advance) as it goes. Tools that count
 * millions of keys use it directly; `readRdb` wraps it as an async generator.
 */
export class RdbDecoder {
  private readonly parser: RecordParser;
  private readonly crc: CrcAccumulator;
  private readonly verify: boolean;
  private readonly piece: boolean;
  private readonly returnInSteps: boolean;
  private readonly onBytes: ((b: Buffer, from: number, to: number) => void) | undefined;
  private started = false;
  private done = false;
  /** Window length wanted for the next parse attempt. */
  private want = 9;
  /** Bytes the parse cannot do without (waited for); `want` beyond it is only taken if already there. */
  private need = 9;

  constructor(
    private readonly src: ByteSource,
    opts: ReadRdbOptions = {},
  ) {
    const notice = opts.onNotice;
    const sink = opts.sink ?? null;
    const skim = opts.skim === true;
    this.parser = new RecordParser(opts.raw === true, opts.validateOnly === true || (sink !== null && opts.raw !== true) || skim, (msg, at) => notice?.(msg, at), sink, skim, opts.allowNewer === true);
    if (opts.rawUpTo !== undefined) this.parser.rawUpTo = opts.rawUpTo;
    this.piece = opts.piece !== undefined;
    this.verify = opts.verifyChecksum !== false && !this.piece;
    this.onBytes = opts.onBytes;
    this.parser.uniqueCheck = opts.checked !== true;
    this.returnInSteps = opts.returnInSteps === true;
    this.crc = opts.crc ?? new Crc64();
    const resume = opts.piece?.resume;
    if (resume) {
      this.parser.version = resume.version;
      this.parser.valkey = resume.valkey;
      this.parser.db = resume.db;
      this.parser.newer = resume.newer === true;
      for (const [id, fields] of resume.templates ?? []) {
        // Buffers cross a thread as plain Uint8Arrays.
        const names = fields.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
        this.parser.templates.set(id, names);
        this.parser.templateList.push([id, names]);
      }
      this.started = true;
      this.want = this.need = 1;
    }
  }

  get version(): number {
    return this.parser.version;
  }

  /** The state a piece starting at the next unread byte needs; null inside a key's prefix opcodes or value (no cut there). */
  pieceState(): PieceState | null {
    const p = this.parser;
    return p.prefixAbs >= 0 || p.steps !== null ? null : this.state();
  }

  /** The file-wide state a piece needs (format, db, templates defined so far). */
  private state(): PieceState {
    const p = this.parser;
    const s: PieceState = { version: p.version, valkey: p.valkey, db: p.db };
    if (p.newer) s.newer = true;
    if (p.templateList.length > 0) s.templates = p.templateList.slice();
    return s;
  }

  /**
   * Inside a big value checked in steps (pieceState() is null there): the file offset where its
   * record starts (prefix opcodes included) and the state a piece starting there needs, so a
   * splitter can cut before the big key rather than after it; null elsewhere.
   */
  bigRecordStart(): { at: number; state: PieceState } | null {
    const p = this.parser;
    const at = p.steps === null ? -1 : p.prefixAbs >= 0 ? p.prefixAbs : p.steps.startAbs;
    return at < 0 ? null : { at, state: this.state() };
  }

  /**
   * On a defect, the bytes of the failing record (the rest of the window) go to the listener too:
   * a full parse of them may find an earlier defect inside that record than a skim found.
   */
  private handOverRest(win: Buffer, q: number): void {
    if (win.length > q) this.onBytes?.(win, q, win.length);
  }

  /** Committed bytes: into the CRC (not a piece's: it covers the whole file) and to the onBytes listener. */
  private commit(win: Buffer, from: number, to: number): void {
    if (!this.piece) this.crc.update(win, from, to);
    if (to > from) this.onBytes?.(win, from, to);
  }

  /** The next records (in file order), or null after the EOF record. */
  async nextBatch(max = 4096): Promise<RdbRecord[] | null> {
    if (this.done) return null;
    const src = this.src;
    const p = this.parser;
    const out: RdbRecord[] = [];
    for (;;) {
      if (src.available < this.want) await src.fill(this.need, this.want);
      if (this.piece && src.exhausted && src.available === 0 && p.steps === null) {
        this.done = true;
        return out.length > 0 ? out : null;
      }
      const win = src.window();
      const base = src.offset;
      p.b = win;
      let q = 0;
      // Committed records are contiguous from the window start: one CRC update per batch.
      const crcFrom = 0;
      try {
        if (!this.started) {
          if (win.length < 9) throw new NeedMore(9);
          p.p = 0;
          out.push(p.header(src.name));
          q = 9;
          this.started = true;
        }
        while (out.length < max) {
          p.p = q;
          // A big value cut by the last window continues at the window's start (see Steps).
          const rec = p.steps !== null ? p.resume(base) : p.record(base);
          if (rec?.kind === 'eof') {
            this.commit(win, crcFrom, p.crcEnd);
            rec.computed = await this.crc.value();
            if (p.version >= 5) {
              const stored = win.readBigUInt64LE(p.crcEnd);
              p.p = p.crcEnd + 8;
              rec.checksum = stored === 0n ? null : stored;
              if (this.verify && stored !== 0n && stored !== rec.computed) {
                this.handOverRest(win, p.crcEnd);
                throw new FormatError(
                  src.name,
                  base + p.crcEnd,
                  `expected RDB checksum ${hex64(rec.computed)} (CRC-64 of bytes 0-${base + p.crcEnd - 1}), found ${hex64(stored)}`,
                );
              }
            }
            rec.end = base + p.p;
            if (p.p > p.crcEnd) this.onBytes?.(win, p.crcEnd, p.p);
            src.advance(p.p);
            out.push(rec);
            this.done = true;
            return out;
          }
          q = p.p;
          if (rec) out.push(rec);
        }
        this.commit(win, crcFrom, q);
        src.advance(q);
        this.want = this.need = 1;
        return out;
      } catch (e) {
        // A big value keeps its whole steps and goes on from there, in this call or the next (raw
        // mode keeps the record's bytes in the window from its start): a sink never sees its
        // elements twice.
        // Any other record is parsed again once more bytes arrive (or not at all): its partial
        // key is dropped.
        // Raw mode with a sink: a key record that outgrows rawUpTo is parsed again, streamed.
        const restream = e instanceof Restream || (e instanceof NeedMore && p.raw && p.sink !== null && p.valueType >= 0 && !p.streaming && e.need - q > p.rawUpTo);
        if (restream) p.streamAbs = base + q;
        const keep = !restream && e instanceof NeedMore && p.steps !== null;
        if (!keep) {
          p.steps = null;
          p.streaming = false;
          p.sink?.discard();
        }
        if (restream) {
          this.commit(win, crcFrom, q);
          src.advance(q);
          this.want = this.need = 1;
          if (out.length > 0) return out;
          continue;
        }
        if (e instanceof NeedMore) {
          if (keep) {
            p.suspend();
            // Raw mode (not streamed) wants the record's bytes whole: the window keeps them from its start.
            if (p.raw && !p.streaming) p.steps!.resumeAbs = base + p.mark;
            else q = p.mark;
          }
          this.commit(win, crcFrom, q);
          src.advance(q);
          // (Not at the end of the input: a value cut short there is an error, below.)
          if (out.length > 0 || (keep && this.returnInSteps && !src.exhausted)) {
            this.want = this.need = e.need - q;
            return out;
          }
          const need = e.need - q;
          const avail = win.length - q;
          if (src.exhausted && src.available < need) {
            const recordAt = keep ? p.steps!.startAbs : src.offset;
            if (keep) p.sink?.discard();
            this.handOverRest(win, q);
            throw new FormatError(
              src.name,
              src.offset + src.available,
              src.offset === 0 && src.available < 9
                ? `expected the 9-byte RDB header, found ${src.available === 0 ? 'an empty file' : 'end of file'}`
                : `expected the rest of the record starting at byte ${recordAt}, found end of file (truncated, or no EOF marker)`,
              // Redis reports a short read inside a stream as corrupt data (rdbReportReadError).
              redisTypeOf(p.valueType) === 'stream',
            );
          }
          // A record parsed again from its start (or a step again from its start) asks for twice
          // the bytes it had: O(log n) attempts, O(n) bytes parsed in all. No cap on the step: a
          // fixed step makes a record of n bytes cost n^2/step. The source waits for `want` only
          // when it is bounded (ByteSource.bounded), never on a live peer's silence.
          this.need = need;
          this.want = Math.max(need, avail * 2);
          continue;
        }
        if (e instanceof BadData) {
          // The records before the defect are whole: a listener (the rdb-dump splitter) gets them.
          this.commit(win, crcFrom, q);
          this.handOverRest(win, q);
          throw new FormatError(src.name, base + e.at, `expected ${e.expected}`, e.corrupt || p.valueType >= 0);
        }
        if (e instanceof Unreadable) {
          this.commit(win, crcFrom, q);
          if (out.length > 0) {
            // The keys before it come out first: the next call parses it again and throws.
            src.advance(q);
            this.want = this.need = 1;
            return out;
          }
          this.handOverRest(win, q);
          const reads = p.valkey ? 'VALKEY RDB 80-81' : `REDIS RDB 1-${MAX_REDIS_RDB_VERSION}`;
          throw new NewerVersionError(src.name, base + e.at, e.found, reads, `${e.found} ${e.why} (this tool reads ${reads})`);
        }
        throw e;
      }
    }
  }
}

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

/**
 * Reads an RDB from `src`, yielding records in file order up to and including `eof`. After the
 * eof record the source is positioned right after the checksum, so an AOF tail or a replication
 * stream can follow. Throws FormatError(file, offset, expected) on any defect.
 */
export async function* readRdb(src: ByteSource, opts: ReadRdbOptions = {}): AsyncGenerator<RdbRecord> {
  const dec = new RdbDecoder(src, opts);
  for (;;) {
    const batch = await dec.nextBatch(64);
    if (!batch) return;
    yield* batch;
  }
}
