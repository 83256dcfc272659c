/** tsredis-ops/resp: RESP2/RESP3 parsing and encoding, binary-safe (bulk strings are Buffers). */
export { parseFrameAt, parseOne, RespReader } from '../codec/resp/parser.js';
export { encodeCommand, encodeValue, type Arg } from '../codec/resp/encoder.js';
export { RespError, RespMap, type RespFrame, type RespValue } from '../codec/resp/types.js';
export { ByteSource } from '../util/byte-source.js';
export * from './errors.js';
