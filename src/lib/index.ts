/**
 * tsredis-ops as a library: every codec entry point in one import. The subpaths (tsredis-ops/rdb,
 * /aof, /resp, /dump, /replica, /backup-store) load less.
 */
export * from './rdb.js';
export { readAof, readAofBatches, scanAofResp, scanAofRespItems, newScanContext, AofWriter, parseManifest, formatManifest, resolveAofLayout, type AofItem, type ReadAofOptions, type AofWriterOptions, type AofManifest, type AofLayout } from './aof.js';
export { parseFrameAt, parseOne, RespReader, encodeCommand, RespError, RespMap, type RespValue, type RespFrame, type Arg } from './resp.js';
export { encodeDump, decodeDump, type DecodedDump } from './dump.js';
export { followMaster, Replica, parseRedisUrl, type FollowOptions, type ReplicaOptions, type RedisEndpoint } from './replica.js';
export type { BackupStore, ObjectInfo, PutOptions, PutResult } from './backup-store.js';
