import { redisTypeOf } from '../codec/rdb/constants.js';
import type { RedisValue } from '../codec/rdb/model.js';
import type { ValueSink } from '../codec/rdb/value-sink.js';
import { valueFromModel } from './convert.js';
import { Hash } from './hash.js';
import type { Keyspace } from './keyspace.js';
import { List } from './list.js';
import { SortedSet } from './sorted-set.js';
import { StoredString, type Value } from './values.js';

/**
 * Loads an RDB's keys (a preamble, a base file) into a keyspace straight from the reader's
 * validating pass (ReadRdbOptions.sink): elements go into the engine's compact values as they are
 * read, never a Buffer per element or a whole decoded value (a preamble holding a 4M-element list
 * would otherwise be decoded in full first). Types the reader hands over whole (streams, modules,
 * zipmaps, hashes with field TTLs) go through the model.
 */
export class RdbLoadSink implements ValueSink {
  private db = 0;
  private name = '';
  private expireAt: number | null = null;
  private building: Value | null = null;
  private whole: RedisValue | null = null;
  /** A hash field or zset member waiting for its value or score. */
  private pending: Buffer | null = null;

  constructor(private readonly ks: Keyspace) {}

  key(db: number, b: Buffer, start: number, end: number, rdbType: number, expireAtMs: number | null, valkey = false): boolean {
    this.db = db;
    this.name = b.toString('latin1', start, end);
    this.expireAt = expireAtMs;
    this.whole = null;
    this.pending = null;
    switch (redisTypeOf(rdbType, valkey)) {
      case 'list':
        this.building = { type: 'list', v: List.from([]) };
        break;
      case 'set':
        this.building = { type: 'set', v: new Set() };
        break;
      case 'zset':
        this.building = { type: 'zset', v: new SortedSet() };
        break;
      case 'hash':
        this.building = { type: 'hash', v: new Hash() };
        break;
      default:
        this.building = null; // a string (its one element) or a value handed over whole
    }
    return true;
  }

  /** One element; the view is only valid during the call (every store below copies it). */
  str(b: Buffer, start: number, end: number): void {
    this.element(b.subarray(start, end));
  }

  int(v: number | bigint): void {
    this.element(Buffer.from(String(v), 'latin1'));
  }

  score(x: number): void {
    if (this.building?.type === 'zset' && this.pending) this.building.v.set(this.pending, x);
    this.pending = null;
  }

  /** A score in the form formatScore prints (shortest round-trip text): Number reads it exactly. */
  scoreText(b: Buffer, start: number, end: number): void {
    this.score(Number(b.toString('latin1', start, end)));
  }

  value(v: RedisValue): void {
    this.whole = v;
  }

  end(): void {
    const value = this.whole ? valueFromModel(this.whole) : this.building;
    if (value) this.ks.loadValue(this.db, this.name, value, this.expireAt);
    this.discard();
  }

  discard(): void {
    this.building = this.whole = this.pending = null;
  }

  /** Function libraries come as records too; replay loads them from there. */
  func(): void {}

  private element(e: Buffer): void {
    const v = this.building;
    if (v === null) {
      this.building = new StoredString(e);
      return;
    }
    switch (v.type) {
      case 'list':
        v.v.pushBack(e);
        return;
      case 'set':
        v.v.add(e.toString('latin1'));
        return;
      case 'zset':
        this.pending = Buffer.from(e);
        return;
      case 'hash':
        if (this.pending === null) this.pending = Buffer.from(e);
        else {
          v.v.set(this.pending.toString('latin1'), e);
          this.pending = null;
        }
        return;
    }
  }
}
