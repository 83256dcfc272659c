import { FormatError, IoError } from '../util/errors.js';
import type { MasterLink } from './link.js';

export interface BulkInfo {
  /** 'disk': `$<len>` then the stream follows at once; 'diskless': `$EOF:<mark>` … mark. */
  mode: 'disk' | 'diskless';
  bytes: number;
}

const MARK_LEN = 40;
const PIECE = 1 << 20;

/**
 * Receives the RDB that follows +FULLRESYNC (replication.c `readSyncBulkPayload`): skips the bare
 * "\n" keepalives the master sends while it forks, then reads either exactly `<len>` bytes or,
 * diskless, everything up to the 40-byte EOF mark. Payload bytes go to `onChunk` in order (the
 * mark itself never does). `onHeader` learns the mode before the first byte (for progress).
 */
export async function receiveRdbPayload(
  link: MasterLink,
  onChunk: (chunk: Buffer) => Promise<void>,
  onHeader?: (mode: BulkInfo['mode'], length: number | null) => void,
): Promise<BulkInfo> {
  let header = '';
  while (header === '') header = await link.readLine('waiting for the RDB transfer to start');
  if (header.startsWith('-')) throw new IoError(`${link.endpoint.display}: master aborted the full sync: ${header.slice(1)}`);
  if (!header.startsWith('$')) {
    throw new FormatError(link.src.name, link.src.offset, `"$" starting the RDB transfer, got ${JSON.stringify(header.slice(0, 40))}`);
  }
  if (header.startsWith('$EOF:')) {
    const mark = Buffer.from(header.slice(5), 'latin1');
    if (mark.length !== MARK_LEN) throw new FormatError(link.src.name, link.src.offset, 'a 40-byte EOF mark after $EOF:');
    onHeader?.('diskless', null);
    return { mode: 'diskless', bytes: await receiveUntilMark(link, mark, onChunk) };
  }
  const len = Number(header.slice(1));
  if (!Number.isSafeInteger(len) || len < 0) throw new FormatError(link.src.name, link.src.offset, `an RDB length after "$", got ${JSON.stringify(header.slice(0, 40))}`);
  onHeader?.('disk', len);
  let left = len;
  while (left > 0) {
    const piece = await link.src.readSome(Math.min(left, PIECE));
    if (!piece) throw link.endedError(`receiving the RDB (${len - left} of ${len} bytes)`);
    left -= piece.length;
    await onChunk(piece);
  }
  return { mode: 'disk', bytes: len };
}

/**
 * Diskless: the payload ends where the last 40 bytes equal the mark. The newest 40 bytes are held
 * back until more data proves they are payload, so the mark is never passed on. Nothing follows
 * the mark until we ACK (the master waits for it), so the mark is always the end of what we read.
 */
async function receiveUntilMark(link: MasterLink, mark: Buffer, onChunk: (chunk: Buffer) => Promise<void>): Promise<number> {
  let held = Buffer.alloc(0);
  let bytes = 0;
  for (;;) {
    const piece = await link.src.readSome(PIECE);
    if (!piece) throw link.endedError(`receiving the diskless RDB (${bytes} bytes so far)`);
    const data = held.length ? Buffer.concat([held, piece]) : piece;
    if (data.length >= MARK_LEN && data.subarray(data.length - MARK_LEN).equals(mark)) {
      const body = data.subarray(0, data.length - MARK_LEN);
      if (body.length) await onChunk(body);
      return bytes + body.length;
    }
    const keep = Math.min(MARK_LEN, data.length);
    const body = data.subarray(0, data.length - keep);
    held = Buffer.from(data.subarray(data.length - keep));
    if (body.length) {
      bytes += body.length;
      await onChunk(body);
    }
  }
}
