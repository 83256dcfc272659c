import type { RedisType } from './model.js';

/** RDB value type and opcode numbers (redis:src/rdb.h, valkey:src/rdb.h); see formats digest §2.2, §2.7. */

export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  /** Redis 7.4 release candidates; in VALKEY-magic files 22 is HASH_2 instead. */
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
  STREAM_LISTPACKS_4: 26,
  /** RDB 14 (Redis 8.8): stream v4 plus a per-group NACK zone after the consumers. */
  STREAM_LISTPACKS_5: 27,
  /** RDB 14: sparse array (index -> element). */
  ARRAY: 28,
  /** RDB 15 (Redis 8.10) hash templates: self-contained forms (DUMP payloads) and the _REF forms
   *  of a full RDB, whose field names live in the template section (opcode 242 in REDIS files). */
  HASH_TMPL_LP: 29,
  HASH_TMPL_LP_REF: 30,
  HASH_TMPL_ARRAY: 31,
  HASH_TMPL_ARRAY_REF: 32,
  /**
   * GCRA rate-limiter state, compile-gated (ENABLE_GCRA) in Redis unstable: named in public sources,
   * but no public rdb.c with its serialization was found (refused with its offset).
   */
  GCRA: 33,
} as const;

/** Highest Redis type byte this tool decodes (33 and above are refused with their offset). */
export const MAX_REDIS_VALUE_TYPE = RdbType.HASH_TMPL_ARRAY_REF;
/**
 * Valkey RDB 81 (9.2) type 23 PATH_HASH (valkey:src/rdb.h, rdb.c, t_path_hash.c): a radix tree of
 * paths, each holding a non-empty field/value map. LEN path count, then per path: STRING path,
 * LEN field count (> 0), that many STRING field, STRING value pairs. Paths are unique within the
 * key, fields unique within their path. In REDIS files 23 is HASH_LISTPACK_EX_PRE_GA.
 */
export const VALKEY_TYPE_PATH_HASH = 23;

/** Valkey 9 (RDB 80+) reuses 22 for its own hash-with-field-TTL encoding. */
export const VALKEY_TYPE_HASH_2 = 22;

export const RdbOpcode = {
  /** Redis RDB 15 hash template record (id, field names); decided by magic, see VALKEY_UPDATE. */
  HASH_TEMPLATE: 242,
  /** Valkey RDB 81 forkless-save UPDATE: one RESP multi-bulk command to replay after loading. */
  VALKEY_UPDATE: 242,
  /** Redis RDB 13 per-key metadata; Valkey RDB 80 SLOT_IMPORT (decided by magic). */
  KEY_META: 243,
  SLOT_IMPORT: 243,
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Redis Enterprise opcodes (one LEN each), skipped with a notice as librdb does. */
export const EnterpriseOpcode = { RAM_LRU: 107, SLOT_NUM: 121 } as const;

/** Quicklist 2 node containers. */
export const QuicklistContainer = { PLAIN: 1, PACKED: 2 } as const;

/** Module opcode stream items (RedisModule_Save*). */
export const ModuleOpcode = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;

/** Highest Redis RDB version we read (13 = Redis 8.6, 14 = 8.8, 15 = 8.10); Valkey versions 80 and 81. */
export const MAX_REDIS_RDB_VERSION = 15;
export const VALKEY_RDB_VERSIONS: readonly number[] = [80, 81];

/** Human name of each value type byte, for reports. */
export function rdbTypeName(type: number, valkey = false): string {
  if (valkey && type === VALKEY_TYPE_HASH_2) return 'hash-2';
  if (valkey && type === VALKEY_TYPE_PATH_HASH) return 'path-hash';
  for (const [name, n] of Object.entries(RdbType)) if (n === type) return name.toLowerCase().replace(/_/g, '-');
  return `type-${type}`;
}

/** The logical type of a value stored with RDB type byte `type` (in a VALKEY-magic file when `valkey`). */
export function redisTypeOf(type: number, valkey = false): RedisType {
  if (valkey && type === VALKEY_TYPE_PATH_HASH) return 'pathhash';
  switch (type) {
    case RdbType.STRING:
      return 'string';
    case RdbType.LIST:
    case RdbType.LIST_ZIPLIST:
    case RdbType.LIST_QUICKLIST:
    case RdbType.LIST_QUICKLIST_2:
      return 'list';
    case RdbType.SET:
    case RdbType.SET_INTSET:
    case RdbType.SET_LISTPACK:
      return 'set';
    case RdbType.ZSET:
    case RdbType.ZSET_2:
    case RdbType.ZSET_ZIPLIST:
    case RdbType.ZSET_LISTPACK:
      return 'zset';
    case RdbType.STREAM_LISTPACKS:
    case RdbType.STREAM_LISTPACKS_2:
    case RdbType.STREAM_LISTPACKS_3:
    case RdbType.STREAM_LISTPACKS_4:
    case RdbType.STREAM_LISTPACKS_5:
      return 'stream';
    case RdbType.ARRAY:
      return 'array';
    case RdbType.MODULE_2:
    case RdbType.MODULE_PRE_GA:
      return 'module';
    default:
      return 'hash'; // 4, 9, 13, 16, 22-25, 29-32
  }
}
