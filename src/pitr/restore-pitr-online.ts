import { encodeCommand } from '../codec/resp/encoder.js';
import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { restoreOnline, type OnlineOptions, type OnlineReport } from '../restore/online.js';
import { RestorePipe } from '../restore/restore-pipe.js';
import { IoError } from '../util/errors.js';
import { cutItems, newCut, type PitrFetched } from './restore-pitr.js';

export interface StreamedReplay {
  /** Commands sent (SELECT not counted) and the last one's `#TS`. */
  commands: number;
  lastTimestampS: number | null;
  /** Error replies (a command without effect, as when Redis loads an AOF), and the first. */
  errors: number;
  firstError: string | null;
}

/**
 * Why a point in time cannot go onto this node as base + commands (null when it can): the stream
 * is replayed on one connection, as Redis loads an AOF, so it needs a standalone node, dbs kept as
 * they are, and an empty keyspace (or --flush) so that each command meets the key it met on the
 * master. Anything else goes through the keyspace engine and whole keys.
 */
export async function whyNotStreamed(target: RedisEndpoint, o: Pick<OnlineOptions, 'flush' | 'dbMap' | 'verify' | 'verifyOnly' | 'dryRun'>): Promise<string | null> {
  if (o.verify || o.verifyOnly) return '--verify compares every key with the whole restored dataset';
  if (o.dryRun) return '--dry-run plans from the whole restored dataset';
  if (o.dbMap.size) return '--db-map moves whole keys';
  const c = await RedisClient.connect(target);
  try {
    const cluster = await c.info('cluster').catch(() => ({}) as Record<string, string>);
    if (cluster.cluster_enabled === '1') return 'a cluster routes whole keys by slot';
    if (o.flush) return null;
    const dbs = Object.keys(await c.info('keyspace')).filter((k) => /^db\d+$/.test(k));
    return dbs.length ? `${target.display} holds keys (${dbs.join(', ')}) and --flush was not given` : null;
  } finally {
    c.close();
  }
}

/**
 * Sends the cut stream's commands to `target` on one pipelined connection, `window` in flight.
 * Error replies are counted (an EXEC's array is not looked into: Redis answered the transaction).
 */
async function sendStream(f: PitrFetched, target: RedisEndpoint, window: number, onProgress?: (commands: number) => void): Promise<StreamedReplay> {
  const cut = newCut();
  const pipe = await RestorePipe.open(target);
  const out: StreamedReplay = { commands: 0, lastTimestampS: null, errors: 0, firstError: null };
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const onReply = (ok: boolean, text: string): void => {
    if (!ok) {
      if (text.startsWith('IOERR ')) failure ??= new IoError(text.slice(6));
      else {
        out.errors++;
        out.firstError ??= text;
      }
    }
    if (wake && (pipe.inFlight <= window >> 1 || failure)) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const settle = async (limit: number): Promise<void> => {
    while (pipe.inFlight > limit && !failure) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
  };
  try {
    for await (const batch of cutItems(f.segments, f.plan.cut, cut)) {
      const frames: Buffer[] = [];
      for (const it of batch) if (it.kind === 'command') frames.push(encodeCommand(it.argv));
      if (!frames.length) continue;
      pipe.send(Buffer.concat(frames), onReply, frames.length);
      await settle(window);
      onProgress?.(cut.commands);
    }
    await settle(0);
  } finally {
    pipe.close();
  }
  out.commands = cut.commands;
  out.lastTimestampS = cut.lastTimestampS;
  return out;
}

/**
 * A point in time onto a running node without building it in memory: the base through the
 * ordinary online restore (pipelined RESTORE, --flush first when asked), then the cut stream's
 * commands in order, as Redis loads an AOF. When a base key could not be restored the stream is
 * not sent (it would meet a different key than on the master) and `streamed` is null.
 */
export async function restorePitrOnline(f: PitrFetched, opts: Omit<OnlineOptions, 'rdbPath'>, onStream?: (commands: number) => void): Promise<{ report: OnlineReport; streamed: StreamedReplay | null }> {
  const report = await restoreOnline({ ...opts, rdbPath: f.base });
  const r = report.result!;
  if (r.conflicts || r.failed || r.functions.conflicts || r.functions.skipped) return { report, streamed: null };
  const started = Date.now();
  const streamed = await sendStream(f, opts.target, opts.window, onStream);
  r.seconds += (Date.now() - started) / 1000;
  return { report, streamed };
}
