import type { RdbKey } from '../codec/rdb/model.js';
import { RdbWriter, type RdbSink } from '../codec/rdb/writer.js';
import { functionToCommand, valueToCommands } from '../codec/rdb/to-commands.js';
import type { Keyspace } from './keyspace.js';

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
    for (const k of ks.keysOfDb(db, opts.nowMs)) await w.writeKey(opts.legacyStreams ? withoutStreamCounters(k) : k);
    keys += sizes.keys;
  }
  const { bytes } = await w.finish();
  return { keys, expiredLeftOut: total - keys, functions: ks.functions.size, bytes, writer: w };
}

/**
 * The keyspace as the commands of an AOF rewrite (FUNCTION LOAD per library, then per key the
 * minimal command form with PEXPIREAT), each with the db it applies to.
 */
export function* dumpToCommands(ks: Keyspace, nowMs: number | null): Generator<{ db: number; argv: Buffer[]; firstOfKey: boolean }> {
  for (const code of ks.functions.values()) yield { db: 0, argv: functionToCommand(code), firstOfKey: false };
  for (const k of ks.keys(nowMs)) {
    let first = true;
    for (const argv of valueToCommands(k.key, k.value!, k.expireAtMs)) {
      yield { db: k.db, argv, firstOfKey: first };
      first = false;
    }
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
