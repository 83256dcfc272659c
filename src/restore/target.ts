import { RedisClient, RedisReplyError } from '../net/redis-client.js';
import { RespError, type RespValue } from '../codec/resp/types.js';
import { rdbVersionFor, serverFromInfo, type ServerFlavor } from './rdb-versions.js';

/** What restore needs to know about a running target before it sends anything. */
export interface TargetInfo {
  server: ServerFlavor;
  /** Newest RDB version the target loads: DUMP payloads are made for it. */
  rdbVersion: number;
  cluster: boolean;
  /** proto-max-bulk-len (512 MB when CONFIG is not allowed). */
  maxBulk: number;
  /** Number of databases (16 when CONFIG is not allowed; 1 in cluster mode). */
  databases: number;
  /** DEBUG DIGEST-VALUE works (enable-debug-command, ACL). */
  debugDigest: boolean;
  /** FUNCTION commands exist (7.0+). */
  functions: boolean;
}

const DEFAULT_MAX_BULK = 512 * 1024 * 1024;

async function configGet(c: RedisClient, name: string): Promise<string | null> {
  const r = await c.send('CONFIG', 'GET', name);
  if (r instanceof RespError || !Array.isArray(r) || r.length < 2) return null;
  const v = r[1];
  return Buffer.isBuffer(v) ? v.toString('utf8') : v == null ? null : String(v);
}

export async function probeTarget(c: RedisClient): Promise<TargetInfo> {
  const info = await c.info('server');
  const server = serverFromInfo(info);
  const clusterInfo = await c.info('cluster').catch((e: unknown) => {
    if (e instanceof RedisReplyError) return {} as Record<string, string>;
    throw e;
  });
  const cluster = clusterInfo.cluster_enabled === '1';
  const maxBulkText = await configGet(c, 'proto-max-bulk-len');
  const dbText = await configGet(c, 'databases');
  const digest: RespValue = await c.send('DEBUG', 'DIGEST-VALUE', '__tsredis_ops_probe__');
  const fn: RespValue = await c.send('FUNCTION', 'LIST', 'LIBRARYNAME', '__tsredis_ops_probe__');
  return {
    server,
    rdbVersion: rdbVersionFor(server),
    cluster,
    maxBulk: maxBulkText && Number(maxBulkText) > 0 ? Number(maxBulkText) : DEFAULT_MAX_BULK,
    databases: cluster ? 1 : dbText ? Number(dbText) : 16,
    debugDigest: Array.isArray(digest),
    functions: !(fn instanceof RespError),
  };
}
