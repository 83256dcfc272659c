import type { ConnectionOptions } from 'node:tls';
import { parseOne } from '../codec/resp/parser.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { receiveRdbPayload } from './bulk-transfer.js';
import { CommandStream } from './command-stream.js';
import { handshake } from './link.js';

/**
 * The library's way to follow a master's write stream without keeping files (Replica does that):
 * one full sync (the RDB bytes go to `onRdb`, e.g. into RdbDecoder through a ByteSource), then
 * every command the master propagates, as argv with its database, until `signal` aborts or the
 * link ends. Offsets and REPLCONF ACKs are kept as a real replica keeps them (CommandStream).
 */
export interface FollowOptions {
  /** RDB bytes of the full sync, in order (awaited: backpressure). */
  onRdb?: (chunk: Buffer) => void | Promise<void>;
  /** A write command of the stream (SELECT, PING and REPLCONF are not passed on), in order. */
  onCommand: (db: number, argv: Buffer[]) => void;
  signal?: AbortSignal;
  /** Port announced with REPLCONF listening-port (default 0). */
  announcePort?: number;
  /** Silence from the master longer than this ends the link (default 60 s). */
  timeoutMs?: number;
  tls?: ConnectionOptions;
}

/** Resolves with the replication offset reached when the link ends or `signal` aborts. */
export async function followMaster(endpoint: RedisEndpoint, opts: FollowOptions): Promise<{ replid: string; offset: number }> {
  const { link, reply } = await handshake(endpoint, null, { announcePort: opts.announcePort ?? 0, timeoutMs: opts.timeoutMs ?? 60_000, tls: opts.tls });
  const abort = () => link.close();
  // A diskless master answers PSYNC only when its transfer starts: the signal may have fired meanwhile.
  if (opts.signal?.aborted) abort();
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    if (reply.kind !== 'full') throw new Error('followMaster: the master offered a partial resync to a replica that asked for none');
    await receiveRdbPayload(link, async (chunk) => {
      await opts.onRdb?.(chunk);
    });
    const stream = new CommandStream(reply.offset, 0);
    const ack = (offset: number) => link.write(['REPLCONF', 'ACK', offset]);
    ack(stream.offset);
    const timer = setInterval(() => ack(stream.offset), 1000);
    timer.unref();
    try {
      await stream.run(link.src, { appendEncoded: (db, frame) => opts.onCommand(db, parseOne(frame) as Buffer[]) }, ack);
    } finally {
      clearInterval(timer);
    }
    return { replid: reply.replid, offset: stream.offset };
  } catch (e) {
    if (opts.signal?.aborted) return { replid: reply.kind === 'full' ? reply.replid : '', offset: -1 };
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    link.close();
  }
}
