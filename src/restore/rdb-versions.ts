import { VALKEY_TYPE_PATH_HASH } from '../codec/rdb/constants.js';
import { typeLoadableIn } from '../codec/rdb/value-writer.js';
import { UsageError } from '../util/errors.js';

/**
 * Which RDB version a target server speaks, and which value types each version can load: restore
 * stamps DUMP payloads and picks a conversion from these (formats digest §1.1, §1.2, §2.15).
 */

/** Redis release (major.minor) → the RDB version it writes and the newest it loads. */
const REDIS_RDB: Array<[major: number, minor: number, rdb: number]> = [
  [8, 10, 15],
  [8, 8, 14],
  [8, 6, 13],
  [7, 4, 12],
  [7, 2, 11],
  [7, 0, 10],
  [5, 0, 9],
  [4, 0, 8],
  [3, 2, 7],
  [2, 6, 6],
  [2, 4, 2],
  [0, 0, 1],
];

/** Valkey release → RDB version (Valkey 9 jumped to 80 to leave 12–79 to Redis). */
const VALKEY_RDB: Array<[major: number, minor: number, rdb: number]> = [
  [9, 2, 81],
  [9, 0, 80],
  [0, 0, 11],
];

export interface ServerFlavor {
  flavor: 'redis' | 'valkey';
  /** "7.0.15" */
  version: string;
}

function parseVersion(v: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  if (!m) throw new UsageError(`${what}: expected a version like 7.0 or 7.2.4, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

function lookup(table: Array<[number, number, number]>, major: number, minor: number): number {
  for (const [ma, mi, rdb] of table) if (major > ma || (major === ma && minor >= mi)) return rdb;
  return 1;
}

/** The RDB version a Redis (or Valkey) release loads at most. */
export function rdbVersionFor(server: ServerFlavor): number {
  const [major, minor] = parseVersion(server.version, `${server.flavor} version`);
  return lookup(server.flavor === 'valkey' ? VALKEY_RDB : REDIS_RDB, major, minor);
}

/** Reads the flavor and version from `INFO server` fields (Valkey 8+ reports valkey_version). */
export function serverFromInfo(info: Record<string, string>): ServerFlavor {
  if (info.valkey_version) return { flavor: 'valkey', version: info.valkey_version };
  if (info.server_name === 'valkey') return { flavor: 'valkey', version: info.redis_version ?? '7.2' };
  return { flavor: 'redis', version: info.redis_version ?? '0.0' };
}

/** Whether a server that loads up to `targetRdb` accepts a payload stamped `stamp` (Valkey strict rules). */
export function stampAccepted(stamp: number, targetRdb: number): boolean {
  if (stamp > targetRdb) return false;
  // Valkey 9+ (RDB 80+) rejects the "foreign" Redis range 12–79.
  if (targetRdb >= 80 && stamp >= 12 && stamp <= 79) return false;
  return true;
}

/**
 * The version to stamp on a DUMP payload carrying a value of `rdbType` written by an RDB of
 * `sourceRdb`, for a server loading up to `targetRdb`; null when the raw bytes cannot be sent as
 * they are and the value must be re-encoded.
 */
export function payloadStamp(rdbType: number, sourceRdb: number, targetRdb: number): number | null {
  // A Valkey path hash's bytes (type 23 of a VALKEY081 file; 23 means another type in Redis) go
  // as they are to Valkey 9.2+ only; any other target re-encodes, which refuses or drops it.
  if (rdbType === VALKEY_TYPE_PATH_HASH && sourceRdb >= 81) return targetRdb >= 81 ? Math.min(sourceRdb, targetRdb) : null;
  // The source's own version when the target takes it, else the newest stamp the target takes.
  for (const stamp of [sourceRdb, targetRdb, 11]) {
    if (typeLoadableIn(rdbType, Math.min(stamp, targetRdb)) && stampAccepted(stamp, targetRdb)) return stamp;
  }
  return null;
}

/** `--redis-version 7.0` / `valkey:8.0` → RDB version. */
export function rdbVersionForRelease(spec: string): number {
  const m = /^(?:(redis|valkey)[:-])?(.+)$/i.exec(spec.trim());
  const flavor = (m?.[1]?.toLowerCase() ?? 'redis') as 'redis' | 'valkey';
  return rdbVersionFor({ flavor, version: m?.[2] ?? spec });
}
