/**
 * tsredis-ops/rdb: the streaming RDB reader (Redis RDB 1-15, Valkey 80/81) and writer (RDB 9-12),
 * with the byte sources they read from and the checksum and compression they use.
 */
export { RdbDecoder, readRdb, moduleTypeName, type ReadRdbOptions, type CrcAccumulator, type PieceState } from '../codec/rdb/reader.js';
export { RdbWriter, writeRdbFile, type RdbSink, type RdbWriterOptions, type DroppedItem, type KeyHead } from '../codec/rdb/writer.js';
export { WRITABLE_RDB_VERSIONS, encodeValue, typeLoadableIn } from '../codec/rdb/value-writer.js';
export type { ValueSink, StreamMeta } from '../codec/rdb/value-sink.js';
export { RdbType, RdbOpcode, MAX_REDIS_RDB_VERSION, VALKEY_RDB_VERSIONS, VALKEY_TYPE_PATH_HASH, rdbTypeName, redisTypeOf } from '../codec/rdb/constants.js';
export { valueToCommands, forEachCommand } from '../codec/rdb/to-commands.js';
export { Crc64, crc64 } from '../codec/rdb/crc64.js';
export { lzfDecompress, LzfError } from '../codec/rdb/lzf.js';
export { lzfCompress } from '../codec/rdb/lzf-compress.js';
export { ByteSource } from '../util/byte-source.js';
export * from './model.js';
export * from './errors.js';
