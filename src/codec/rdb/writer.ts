import { ToolError, UsageError } from '../../util/errors.js';
import { withAtomicFile } from '../../util/atomic-file.js';
import { RdbOpcode, RdbType } from './constants.js';
import { Crc64 } from './crc64.js';
import { i64le, lenBytes, strBytes } from './encoding.js';
import type { ModuleValue, RdbKey, RdbRecord, RedisValue } from './model.js';
import { decodeValueBytes } from './raw-value.js';
import { printable } from './to-commands.js';
import { WRITABLE_RDB_VERSIONS, encodeCollection, encodeValue, typeLoadableIn, type CollectionSource, type EncodeContext } from './value-writer.js';

/**
 * Streaming RDB writer for target versions 9–12 (formats digest §2): magic, AUX fields, functions,
 * SELECTDB/RESIZEDB, per-key EXPIRETIME_MS/IDLE/FREQ prefixes, values in the encodings each version
 * expects, EOF and the CRC-64 trailer. Output goes to a sink in chunks of about 1 MiB; awaiting
 * each call gives the sink's backpressure.
 */

export type RdbSink = (chunk: Buffer) => void | Promise<void>;

export interface RdbWriterOptions {
  version: number;
  /** Drop what the target cannot represent (recorded in `dropped`) instead of failing. */
  lossy?: boolean;
  /** rdbcompression: LZF-compress strings and blobs longer than 20 bytes (default true). */
  compress?: boolean;
}

/** Something left out of the output, with the reason. */
export interface DroppedItem {
  db: number | null;
  /** Printable key (hex when binary), or null for file-level records. */
  key: string | null;
  what: string;
}

const FLUSH_BYTES = 1 << 20;
/** Parts at least this long are queued as they are, not copied. */
const COPY_BELOW = 64 * 1024;

/** What a key record says besides its value. */
export type KeyHead = Pick<RdbKey, 'db' | 'key' | 'expireAtMs' | 'idleSeconds' | 'freq' | 'keyMeta'>;

export class RdbWriter {
  readonly version: number;
  readonly dropped: DroppedItem[] = [];
  private readonly lossy: boolean;
  private readonly compress: boolean;
  private readonly crc = new Crc64();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The open chunk small parts are copied into, and its bytes in use. */
  private chunk = Buffer.allocUnsafe(FLUSH_BYTES);
  private used = 0;
  private written = 0;
  private db: number | null = null;
  private state: 'new' | 'open' | 'done' = 'new';
  private keys = 0;
  /** RDB version of the records being copied (from their header record), for decoding raw values. */
  private sourceVersion: number | null = null;

  constructor(
    private readonly sink: RdbSink,
    opts: RdbWriterOptions,
  ) {
    if (!WRITABLE_RDB_VERSIONS.includes(opts.version)) {
      throw new UsageError(`RDB version ${opts.version} cannot be written (supported: ${WRITABLE_RDB_VERSIONS.join(', ')})`);
    }
    this.version = opts.version;
    this.lossy = opts.lossy ?? false;
    this.compress = opts.compress ?? true;
  }

  /** Bytes produced so far (including what is still buffered). */
  get bytesWritten(): number {
    return this.written + this.pendingBytes;
  }

  /** Number of keys written. */
  get keyCount(): number {
    return this.keys;
  }

  /** Writes the magic and the AUX fields (Redis's order: redis-ver, redis-bits, ctime, used-mem, ...). */
  async start(aux: Array<[string | Buffer, string | Buffer]> = []): Promise<void> {
    if (this.state !== 'new') throw new Error('RdbWriter.start called twice');
    this.state = 'open';
    this.push(Buffer.from(`REDIS${String(this.version).padStart(4, '0')}`, 'latin1'));
    for (const [k, v] of aux) this.aux(k, v);
    await this.maybeFlush();
  }

  /** One AUX field (values that spell integers are int-encoded, as Redis does). */
  async writeAux(key: string | Buffer, value: string | Buffer): Promise<void> {
    this.open();
    this.aux(key, value);
    await this.maybeFlush();
  }

  /** A function library (FUNCTION2); RDB 9 has none. */
  async writeFunction(code: Buffer): Promise<void> {
    this.open();
    if (this.version < 10) {
      const name = /name=(\S+)/.exec(code.subarray(0, 200).toString('latin1'))?.[1] ?? '?';
      this.lose(null, null, `function library "${name}"`, `RDB ${this.version} has no functions`);
      return;
    }
    this.push(Buffer.from([RdbOpcode.FUNCTION2]), ...strBytes(code, this.enc()));
    await this.maybeFlush();
  }

  /** A MODULE_AUX record (module id, `when`, opcode stream), copied as stored. */
  async writeModuleAux(module: ModuleValue, when: number): Promise<void> {
    this.open();
    this.push(Buffer.from([RdbOpcode.MODULE_AUX]), lenBytes(module.id), lenBytes(2), lenBytes(when), module.raw);
    await this.maybeFlush();
  }

  /** SELECTDB, then RESIZEDB when sizes are known (hints for the loader's hash tables). */
  async selectDb(db: number, sizes?: { keys: number; expires: number }): Promise<void> {
    this.open();
    this.db = db;
    this.push(Buffer.from([RdbOpcode.SELECTDB]), lenBytes(db));
    if (sizes) this.push(Buffer.from([RdbOpcode.RESIZEDB]), lenBytes(sizes.keys), lenBytes(sizes.expires));
    await this.maybeFlush();
  }

  /** SLOT_INFO (RDB 12+; a hint, silently omitted for older targets). */
  async writeSlotInfo(slot: number, keys: number, expires: number): Promise<void> {
    this.open();
    if (this.version < 12) return;
    this.push(Buffer.from([RdbOpcode.SLOT_INFO]), lenBytes(slot), lenBytes(keys), lenBytes(expires));
    await this.maybeFlush();
  }

  /**
   * One key: its stored bytes when the reader kept them (raw mode) and the target loads that type,
   * else the decoded value re-encoded for the target.
   */
  async writeKey(key: RdbKey): Promise<void> {
    this.open();
    if (key.db !== this.db) await this.selectDb(key.db);
    if (key.raw && typeLoadableIn(key.rdbType, this.version)) return this.emitKey(key, key.rdbType, [key.raw]);
    const value = key.value ?? (await this.decodeRaw(key));
    const enc = value && encodeValue(value, this.enc(key));
    // An array below RDB 14 was reported dropped by encodeValue itself (it is not empty).
    if (!enc) return value?.type === 'array' || value?.type === 'pathhash' ? undefined : this.dropEmpty(key, value?.type ?? 'value');
    return this.emitKey(key, enc.type, enc.parts);
  }

  /**
   * One key whose collection the caller hands over element by element (the engine's compact
   * values): encoded and written in bounded pieces, never built whole.
   */
  async writeCollection(key: KeyHead, value: CollectionSource): Promise<void> {
    this.open();
    if (key.db !== this.db) await this.selectDb(key.db);
    const enc = encodeCollection(value, this.enc(key));
    if (!enc) return this.dropEmpty(key, value.type);
    return this.emitKey(key, enc.type, enc.parts);
  }

  /**
   * A string key whose name and value the caller holds as latin1 text (the engine's small strings),
   * encoded as writeKey would encode it. Short text that cannot be an integer goes straight into the
   * open chunk: a dump of millions of small keys spent most of its time making a record and a few
   * Buffers per key. Returns a promise only when a flush is due.
   */
  writeTextStringKey(db: number, key: string, value: string, expireAtMs: number | null): Promise<void> | undefined {
    this.open();
    if (db !== this.db) return this.selectDb(db).then(() => this.writeTextStringKey(db, key, value, expireAtMs));
    if (expireAtMs !== null) this.push(Buffer.from([RdbOpcode.EXPIRETIME_MS]), i64le(expireAtMs));
    this.room(1);
    this.chunk[this.used++] = RdbType.STRING;
    this.pendingBytes++;
    this.text(key);
    this.text(value);
    this.keys++;
    return this.pendingBytes >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** A STR from latin1 text: strBytes' raw form when it would choose it (12–20 bytes, or not numeric). */
  private text(s: string): void {
    const len = s.length;
    const c = s.charCodeAt(0);
    if (len > 20 || (len <= 11 && (c === 0x2d || (c >= 0x30 && c <= 0x39)))) {
      this.push(...strBytes(Buffer.from(s, 'latin1'), this.enc()));
      return;
    }
    this.room(len + 1);
    this.chunk[this.used] = len; // < 0x40: a one-byte length
    this.chunk.write(s, this.used + 1, len, 'latin1');
    this.used += len + 1;
    this.pendingBytes += len + 1;
  }

  /** Makes room for n bytes in the open chunk. */
  private room(n: number): void {
    if (this.used + n > this.chunk.length) this.seal();
  }

  private dropEmpty(key: KeyHead, type: string): void {
    this.dropped.push({ db: key.db, key: printable(key.key), what: `empty ${type} (Redis skips empty keys on load)` });
  }

  /** The key's prefix opcodes, type and name, then its value parts, flushed as they accumulate. */
  private async emitKey(key: KeyHead, type: number, parts: Iterable<Buffer>): Promise<void> {
    // RDB 13 per-key module metadata (KEY_META) has no form in the versions we write.
    if (key.keyMeta) this.lose(key.db, key.key, 'per-key module metadata (KEY_META, RDB 13)');
    if (key.expireAtMs !== null) this.push(Buffer.from([RdbOpcode.EXPIRETIME_MS]), i64le(key.expireAtMs));
    if (key.idleSeconds !== undefined) this.push(Buffer.from([RdbOpcode.IDLE]), lenBytes(key.idleSeconds));
    if (key.freq !== undefined) this.push(Buffer.from([RdbOpcode.FREQ, key.freq & 0xff]));
    this.push(Buffer.from([type]), ...strBytes(key.key, this.enc()));
    for (const p of parts) {
      this.push(p);
      if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
    }
    this.keys++;
    await this.maybeFlush();
  }

  /** Writes any record a reader yields (header and eof are ignored: start/finish own them). */
  async writeRecord(r: RdbRecord): Promise<void> {
    switch (r.kind) {
      case 'aux':
        return this.writeAux(r.key, r.value);
      case 'selectdb':
        return this.selectDb(r.db);
      case 'resizedb':
        this.open();
        this.push(Buffer.from([RdbOpcode.RESIZEDB]), lenBytes(r.dbSize), lenBytes(r.expiresSize));
        return this.maybeFlush();
      case 'slot-info':
        return this.writeSlotInfo(r.slot, r.slotSize, r.expiresSlotSize);
      case 'function':
        return this.writeFunction(r.code);
      case 'module-aux':
        return this.writeModuleAux(r.module, r.when);
      case 'key':
        return this.writeKey(r.entry);
      case 'hash-template':
        // Template keys are written as plain hashes (RDB <= 12 has no templates): nothing is lost.
        return;
      case 'update':
        this.open();
        this.lose(r.db, null, `a Valkey forkless-save UPDATE command (${r.argv[0]?.toString('latin1') ?? '?'}, at byte ${r.offset})`, 'not applied');
        return;
      case 'header':
        this.sourceVersion = r.version;
        return;
      case 'eof':
        return;
    }
  }

  /** EOF opcode and the CRC-64 trailer; flushes everything to the sink. */
  async finish(): Promise<{ bytes: number; checksum: bigint }> {
    this.open();
    this.push(Buffer.from([RdbOpcode.EOF]));
    await this.flush();
    const checksum = this.crc.value();
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeBigUInt64LE(checksum, 0);
    this.state = 'done';
    await this.sink(trailer);
    this.written += 8;
    return { bytes: this.written, checksum };
  }

  /** A raw value of a type the target lacks, decoded with the source file's version rules. */
  private async decodeRaw(key: RdbKey): Promise<RedisValue | null> {
    if (!key.raw) throw new Error('RdbKey without value or raw bytes');
    if (this.sourceVersion === null) {
      throw new ToolError(`key "${printable(key.key)}" (db ${key.db}): stored as RDB type ${key.rdbType}, which RDB ${this.version} cannot load, and the source version is unknown`);
    }
    return decodeValueBytes(key.rdbType, key.raw, this.sourceVersion, `value of key "${printable(key.key)}" (db ${key.db})`);
  }

  private enc(key?: KeyHead): EncodeContext {
    return {
      version: this.version,
      compress: this.compress,
      loss: (what, effect) => this.lose(key?.db ?? this.db, key ? key.key : null, what, effect),
    };
  }

  private lose(db: number | null, key: Buffer | null, what: string, effect?: string): void {
    const where = key ? `key "${printable(key)}" (db ${db})` : 'file';
    if (!this.lossy) throw new ToolError(`${where}: RDB ${this.version} cannot represent ${what}; use --lossy to drop it`);
    this.dropped.push({ db, key: key ? printable(key) : null, what: effect ? `${what} (${effect})` : what });
  }

  private aux(k: string | Buffer, v: string | Buffer): void {
    const kb = typeof k === 'string' ? Buffer.from(k) : k;
    const vb = typeof v === 'string' ? Buffer.from(v) : v;
    this.push(Buffer.from([RdbOpcode.AUX]), ...strBytes(kb, this.enc()), ...strBytes(vb, this.enc()));
  }

  private open(): void {
    if (this.state !== 'open') throw new Error(this.state === 'new' ? 'RdbWriter: call start() first' : 'RdbWriter: already finished');
  }

  /**
   * Small parts are copied into the open chunk at once: held in a list until the flush, millions
   * of element-sized Buffers would outlive the young generation and pile up as old garbage.
   */
  private push(...parts: Buffer[]): void {
    for (const p of parts) {
      this.pendingBytes += p.length;
      if (p.length >= COPY_BELOW) {
        this.seal();
        this.pending.push(p);
        continue;
      }
      this.room(p.length);
      p.copy(this.chunk, this.used);
      this.used += p.length;
    }
  }

  /** Ends the open chunk (queued as pending) and starts a new one. */
  private seal(): void {
    if (this.used === 0) return;
    this.pending.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(FLUSH_BYTES);
    this.used = 0;
  }

  private async maybeFlush(): Promise<void> {
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    this.seal();
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.written += out.length;
    this.pendingBytes = 0;
    this.crc.update(out);
    await this.sink(out);
  }
}

/**
 * Writes records to `path` atomically (temp file, fsync, rename). `records` is what a reader
 * yields (header/eof are skipped); returns the writer for its `dropped` list and sizes.
 */
export async function writeRdbFile(
  path: string,
  records: Iterable<RdbRecord> | AsyncIterable<RdbRecord>,
  opts: RdbWriterOptions & { aux?: Array<[string | Buffer, string | Buffer]> },
): Promise<RdbWriter> {
  return withAtomicFile(path, async (fh) => {
    const w = new RdbWriter(async (chunk) => {
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
    }, opts);
    await w.start(opts.aux);
    for await (const r of records) await w.writeRecord(r);
    await w.finish();
    return w;
  });
}
