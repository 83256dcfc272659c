import { PassThrough } from 'node:stream';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { ByteSource } from '../util/byte-source.js';
import { FormatError } from '../util/errors.js';

/** What a backup manifest records about the RDB it holds. */
export interface RdbFacts {
  rdbVersion: number;
  /** The `redis-ver` AUX field (Valkey writes it too), null in files that predate it. */
  redisVersion: string | null;
  keys: number;
  keysPerDb: Record<string, number>;
  /** Bytes up to and including the checksum. */
  bytes: number;
}

/**
 * Parses an RDB as it streams past (validate-only mode: structure and CRC-64, nothing decoded) and counts
 * keys per db. Write the bytes into `input` (backpressure applies) and end it; `result` resolves
 * once the whole file was checked, or rejects with the FormatError of the first defect.
 */
export function startRdbCheck(name: string): { input: PassThrough; result: Promise<RdbFacts> } {
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  const src = ByteSource.fromStream(input, name);
  const result = (async (): Promise<RdbFacts> => {
    const facts: RdbFacts = { rdbVersion: 0, redisVersion: null, keys: 0, keysPerDb: {}, bytes: 0 };
    let sawEof = false;
    // Batches straight from the decoder: a generator step per key costs more than the parse.
    const decoder = new RdbDecoder(src, { validateOnly: true, verifyChecksum: true });
    for (let batch = await decoder.nextBatch(); batch; batch = await decoder.nextBatch()) {
      for (const rec of batch) {
        if (rec.kind === 'key') {
          facts.keys++;
          facts.keysPerDb[rec.entry.db] = (facts.keysPerDb[rec.entry.db] ?? 0) + 1;
        } else if (rec.kind === 'header') facts.rdbVersion = rec.version;
        else if (rec.kind === 'aux' && rec.key.toString('latin1') === 'redis-ver') facts.redisVersion = rec.value.toString('latin1');
        else if (rec.kind === 'eof') sawEof = true;
      }
    }
    if (!sawEof) throw new FormatError(name, src.offset, 'the RDB EOF opcode');
    facts.bytes = src.offset;
    if (src.available > 0 || (await src.more())) throw new FormatError(name, src.offset, 'end of file after the RDB checksum');
    return facts;
  })();
  // A defect stops the parse: fail the input too, so writers blocked on backpressure wake up.
  result.catch((e: unknown) => input.destroy(e as Error));
  return { input, result };
}
