import type { RdbKey, RedisValue } from '../codec/rdb/model.js';
import { RdbWriter, type RdbSink } from '../codec/rdb/writer.js';
import { ITEMS_PER_COMMAND, functionToCommand, valueToCommands } from '../codec/rdb/to-commands.js';
import type { CollectionSource } from '../codec/rdb/value-writer.js';
import { collectionSource, rdbTypeOf, valueToModel } from './convert.js';
import type { Keyspace } from './keyspace.js';
import { StoredString, entryOf, kbuf, ttlOf } from './values.js';

/** What a dump wrote, for summaries. */
export interface DumpStats {
  keys: number;
  expiredLeftOut: number;
  functions: number;
  bytes: number;
}

/**
 * Writes the keyspace as an RDB: AUX fields, function libraries, then each non-empty db with its
 * RESIZEDB hint. Keys expired at `nowMs` are left out (null keeps all).
 */
export async function dumpToRdb(
  ks: Keyspace,
  sink: RdbSink,
  opts: { version: number; nowMs: number | null; aux?: Array<[string, string]>; lossy?: boolean; legacyStreams?: boolean },
): Promise<DumpStats & { writer: RdbWriter }> {
  const w = new RdbWriter(sink, { version: opts.version, lossy: opts.lossy ?? false });
  await w.start(opts.aux ?? []);
  for (const code of ks.functions.values()) await w.writeFunction(code);
  const total = ks.size;
  let keys = 0;
  for (let db = 0; db < ks.dbs.length; db++) {
    const sizes = ks.countDb(db, opts.nowMs);
    if (sizes.keys === 0) continue;
    await w.selectDb(db, sizes);
    for (const [k, slot] of ks.slotsOfDb(db, opts.nowMs)) {
      const text = typeof slot === 'string' ? slot : slot instanceof StoredString ? slot.text : null;
      if (text !== null) {
        const flushed = w.writeTextStringKey(db, k, text, ttlOf(slot));
        if (flushed) await flushed;
        continue;
      }
      const e = entryOf(slot);
      const source = collectionSource(e.value);
      if (source) {
        await w.writeCollection({ db, key: kbuf(k), expireAtMs: e.expireAt }, source);
        continue;
      }
      const value = valueToModel(e.value, opts.nowMs)!;
      // Built field by field: a spread copy here measured as old-space garbage per key (the heap
      // grew by ~500 MB while writing 2M string keys).
      const key: RdbKey = { db, key: kbuf(k), expireAtMs: e.expireAt, rdbType: rdbTypeOf(value), value, offset: 0 };
      await w.writeKey(opts.legacyStreams ? withoutStreamCounters(key) : key);
    }
    keys += sizes.keys;
  }
  const { bytes } = await w.finish();
  return { keys, expiredLeftOut: total - keys, functions: ks.functions.size, bytes, writer: w };
}

/**
 * The keyspace as the commands of an AOF rewrite (FUNCTION LOAD per library, then per key the
 * minimal command form with PEXPIREAT), each with the db it applies to. Big collections come out
 * ITEMS_PER_COMMAND items at a time, as they are walked.
 */
export function* dumpToCommands(ks: Keyspace, nowMs: number | null): Generator<{ db: number; argv: Buffer[]; firstOfKey: boolean }> {
  for (const code of ks.functions.values()) yield { db: 0, argv: functionToCommand(code), firstOfKey: false };
  for (let db = 0; db < ks.dbs.length; db++) {
    for (const [k, slot] of ks.slotsOfDb(db, nowMs)) {
      const key = kbuf(k);
      const e = entryOf(slot);
      const source = collectionSource(e.value);
      const commands = source ? batchCommands(key, source, e.expireAt) : valueToCommands(key, valueToModel(e.value, nowMs)!, e.expireAt);
      let first = true;
      for (const argv of commands) {
        yield { db, argv, firstOfKey: first };
        first = false;
      }
    }
  }
}

/**
 * A collection's commands, built by valueToCommands one ITEMS_PER_COMMAND slice at a time (each
 * slice gives exactly the command the whole value would have had there); the TTL goes with the
 * last slice.
 */
function* batchCommands(key: Buffer, source: CollectionSource, expireAtMs: number | null): Generator<Buffer[]> {
  const total = source.value.length;
  let seen = 0;
  let batch: Array<Buffer | [Buffer, number] | [Buffer, Buffer]> = [];
  for (const item of source.value) {
    batch.push(item);
    if (++seen % ITEMS_PER_COMMAND !== 0 && seen !== total) continue;
    yield* valueToCommands(key, sliceValue(source.type, batch), seen === total ? expireAtMs : null);
    batch = [];
  }
}

function sliceValue(type: CollectionSource['type'], items: Array<Buffer | [Buffer, number] | [Buffer, Buffer]>): RedisValue {
  switch (type) {
    case 'list':
    case 'set':
      return { type, value: items as Buffer[] };
    case 'zset':
      return { type, value: items as Array<[Buffer, number]> };
    case 'hash':
      return { type, value: items as Array<[Buffer, Buffer]> };
  }
}

/**
 * A stream as a Redis <= 6.2 holds it: no entries-added / max-deleted-id / entries-read (those
 * servers derive them on load). Used when the producer of the replayed AOF predates them, so the
 * engine's 7.0-style counters were never part of the data.
 */
function withoutStreamCounters(k: RdbKey): RdbKey {
  if (k.value?.type !== 'stream') return k;
  const s = k.value.value;
  const value = {
    ...s,
    maxDeletedId: { ms: 0n, seq: 0n },
    entriesAdded: BigInt(s.entries.length),
    groups: s.groups.map((g) => ({ ...g, entriesRead: null })),
  };
  return { ...k, value: { type: 'stream', value } };
}
