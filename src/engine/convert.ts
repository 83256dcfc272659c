import { ToolError } from '../util/errors.js';
import { hashFieldKey, type RedisValue, type StreamGroup } from '../codec/rdb/model.js';
import type { CollectionSource, Items } from '../codec/rdb/value-writer.js';
import { List } from './list.js';
import { SortedSet } from './sorted-set.js';
import { Stream, idCmp, idKey, type Consumer, type Group, type Nack } from './stream.js';
import { Hash } from './hash.js';
import { StoredString, bkey, kbuf, type Value } from './values.js';

// Conversions between the shared decoded model (what RDB/DUMP codecs read and write) and the
// engine's mutable values.

/** The RDB type byte of the plain (non-compact) encoding of a value; writers re-encode as needed. */
export function rdbTypeOf(v: RedisValue): number {
  switch (v.type) {
    case 'string':
      return 0;
    case 'list':
      return 18; // quicklist 2
    case 'set':
      return 2;
    case 'zset':
      return 5;
    case 'hash':
      return v.expires && v.expires.size ? 22 : 4;
    case 'stream':
      return 21;
    case 'module':
      return 7;
    case 'array':
      return 28;
    case 'pathhash':
      return 23; // Valkey RDB 81
  }
}

export function valueFromModel(m: RedisValue): Value {
  switch (m.type) {
    case 'string':
      return new StoredString(m.value);
    case 'list':
      return { type: 'list', v: List.from(m.value) };
    case 'set': {
      return { type: 'set', v: new Set(m.value.map(bkey)) };
    }
    case 'zset':
      return { type: 'zset', v: SortedSet.from(m.value.map(([member, score]) => ({ member, score }))) };
    case 'hash': {
      const h = new Hash();
      for (const [field, value] of m.value) {
        const k = bkey(field);
        h.set(k, value);
        const at = m.expires?.get(hashFieldKey(field));
        if (at !== undefined) h.setExpireAt(k, at);
      }
      return { type: 'hash', v: h };
    }
    case 'stream':
      return { type: 'stream', v: streamFromModel(m.value) };
    case 'module':
      return { type: 'module', v: m.value };
    case 'array':
      // No public command recreates an RDB 14 array: the engine (AOF rewrite, replay) cannot hold one.
      throw new ToolError('an array value (RDB 14, Redis 8.8+) cannot be rewritten as commands: no public command recreates it');
    case 'pathhash':
      // The engine models Redis types only; a path hash reaches Valkey 9.2 as a DUMP payload or PHSET commands.
      throw new ToolError('a Valkey path hash (VALKEY081) cannot be held by the command engine: restore it onto Valkey 9.2+ or with --lossy');
  }
}

function streamFromModel(m: import('../codec/rdb/model.js').StreamValue): Stream {
  const s = new Stream();
  s.setEntries(m.entries.map((e) => ({ id: e.id, fields: e.fields })));
  s.lastId = m.lastId;
  s.firstId = m.firstId;
  s.maxDeletedId = m.maxDeletedId;
  s.entriesAdded = m.entriesAdded;
  if (m.idmpRaw) s.idmpRaw = m.idmpRaw;
  for (const g of m.groups) {
    const group: Group = { name: g.name, lastId: g.lastDeliveredId, entriesRead: g.entriesRead, pel: new Map(), consumers: new Map() };
    const pelByKey = new Map(g.pel.map((p) => [idKey(p.id), p]));
    for (const c of g.consumers) {
      const consumer: Consumer = { name: c.name, seenTime: c.seenTimeMs, activeTime: c.activeTimeMs, pel: new Map() };
      group.consumers.set(bkey(c.name), consumer);
      for (const id of c.pending) {
        const p = pelByKey.get(idKey(id));
        const nack: Nack = { id, deliveryTime: p?.deliveryTimeMs ?? 0, deliveryCount: p?.deliveryCount ?? 1, consumer };
        consumer.pel.set(idKey(id), nack);
      }
    }
    // Group PEL order is the model's (ID order); entries point at their consumer's NACK.
    for (const p of g.pel) {
      const k = idKey(p.id);
      const owner = group.consumers.get(bkey(p.consumer));
      const nack = owner?.pel.get(k);
      if (nack) group.pel.set(k, nack);
    }
    s.groups.set(bkey(g.name), group);
  }
  return s;
}

/**
 * A live list, set, zset or hash (without field TTLs) as a source writers walk element by element,
 * so a big collection is never copied into the model; null for the other values.
 */
export function collectionSource(v: Value): CollectionSource | null {
  switch (v.type) {
    case 'list':
      return { type: 'list', value: v.v };
    case 'set':
      return { type: 'set', value: setItems(v.v) };
    case 'zset':
      return { type: 'zset', value: v.v };
    case 'hash':
      return v.v.hasTtls ? null : { type: 'hash', value: hashItems(v.v) };
    default:
      return null;
  }
}

function setItems(s: Set<string>): Items<Buffer> {
  return {
    length: s.size,
    *[Symbol.iterator]() {
      for (const m of s) yield kbuf(m);
    },
  };
}

function hashItems(h: Hash): Items<[Buffer, Buffer]> {
  return {
    length: h.size,
    *[Symbol.iterator]() {
      for (const [f, v] of h.entries()) yield [kbuf(f), kbuf(v)];
    },
  };
}

/**
 * The model form of a live value, or null when nothing is left of it at `nowMs` (a hash whose
 * fields all expired). Collections come out in the order Redis would write them.
 */
export function valueToModel(v: Value, nowMs: number | null): RedisValue | null {
  switch (v.type) {
    case 'string':
      return { type: 'string', value: v.v };
    case 'list':
      return { type: 'list', value: v.v.toArray() };
    case 'set':
      return { type: 'set', value: [...v.v].map(kbuf) };
    case 'zset':
      return { type: 'zset', value: v.v.nodes().map((n) => [n.member, n.score] as [Buffer, number]) };
    case 'hash': {
      const value: Array<[Buffer, Buffer]> = [];
      const expires = new Map<string, number>();
      for (const [f, x] of v.v.entries()) {
        const at = v.v.expireAt(f);
        if (at !== null) {
          if (nowMs !== null && at <= nowMs) continue;
          expires.set(f, at);
        }
        value.push([kbuf(f), kbuf(x)]);
      }
      if (value.length === 0) return null;
      return expires.size ? { type: 'hash', value, expires } : { type: 'hash', value };
    }
    case 'stream':
      return { type: 'stream', value: streamToModel(v.v) };
    case 'module':
      return { type: 'module', value: v.v };
  }
}

function byName<T extends { name: Buffer }>(a: T, b: T): number {
  return Buffer.compare(a.name, b.name);
}

function streamToModel(s: Stream): import('../codec/rdb/model.js').StreamValue {
  const groups: StreamGroup[] = [...s.groups.values()].sort(byName).map((g) => ({
    name: g.name,
    lastDeliveredId: g.lastId,
    entriesRead: g.entriesRead,
    pel: [...g.pel.values()]
      .sort((a, b) => idCmp(a.id, b.id))
      .map((n) => ({ id: n.id, deliveryTimeMs: n.deliveryTime, deliveryCount: n.deliveryCount, consumer: n.consumer.name })),
    consumers: [...g.consumers.values()].sort(byName).map((c) => ({
      name: c.name,
      seenTimeMs: c.seenTime,
      activeTimeMs: c.activeTime,
      pending: [...c.pel.values()].sort((a, b) => idCmp(a.id, b.id)).map((n) => n.id),
    })),
  }));
  const out: import('../codec/rdb/model.js').StreamValue = {
    entries: s.toArray(),
    length: s.length,
    lastId: s.lastId,
    firstId: s.firstId,
    maxDeletedId: s.maxDeletedId,
    entriesAdded: s.entriesAdded,
    groups,
  };
  if (s.idmpRaw) out.idmpRaw = s.idmpRaw;
  return out;
}
