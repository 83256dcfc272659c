/**
 * tsredis-ops/replica: follow a master over the real replication protocol, either as a stream of
 * commands (followMaster) or as the embedded replica that keeps a loadable AOF directory (Replica).
 */
export { followMaster, type FollowOptions } from '../replica/follow.js';
export { Replica, type ReplicaOptions, type ShrinkPolicy } from '../replica/replica.js';
export { parseRedisUrl, type RedisEndpoint } from '../net/redis-url.js';
export * from './errors.js';
