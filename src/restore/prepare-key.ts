import { VALKEY_TYPE_PATH_HASH } from '../codec/rdb/constants.js';
import { decodeDump, encodeDump } from '../codec/rdb/dump.js';
import { hashFieldKey, type RdbKey, type RedisValue } from '../codec/rdb/model.js';
import { oneKeyHead, ONE_KEY_TAIL } from '../codec/rdb/raw-value.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { JsonOut } from '../inspect/json-out.js';
import { KeyRespSink } from '../inspect/key-resp-sink.js';
import { ByteSource } from '../util/byte-source.js';
import { framePayload } from './dump-payload.js';
import { payloadStamp } from './rdb-versions.js';
import { streamWithoutNacked } from '../codec/rdb/value-writer.js';

/** How one key of the backup reaches a target that loads up to `targetRdb`. */
export interface KeyPolicy {
  sourceRdb: number;
  targetRdb: number;
  /** Drop what the target cannot represent (hash-field TTLs, stream IDMP state) instead of refusing the key. */
  lossy: boolean;
  /** Payloads larger than this are rebuilt with plain commands instead of one RESTORE. */
  bigKeyBytes: number;
  now: number;
}

export type PreparedKey =
  | { kind: 'expired' }
  | { kind: 'unrepresentable'; reason: string }
  | { kind: 'payload'; payload: Buffer; bytes: number; lossy?: string }
  | { kind: 'commands'; frames: Buffer; bytes: number; lossy?: string };

const PATH_HASH_NEEDS = 'path hashes need VALKEY081 (Valkey 9.2+)';

/** What a target cannot hold of a decoded value, or null when it can hold all of it. */
export function unrepresentable(value: RedisValue, targetRdb: number): string | null {
  if (value.type === 'hash' && value.expires && value.expires.size > 0 && targetRdb < 12) return 'hash field TTLs need RDB 12 (Redis 7.4+)';
  if (value.type === 'stream' && value.value.idmpRaw && value.value.idmpRaw.length > 0 && targetRdb < 13) return 'stream IDMP state needs RDB 13 (Redis 8.6+)';
  if (value.type === 'stream' && targetRdb < 14 && value.value.groups.some((g) => g.nacked?.length)) return 'stream NACK zone entries need RDB 14 (Redis 8.8+)';
  if (value.type === 'array' && targetRdb < 14) return 'arrays need RDB 14 (Redis 8.8+)';
  // Valkey RDB numbers start at 80: every Redis target (up to 15) and Valkey 9.0 (80) lack the type.
  if (value.type === 'pathhash' && targetRdb < 81) return PATH_HASH_NEEDS;
  return null;
}

/**
 * The value without what `unrepresentable` named: fields already expired go, the rest lose their
 * TTL; null when nothing of the key remains (an array or a path hash: the whole key is skipped).
 */
export function dropUnrepresentable(value: RedisValue, now: number): RedisValue | null {
  if (value.type === 'array' || value.type === 'pathhash') return null;
  if (value.type === 'hash' && value.expires) {
    const expires = value.expires;
    return { type: 'hash', value: value.value.filter(([f]) => (expires.get(hashFieldKey(f)) ?? Infinity) > now) };
  }
  // NACKed entries leave the group PEL (an older stream has no NACK zone, every entry needs an owner).
  if (value.type === 'stream') return { type: 'stream', value: { ...streamWithoutNacked(value.value), idmpRaw: undefined } };
  return value;
}

/** The decoded value of a key read in raw mode (or as decoded by the reader). */
export async function keyValue(k: RdbKey, sourceRdb: number): Promise<RedisValue> {
  if (k.value) return k.value;
  return (await decodeDump(framePayload(k.rdbType, k.raw!, sourceRdb), 'backup')).value;
}

/**
 * Chooses the cheapest faithful form: the stored bytes re-framed as a DUMP payload when the target
 * loads that encoding, a re-encoded payload when it does not, plain commands when too big.
 * `estimateOnly` (planning, dry-run) skips building payloads for keys that need no conversion.
 */
export function prepareFast(k: RdbKey, p: KeyPolicy, estimateOnly = false): PreparedKey | null {
  if (k.expireAtMs !== null && k.expireAtMs <= p.now) return { kind: 'expired' };
  const stamp = k.raw ? payloadStamp(k.rdbType, p.sourceRdb, p.targetRdb) : null;
  if (stamp !== null && k.raw!.length + 11 <= p.bigKeyBytes) {
    const bytes = k.raw!.length + 11;
    return estimateOnly ? { kind: 'payload', payload: EMPTY, bytes } : { kind: 'payload', payload: framePayload(k.rdbType, k.raw!, stamp), bytes };
  }
  return null;
}

const EMPTY = Buffer.alloc(0);

/** prepareFast, or the slow path that decodes the value (conversion), or commands for a big key. */
export async function prepareKey(k: RdbKey, p: KeyPolicy, estimateOnly = false): Promise<PreparedKey> {
  const fast = prepareFast(k, p, estimateOnly);
  if (fast) return fast;
  const estimate = k.raw ? k.raw.length + 11 : 0;
  if (estimate > p.bigKeyBytes) return storedCommands(k, p, estimate);
  let value = await keyValue(k, p.sourceRdb);
  let lossy: string | undefined;
  const why = unrepresentable(value, p.targetRdb);
  if (why) {
    // An array has nothing left to restore without its type: skipped (with --lossy) or refused.
    const kept = p.lossy ? dropUnrepresentable(value, p.now) : null;
    if (!kept) return { kind: 'unrepresentable', reason: why };
    lossy = lossyNote(why);
    value = kept;
  }
  const payload = encodeDump(value, p.targetRdb, k.key);
  if (payload.length > p.bigKeyBytes) {
    // Rare (a value re-encoded bigger than the threshold its stored bytes were under): from the model.
    const sink = new KeyRespSink({}, new JsonOut(1 << 16), k.db);
    sink.key(k.db, k.key, 0, k.key.length, k.rdbType, k.expireAtMs);
    sink.value(value);
    sink.end();
    return { kind: 'commands', frames: sink.out.written(), bytes: payload.length, lossy };
  }
  return { kind: 'payload', payload, bytes: payload.length, lossy };
}

export const lossyNote = (why: string): string => why.replace(/ need.*/, ' dropped');

/**
 * A big key's commands (RESP, 64 items each) made by the reader's validating pass over its stored
 * bytes through KeyRespSink: no decoded value, no Buffer per element. The types the reader decodes
 * whole (streams, hash-field TTLs) are checked against the target on the way.
 */
async function storedCommands(k: RdbKey, p: KeyPolicy, bytes: number): Promise<PreparedKey> {
  // The sink takes a path hash path by path, past `adapt`: refused (or skipped) here for older targets.
  if (k.rdbType === VALKEY_TYPE_PATH_HASH && p.sourceRdb >= 81 && p.targetRdb < 81) return { kind: 'unrepresentable', reason: PATH_HASH_NEEDS };
  let refused: string | null = null;
  let lossy: string | undefined;
  const adapt = (v: RedisValue): RedisValue => {
    const why = unrepresentable(v, p.targetRdb);
    if (!why) return v;
    const kept = p.lossy ? dropUnrepresentable(v, p.now) : null;
    if (!kept) refused = why;
    lossy = lossyNote(why);
    return kept ?? v;
  };
  const sink = new KeyRespSink({}, new JsonOut(Math.max(1 << 16, k.raw!.length * 3)), k.db, adapt);
  const framed = Buffer.concat([oneKeyHead(k.rdbType, p.sourceRdb, k.key, k.expireAtMs), k.raw!, ONE_KEY_TAIL]);
  const dec = new RdbDecoder(ByteSource.fromBuffer(framed, 'backup'), { sink });
  while (await dec.nextBatch());
  if (refused !== null) return { kind: 'unrepresentable', reason: refused };
  return { kind: 'commands', frames: sink.out.written(), bytes, lossy };
}
