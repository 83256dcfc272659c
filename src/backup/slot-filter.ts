import { PassThrough, type Readable } from 'node:stream';
import { Crc64 } from '../codec/rdb/crc64.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { keySlot } from '../restore/hash-slot.js';
import { ByteSource } from '../util/byte-source.js';
import { writeTo } from './stream-util.js';

/**
 * Copies an RDB stream without the keys whose hash slot is not in `keep` (keys a cluster node
 * holds for slots it did not serve when its snapshot was taken: they belong to another shard's
 * RDB of the same set). Records are cut at the decoder's record offsets and the bytes of kept
 * records pass through unchanged; the CRC-64 trailer is recomputed over what was written.
 * Raw mode: values are stepped over, never decoded.
 */
export function filterRdbBySlots(input: Readable, keep: Uint8Array, name: string): { output: PassThrough; result: Promise<{ dropped: number }> } {
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  const result = (async () => {
    const crc = new Crc64();
    let dropped = 0;
    // Committed bytes of the current batch, copied (the decoder's window is reused).
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const dec = new RdbDecoder(ByteSource.fromStream(input, name), {
      raw: true,
      onBytes: (b, from, to) => {
        pending.push(Buffer.from(b.subarray(from, to)));
        pendingLen += to - from;
      },
    });
    let written = 0; // file offset up to which the input was handled
    const emit = async (from: number, to: number, bytes: Buffer): Promise<void> => {
      // bytes holds [written, written + bytes.length); send [from, to) of it.
      const part = bytes.subarray(from - written, to - written);
      if (part.length === 0) return;
      crc.update(part);
      await writeTo(output, part);
    };
    for (let batch = await dec.nextBatch(); batch; batch = await dec.nextBatch()) {
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      const end = written + bytes.length;
      pending = [];
      pendingLen = 0;
      let from = written;
      for (let i = 0; i < batch.length; i++) {
        const rec = batch[i]!;
        if (rec.kind === 'eof') {
          // Everything up to the EOF opcode, then our own checksum for what we wrote.
          await emit(from, rec.offset + 1, bytes);
          if (dec.version >= 5) {
            const trailer = Buffer.alloc(8);
            trailer.writeBigUInt64LE(crc.value());
            await writeTo(output, trailer);
          }
          from = end;
          break;
        }
        if (rec.kind !== 'key' || keep[keySlot(rec.entry.key)]) continue;
        // A key to drop: flush what precedes it, skip to the next record's start.
        await emit(from, rec.entry.offset, bytes);
        const next = batch[i + 1];
        from = next ? (next.kind === 'key' ? next.entry.offset : next.offset) : end;
        dropped++;
      }
      await emit(from, end, bytes);
      written = end;
    }
    output.end();
    return { dropped };
  })();
  result.catch((e: unknown) => output.destroy(e as Error));
  return { output, result };
}
