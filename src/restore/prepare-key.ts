import { decodeDump, encodeDump } from '../codec/rdb/dump.js';
import { hashFieldKey, type RdbKey, type RedisValue } from '../codec/rdb/model.js';
import { valueToCommands } from '../codec/rdb/to-commands.js';
import type { Arg } from '../codec/resp/encoder.js';
import { framePayload } from './dump-payload.js';
import { payloadStamp } from './rdb-versions.js';

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
  | { kind: 'commands'; commands: Arg[][]; value: RedisValue; bytes: number; lossy?: string };

/** What a target cannot hold of a decoded value, or null when it can hold all of it. */
export function unrepresentable(value: RedisValue, targetRdb: number): string | null {
  if (value.type === 'hash' && value.expires && value.expires.size > 0 && targetRdb < 12) return 'hash field TTLs need RDB 12 (Redis 7.4+)';
  if (value.type === 'stream' && value.value.idmpRaw && value.value.idmpRaw.length > 0 && targetRdb < 13) return 'stream IDMP state needs RDB 13 (Redis 8.6+)';
  return null;
}

/** The value without what `unrepresentable` named: fields already expired go, the rest lose their TTL. */
export function dropUnrepresentable(value: RedisValue, now: number): RedisValue {
  if (value.type === 'hash' && value.expires) {
    const expires = value.expires;
    return { type: 'hash', value: value.value.filter(([f]) => (expires.get(hashFieldKey(f)) ?? Infinity) > now) };
  }
  if (value.type === 'stream') return { type: 'stream', value: { ...value.value, idmpRaw: undefined } };
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

/** prepareFast, or the slow path that decodes the value (conversion, big keys). */
export async function prepareKey(k: RdbKey, p: KeyPolicy, estimateOnly = false): Promise<PreparedKey> {
  const fast = prepareFast(k, p, estimateOnly);
  if (fast) return fast;
  let value = await keyValue(k, p.sourceRdb);
  let lossy: string | undefined;
  const why = unrepresentable(value, p.targetRdb);
  if (why) {
    if (!p.lossy) return { kind: 'unrepresentable', reason: why };
    lossy = why.replace(/ need.*/, ' dropped');
    value = dropUnrepresentable(value, p.now);
  }
  const estimate = k.raw ? k.raw.length + 11 : 0;
  if (estimate > p.bigKeyBytes) {
    return { kind: 'commands', commands: valueToCommands(k.key, value, k.expireAtMs), value, bytes: estimate, lossy };
  }
  const payload = encodeDump(value, p.targetRdb, k.key);
  if (payload.length > p.bigKeyBytes) {
    return { kind: 'commands', commands: valueToCommands(k.key, value, k.expireAtMs), value, bytes: payload.length, lossy };
  }
  return { kind: 'payload', payload, bytes: payload.length, lossy };
}
