/** tsredis-ops/dump: DUMP / RESTORE payloads (type byte, value, RDB version, CRC-64). */
export { encodeDump, decodeDump, type DecodedDump } from '../codec/rdb/dump.js';
export * from './model.js';
export * from './errors.js';
