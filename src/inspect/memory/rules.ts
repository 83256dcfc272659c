import { UsageError } from '../../util/errors.js';

/**
 * What differs between Redis releases in the memory model: structure sizes (64-bit builds), the
 * packed encoding of small aggregates, the default encoding thresholds (redis.conf defaults, which
 * an RDB does not record) and how a zset listpack spells scores. The facts come from each
 * release's object.c (objectComputeSize), dict.h, quicklist.h, server.h, t_stream.c and config.c.
 */
export interface MemoryRules {
  /** The release family these rules follow ("6.2", "7.0", "7.2"). */
  family: '6.2' | '7.0' | '7.2';
  /** Small lists, hashes and zsets: ziplist (<= 6.2) or listpack (7.0+). */
  packed: 'ziplist' | 'listpack';
  /** sizeof(dict): 96 with two dictht (<= 6.2), 56 from 7.0. */
  dict: number;
  /** sizeof(stream), sizeof(streamCG), sizeof(streamConsumer). */
  stream: number;
  streamGroup: number;
  streamConsumer: number;
  /** 7.2+: a list that fits one small node is a plain listpack; sets of short strings are listpacks. */
  listpackLists: boolean;
  listpackSets: boolean;
  /** Defaults of hash/zset-max-*-entries/value, set-max-intset-entries, set-max-listpack-*. */
  hashMaxEntries: number;
  hashMaxValue: number;
  zsetMaxEntries: number;
  zsetMaxValue: number;
  setMaxIntset: number;
  setMaxListpackEntries: number;
  setMaxListpackValue: number;
  /** list-max-listpack-size -2: a quicklist node holds at most 8 KiB. */
  listNodeBytes: number;
  /** How d2string spells a non-integer score in a zset listpack: %.17g (<= 7.0) or shortest round-trip (7.2+). */
  scores: 'g17' | 'shortest';
}

/** Shared by every 64-bit release: robj, dictEntry, quicklist, quicklistNode, zset, zskiplist, streamNACK. */
export const ROBJ = 16;
export const DICT_ENTRY = 24;
export const QUICKLIST = 40;
export const QUICKLIST_NODE = 40;
export const ZSET = 16;
export const ZSKIPLIST = 32;
export const STREAM_NACK = 24;

const R62: MemoryRules = {
  family: '6.2',
  packed: 'ziplist',
  dict: 96,
  stream: 40,
  streamGroup: 32,
  streamConsumer: 24,
  listpackLists: false,
  listpackSets: false,
  hashMaxEntries: 512,
  hashMaxValue: 64,
  zsetMaxEntries: 128,
  zsetMaxValue: 64,
  setMaxIntset: 512,
  setMaxListpackEntries: 0,
  setMaxListpackValue: 0,
  listNodeBytes: 8192,
  scores: 'g17',
};
const R70: MemoryRules = { ...R62, family: '7.0', packed: 'listpack', dict: 56, stream: 80, streamGroup: 40 };
const R72: MemoryRules = { ...R70, family: '7.2', streamConsumer: 32, listpackLists: true, listpackSets: true, setMaxListpackEntries: 128, setMaxListpackValue: 64, scores: 'shortest' };

/**
 * The rules for a release given as "X.Y" (or a full "X.Y.Z" redis-ver): 7.0 is verified against a
 * real server in the suite; older releases follow 6.2, newer ones 7.2 (see README for the limits).
 */
export function rulesFor(version: string): MemoryRules {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new UsageError(`--redis-version: expected X.Y (e.g. 7.0), got "${version}"`);
  const v = Number(m[1]) * 100 + Number(m[2]);
  if (v < 700) return R62;
  if (v < 702) return R70;
  return R72;
}

/** The rules for a file without --redis-version: its redis-ver aux field, else what its RDB version implies. */
export function rulesForFile(redisVer: string | undefined, rdbVersion: number): MemoryRules {
  if (redisVer && /^\d+\.\d+/.test(redisVer)) return rulesFor(redisVer);
  return rdbVersion >= 11 ? R72 : rdbVersion >= 10 ? R70 : R62;
}
