import type { RdbRecord } from '../codec/rdb/model.js';
import { ToolError } from '../util/errors.js';
import { CommandError, UnsupportedCommandError } from './errors.js';
import type { Keyspace } from './keyspace.js';
import { hasPayload } from './payloads.js';

/**
 * What an AOF reader yields (the shape of readAof's items in src/codec/aof/reader.ts): commands
 * with their location, RDB records of a preamble / base, and annotation lines.
 */
export type ReplayItem =
  | { kind: 'command'; argv: Buffer[]; file: string; offset: number }
  | { kind: 'rdb'; record: RdbRecord; file: string }
  | { kind: 'annotation'; text: string; file: string; offset: number };

export interface ReplayOptions {
  /** Skip commands the engine cannot apply (counted) instead of stopping at the first one. */
  skipUnsupported?: boolean;
  /** Called every few thousand items with the running counts (progress display). */
  onProgress?: (stats: ReplayStats) => void;
}

export interface ReplayStats {
  commands: number;
  rdbKeys: number;
  functions: number;
  /** Commands Redis would have answered with an error (no effect, as when Redis loads the AOF). */
  errors: number;
  /** Skipped unsupported commands by name (only with skipUnsupported). */
  skipped: Map<string, number>;
  /** First error reply seen, with its location, for the summary. */
  firstError: string | null;
  /** Commands of a MULTI left open at the end, dropped as Redis reverts them. */
  revertedMulti: number;
  /** RDB version of the preamble / base, when there was one. */
  rdbVersion: number | null;
  /** Last `#TS:` annotation seen (unix seconds). */
  lastTimestampS: number | null;
}

/**
 * Replays AOF items into the keyspace exactly as a loading Redis would. Items may come one by one
 * or in batches (readAofBatches: one await per batch).
 */
export async function replay(ks: Keyspace, items: AsyncIterable<ReplayItem | readonly ReplayItem[]>, opts: ReplayOptions = {}): Promise<ReplayStats> {
  const stats: ReplayStats = {
    commands: 0,
    rdbKeys: 0,
    functions: 0,
    errors: 0,
    skipped: new Map(),
    firstError: null,
    revertedMulti: 0,
    rdbVersion: null,
    lastTimestampS: null,
  };
  let n = 0;
  let file: string | null = null;
  for await (const got of items) {
    const batch: readonly ReplayItem[] = isBatch(got) ? got : [got];
    for (const item of batch) {
      if (opts.onProgress && ++n % 16384 === 0) opts.onProgress(stats);
      if (item.kind === 'rdb') {
        const r = item.record;
        if (r.kind === 'header') stats.rdbVersion = r.version;
        else if (r.kind === 'key') {
          // A key an rdbSink loaded comes without its value, only to be counted.
          if (r.entry.value !== undefined || r.entry.raw !== undefined) ks.loadKey(r.entry);
          stats.rdbKeys++;
        } else if (r.kind === 'function') {
          ks.loadFunction(r.code);
          stats.functions++;
        }
        continue;
      }
      if (item.kind === 'annotation') {
        const m = /^#TS:(\d+)/.exec(item.text);
        if (m) stats.lastTimestampS = Number(m[1]);
        continue;
      }
      if (item.file !== file) {
        // Redis loads each file of a multi-part AOF (and the RESP part after a preamble) with a
        // fresh client, which starts in db 0.
        file = item.file;
        ks.selectedDb = 0;
      }
      stats.commands++;
      try {
        if (hasPayload(item.argv)) await ks.applyAsync(item.argv);
        else ks.apply(item.argv);
      } catch (e) {
        if (e instanceof CommandError) {
          stats.errors++;
          stats.firstError ??= `${item.file}: at byte ${item.offset}: ${item.argv[0]!.toString('latin1')}: ${e.message}`;
          continue;
        }
        if (e instanceof UnsupportedCommandError) {
          if (opts.skipUnsupported) {
            const name = e.command.toUpperCase();
            stats.skipped.set(name, (stats.skipped.get(name) ?? 0) + 1);
            continue;
          }
          throw new ToolError(`${item.file}: at byte ${item.offset}: ${e.message} (use --skip-unsupported to leave such commands out)`);
        }
        throw e;
      }
    }
  }
  stats.revertedMulti = ks.discardTransaction();
  return stats;
}

function isBatch(x: ReplayItem | readonly ReplayItem[]): x is readonly ReplayItem[] {
  return Array.isArray(x);
}
