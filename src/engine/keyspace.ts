import { upper } from './args.js';
import type { RdbKey } from '../codec/rdb/model.js';
import { CommandError, UnsupportedCommandError, WRONGTYPE, wrongArity } from './errors.js';
import { StoredString, bkey, entryOf, kbuf, stringSlot, ttlOf, type Db, type Entry, type Slot, type Value, type ValueOf } from './values.js';
import { valueFromModel, valueToModel, rdbTypeOf } from './convert.js';
import { commandTable, type CommandSpec } from './commands/index.js';
import { libraryName } from './commands/functions.js';
import { hasPayload, predecode, restoredLibraries } from './payloads.js';
import { RdbLoadSink } from './rdb-load-sink.js';

export interface KeyspaceOptions {
  /** Number of databases (Redis `databases`, default 16). */
  databases?: number;
  /**
   * Wall clock for the few commands whose effect depends on the time they run (relative EXPIRE
   * in pre-7.0 replication streams, XADD *, stream consumer seen times). Defaults to Date.now.
   */
  clock?: () => number;
  /** The producer's `hll-sparse-max-bytes` (default 3000): when PFADD promotes sparse to dense. */
  hllSparseMaxBytes?: number;
}

/**
 * The in-memory dataset a replayed AOF or replication stream describes. `apply` executes one
 * write command exactly as a loading Redis would: keys past their TTL are never expired here
 * (a loading server and a replica do not expire on their own); expiry is decided when the
 * dataset is dumped, against a time the caller chooses.
 */
export class Keyspace {
  readonly dbs: Db[];
  selectedDb = 0;
  /** Function libraries by name, holding their source code (FUNCTION LOAD). */
  readonly functions = new Map<string, Buffer>();
  readonly clock: () => number;
  readonly hllSparseMaxBytes: number;
  /** Commands queued since MULTI (null outside a transaction). */
  private multiQueue: Buffer[][] | null = null;

  constructor(opts: KeyspaceOptions = {}) {
    this.dbs = Array.from({ length: opts.databases ?? 16 }, () => new Map());
    this.clock = opts.clock ?? Date.now;
    this.hllSparseMaxBytes = opts.hllSparseMaxBytes ?? 3000;
  }

  /** True while a MULTI has been applied and its EXEC not yet seen. */
  get inTransaction(): boolean {
    return this.multiQueue !== null;
  }

  /** Drops a transaction left open (an AOF ending inside MULTI is reverted by Redis the same way). */
  discardTransaction(): number {
    const n = this.multiQueue?.length ?? 0;
    this.multiQueue = null;
    return n;
  }

  /**
   * Like apply, for commands carrying binary payloads (RESTORE, FUNCTION RESTORE): the payload is
   * decoded with the async RDB codec first. Replays use this form.
   */
  async applyAsync(argv: Buffer[]): Promise<void> {
    if (hasPayload(argv)) await predecode(argv);
    this.apply(argv);
  }

  /**
   * Applies one command. Throws CommandError when Redis would reply with an error (the command
   * then changed nothing) and UnsupportedCommandError when the engine cannot execute it.
   */
  apply(argv: Buffer[]): void {
    if (argv.length === 0) throw new CommandError('ERR empty command');
    const name = this.commandName(argv[0]!);
    if (this.multiQueue !== null) {
      if (name === 'exec') {
        const queued = this.multiQueue;
        this.multiQueue = null;
        for (const cmd of queued) this.applyOne(cmd, cmd[0]!.toString('latin1').toLowerCase(), true);
        return;
      }
      if (name === 'discard') {
        this.multiQueue = null;
        return;
      }
      if (name === 'multi') throw new CommandError('ERR MULTI calls can not be nested');
      this.spec(name, argv); // unknown commands stop the replay at the command itself
      this.multiQueue.push(argv);
      return;
    }
    if (name === 'multi') {
      this.multiQueue = [];
      return;
    }
    if (name === 'exec' || name === 'discard') throw new CommandError(`ERR ${name.toUpperCase()} without MULTI`);
    this.applyOne(argv, name, false);
  }

  /** The last command name's bytes and its lower-case text: replays run long stretches of one command, whose name is then not made again. */
  private lastName = Buffer.alloc(0);
  private lastText = '';

  private commandName(b: Buffer): string {
    const last = this.lastName;
    if (b.length === last.length) {
      let i = 0;
      while (i < b.length && b[i] === last[i]) i++;
      if (i === b.length) return this.lastText;
    }
    this.lastName = Buffer.from(b);
    this.lastText = b.toString('latin1').toLowerCase();
    return this.lastText;
  }

  private spec(name: string, argv: Buffer[]): CommandSpec {
    const spec = commandTable.get(name);
    if (!spec) throw new UnsupportedCommandError(argv[0]!.toString('latin1'), 'unknown command (not a write command Redis or Valkey propagates)');
    if (spec.unsupported) throw new UnsupportedCommandError(argv[0]!.toString('latin1'), spec.unsupported);
    return spec;
  }

  private applyOne(argv: Buffer[], name: string, inExec: boolean): void {
    const spec = this.spec(name, argv);
    this.memoBuf = null;
    const n = argv.length;
    if ((spec.arity > 0 && n !== spec.arity) || (spec.arity < 0 && n < -spec.arity)) {
      if (inExec) return; // Redis would have refused it at queue time and aborted nothing else here
      throw wrongArity(name);
    }
    if (!inExec) {
      spec.run(this, argv);
      return;
    }
    try {
      spec.run(this, argv);
    } catch (e) {
      // Inside EXEC an error reply does not abort the other queued commands.
      if (!(e instanceof CommandError)) throw e;
    }
  }

  // ---- key-level helpers used by the command families ----

  /**
   * The last key converted to its Map key, within one command (reset by applyOne: a caller's
   * buffer may hold other bytes later): a command looks its key up, then stores it, with one string.
   */
  private memoBuf: Buffer | null = null;
  private memoKey = '';

  private mapKey(key: Buffer): string {
    if (key !== this.memoBuf) {
      this.memoKey = bkey(key);
      this.memoBuf = key;
    }
    return this.memoKey;
  }

  db(index = this.selectedDb): Db {
    return this.dbs[index]!;
  }

  /** Whether the key exists (no holder made for a bare string, as lookup() does). */
  has(key: Buffer, db = this.selectedDb): boolean {
    return this.dbs[db]!.has(this.mapKey(key));
  }

  /** The key's entry (a bare string's is a holder of its own: change a TTL with setExpireAt). */
  lookup(key: Buffer, db = this.selectedDb): Entry | undefined {
    const slot = this.dbs[db]!.get(this.mapKey(key));
    return slot === undefined ? undefined : entryOf(slot);
  }

  /** The value of `key` if it has the given type; undefined if missing; WRONGTYPE otherwise. */
  get<T extends keyof ValueOf>(key: Buffer, type: T, db = this.selectedDb): ValueOf[T] | undefined {
    const slot = this.dbs[db]!.get(this.mapKey(key));
    if (slot === undefined) return undefined;
    if (typeOf(slot) !== type) throw new CommandError(WRONGTYPE);
    return (typeof slot === 'string' ? kbuf(slot) : slot.value.v) as ValueOf[T];
  }

  /** A string key's value as latin1 text when held so, else its bytes; undefined if missing; WRONGTYPE otherwise. */
  getText(key: Buffer, db = this.selectedDb): string | Buffer | undefined {
    const slot = this.dbs[db]!.get(this.mapKey(key));
    if (slot === undefined || typeof slot === 'string') return slot;
    if (!(slot instanceof StoredString)) throw new CommandError(WRONGTYPE);
    return slot.text ?? slot.v;
  }

  /** Throws WRONGTYPE when the key exists with another type (checks before any change). */
  checkType(key: Buffer, type: Value['type'], db = this.selectedDb): void {
    const slot = this.dbs[db]!.get(this.mapKey(key));
    if (slot !== undefined && typeOf(slot) !== type) throw new CommandError(WRONGTYPE);
  }

  /**
   * Stores a value, given as a Value or (a string) as its latin1 text; the TTL is removed unless
   * keepTtl (SET KEEPTTL, APPEND, ...).
   */
  set(key: Buffer, value: Value | string, opts: { keepTtl?: boolean; expireAt?: number | null; db?: number } = {}): void {
    const db = this.dbs[opts.db ?? this.selectedDb]!;
    const k = this.mapKey(key);
    const old = opts.keepTtl && opts.expireAt === undefined ? db.get(k) : undefined;
    const expireAt = opts.expireAt !== undefined ? opts.expireAt : old !== undefined ? ttlOf(old) : null;
    db.set(k, slotOf(value, expireAt));
  }

  /** Sets (or, with null, removes) an existing key's TTL. */
  setExpireAt(key: Buffer, at: number | null, db = this.selectedDb): void {
    const d = this.dbs[db]!;
    const k = this.mapKey(key);
    const slot = d.get(k);
    if (slot === undefined) return;
    if (typeof slot === 'string' || slot instanceof StoredString) d.set(k, stringSlot(slot, at));
    else slot.expireAt = at;
  }

  /** Gets or creates a collection value of the given type. */
  getOrCreate<T extends keyof ValueOf>(key: Buffer, type: T, make: () => ValueOf[T]): ValueOf[T] {
    const v = this.get(key, type);
    if (v !== undefined) return v;
    const created = make();
    this.set(key, { type, v: created } as Value);
    return created;
  }

  delete(key: Buffer, db = this.selectedDb): boolean {
    return this.dbs[db]!.delete(this.mapKey(key));
  }

  /** Removes a collection key that became empty, as Redis does after every removal. */
  deleteIfEmpty(key: Buffer, size: number): void {
    if (size === 0) this.delete(key);
  }

  checkDb(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.dbs.length) throw new CommandError('ERR DB index is out of range');
    return index;
  }

  // ---- loading and dumping ----

  /** Loads one key from an RDB (a base file, an RDB preamble, a full sync payload). */
  loadKey(k: RdbKey): void {
    if (!k.value) throw new UnsupportedCommandError('RDB key', 'the RDB reader ran in raw mode; the engine needs decoded values');
    this.loadValue(k.db, bkey(k.key), valueFromModel(k.value), k.expireAtMs);
  }

  /** Stores a loaded key (`name` as in the db Map: its bytes as latin1). */
  loadValue(dbIndex: number, name: string, value: Value, expireAt: number | null): void {
    const db = this.dbs[dbIndex];
    if (!db) throw new CommandError(`ERR DB index ${dbIndex} is out of range (engine has ${this.dbs.length} databases)`);
    db.set(name, slotOf(value, expireAt));
  }

  /** A sink for the RDB reader that loads keys element by element (readAofBatches' rdbSink). */
  rdbLoader(): RdbLoadSink {
    return new RdbLoadSink(this);
  }

  /** Loads a function library from its source code (the FUNCTION2 record of an RDB). */
  loadFunction(code: Buffer): void {
    this.functions.set(libraryName(code), code);
  }

  /** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (payload decoded beforehand by applyAsync). */
  restoreFunctions(args: Buffer[]): void {
    const policy = args[1] ? upper(args[1]) : 'APPEND';
    if (args.length > 2 || !['FLUSH', 'APPEND', 'REPLACE'].includes(policy)) throw new CommandError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    const libs = restoredLibraries(args[0]!).map((code) => [libraryName(code), code] as const);
    if (policy === 'APPEND') {
      const clash = libs.find(([name]) => this.functions.has(name));
      if (clash) throw new CommandError(`ERR Library ${clash[0]} already exists`);
    }
    if (policy === 'FLUSH') this.functions.clear();
    for (const [name, code] of libs) this.functions.set(name, code);
  }

  /** Number of keys over all databases. */
  get size(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }

  /**
   * The dataset as RDB key records, database by database. Keys whose TTL is at or before
   * `nowMs` are left out (pass null to keep every key), as a server writing its output at that
   * time would; hash fields past their own TTL are left out the same way.
   */
  *keys(nowMs: number | null = null): Generator<RdbKey> {
    for (let db = 0; db < this.dbs.length; db++) yield* this.keysOfDb(db, nowMs);
  }

  /** One database's keys as RDB key records (see keys()). */
  *keysOfDb(db: number, nowMs: number | null = null): Generator<RdbKey> {
    for (const [k, slot] of this.slotsOfDb(db, nowMs)) {
      const e = entryOf(slot);
      const value = valueToModel(e.value, nowMs)!;
      yield { db, key: kbuf(k), expireAtMs: e.expireAt, rdbType: rdbTypeOf(value), value, offset: 0 };
    }
  }

  /**
   * One database's slots that a dump at `nowMs` writes (see keys()), keyed as in the db Map: the
   * live values themselves, for writers that stream big collections instead of building the model.
   */
  *slotsOfDb(db: number, nowMs: number | null = null): Generator<[string, Slot]> {
    for (const [k, slot] of this.dbs[db]!) {
      if (typeof slot !== 'string') {
        if (nowMs !== null && slot.expireAt !== null && slot.expireAt <= nowMs) continue;
        if (slot.value.type === 'hash' && nowMs !== null && !slot.value.v.aliveAt(nowMs)) continue;
      }
      yield [k, slot];
    }
  }

  /** Keys (and keys with a TTL) of one database that a dump at `nowMs` would write. */
  countDb(db: number, nowMs: number | null = null): { keys: number; expires: number } {
    let keys = 0;
    let expires = 0;
    for (const [, slot] of this.slotsOfDb(db, nowMs)) {
      keys++;
      if (ttlOf(slot) !== null) expires++;
    }
    return { keys, expires };
  }
}

function typeOf(slot: Slot): Value['type'] {
  return typeof slot === 'string' ? 'string' : slot.value.type;
}

function slotOf(value: Value | string, expireAt: number | null): Slot {
  if (typeof value === 'string' || value instanceof StoredString) return stringSlot(value, expireAt);
  if (value.type === 'string') return stringSlot(value.v, expireAt);
  return { value, expireAt };
}
