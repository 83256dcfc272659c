import type tls from 'node:tls';
import type { Writable } from 'node:stream';
import type { RedisEndpoint } from '../net/redis-url.js';
import { IoError } from '../util/errors.js';
import { receiveRdbPayload } from './bulk-transfer.js';
import { handshake } from './link.js';
import { RdbValidator, type RdbSummary } from './rdb-validator.js';

export interface SnapshotOptions {
  /** No byte from the master for this long → fail (default 60 s). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  tls?: tls.ConnectionOptions;
  /** Port shown in the master's INFO replication for this transient replica (default 0). */
  announcePort?: number;
  /** Called as bytes arrive; `total` is known for disk-based transfers only. */
  onProgress?: (bytes: number, total: number | null) => void;
  /** Called on +FULLRESYNC: the master has forked for this sync (or attached it to a save already running). */
  onStarted?: (psync: { replid: string; offset: number }) => void;
}

export interface SnapshotResult {
  replid: string;
  /** Master replication offset the RDB corresponds to. */
  offset: number;
  bytes: number;
  mode: 'disk' | 'diskless';
  rdb: RdbSummary;
}

export type SnapshotSink = Writable | ((chunk: Buffer) => void | Promise<void>);

/**
 * Takes one RDB from a live master over the replication protocol (like `redis-cli --rdb`, with
 * `REPLCONF rdb-only 1` so the master closes instead of streaming). Every byte goes to `sink` as
 * it arrives and is validated (structure + CRC-64) in the same pass; the promise rejects if the
 * RDB is damaged or cut, so a caller keeps or uploads the result only once it resolves.
 */
export async function fetchSnapshot(ep: RedisEndpoint, sink: SnapshotSink, opts: SnapshotOptions = {}): Promise<SnapshotResult> {
  const { link, reply } = await handshake(ep, null, {
    announcePort: opts.announcePort ?? 0,
    rdbOnly: true,
    timeoutMs: opts.timeoutMs ?? 60_000,
    connectTimeoutMs: opts.connectTimeoutMs,
    tls: opts.tls,
  });
  const validator = new RdbValidator(`RDB from ${ep.display}`);
  try {
    if (reply.kind !== 'full') throw new IoError(`${ep.display}: master answered PSYNC ? -1 with +CONTINUE`);
    opts.onStarted?.({ replid: reply.replid, offset: reply.offset });
    const write = sinkWriter(sink);
    let bytes = 0;
    let total: number | null = null;
    const info = await receiveRdbPayload(
      link,
      async (chunk) => {
        bytes += chunk.length;
        await Promise.all([validator.push(chunk), write(chunk)]);
        opts.onProgress?.(bytes, total);
      },
      (_mode, len) => (total = len),
    );
    const rdb = await validator.finish();
    return { replid: reply.replid, offset: reply.offset, bytes: info.bytes, mode: info.mode, rdb };
  } catch (e) {
    validator.abort();
    throw e;
  } finally {
    link.close();
  }
}

function sinkWriter(sink: SnapshotSink): (chunk: Buffer) => Promise<void> {
  if (typeof sink === 'function') return async (chunk) => sink(chunk);
  return (chunk) =>
    new Promise<void>((resolve, reject) => {
      if (sink.destroyed) return reject(new IoError('snapshot output closed'));
      if (sink.write(chunk)) return resolve();
      const onDrain = (): void => {
        sink.off('error', onError);
        resolve();
      };
      const onError = (e: Error): void => {
        sink.off('drain', onDrain);
        reject(e);
      };
      sink.once('drain', onDrain);
      sink.once('error', onError);
    });
}
