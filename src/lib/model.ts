/** The decoded data model shared by every codec entry point (byte strings stay Buffers). */
export {
  hashFieldKey,
  type ArrayElement,
  type ArrayValue,
  type ModuleValue,
  type PathHashPath,
  type PathHashValue,
  type RdbKey,
  type RdbRecord,
  type RedisType,
  type RedisValue,
  type StreamConsumer,
  type StreamEntry,
  type StreamGroup,
  type StreamId,
  type StreamPendingEntry,
  type StreamValue,
} from '../codec/rdb/model.js';
