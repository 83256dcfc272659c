/** tsredis-ops/aof: AOF reading (plain, RDB preamble, Redis 7 multi-part), the RESP scanner and the writer. */
export { readAof, readAofBatches, aofLoadFiles, type AofItem, type ReadAofOptions } from '../codec/aof/reader.js';
export { scanAofResp, scanAofRespItems, newScanContext, type ScanContext, type ScanOptions, type ScanResult, type ScanItem, type ScannedRecord, type ScannedAnnotation } from '../codec/aof/scanner.js';
export { AofWriter, type AofWriterOptions, type FsyncPolicy } from '../codec/aof/writer.js';
export { parseManifest, formatManifest, manifestBase, manifestIncrs, manifestLoadOrder, ManifestError, type AofManifest, type AofManifestEntry, type AofFileType } from '../codec/aof/manifest.js';
export { resolveAofLayout, type AofLayout } from '../codec/aof/layout.js';
export { ByteSource } from '../util/byte-source.js';
export * from './errors.js';
