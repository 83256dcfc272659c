import { RdbDecoder } from '../../codec/rdb/reader.js';
import type { ByteSource } from '../../util/byte-source.js';
import { crcAccumulator } from '../crc-thread.js';
import { MemoryReport, type MemoryReportData, type ReportOptions } from './report.js';
import { rulesFor, rulesForFile, type MemoryRules } from './rules.js';
import { MemoryModel, type KeyMemory } from './value-cost.js';

export interface AnalyzeOptions extends ReportOptions {
  /** Follow this release (X.Y) instead of the file's redis-ver. */
  redisVersion?: string;
  /** Every key as it is costed (the CSV rows), in file order. */
  onKey?: (k: KeyMemory) => void;
  onProgress?: (offset: number) => void;
  /** Awaited after every batch of keys: lets a caller write out what onKey gathered (backpressure). */
  flush?: () => Promise<void>;
}

/**
 * One streaming pass over an RDB: each key is costed by the memory model as the reader validates
 * it (nothing decoded into objects) and folded into the report's bounded aggregations.
 */
export async function analyzeRdb(src: ByteSource, opts: AnalyzeOptions): Promise<MemoryReportData> {
  const report = new MemoryReport(opts);
  const onKey = opts.onKey;
  const fixed = opts.redisVersion ? rulesFor(opts.redisVersion) : null;
  let rules: MemoryRules | null = fixed;
  const model = new MemoryModel(fixed ?? rulesFor('7.0'), (k) => {
    report.add(k);
    onKey?.(k.toKeyMemory());
  });
  const dec = new RdbDecoder(src, { sink: model, crc: crcAccumulator() });
  let rdbVersion = 0;
  let redisVer: string | undefined;
  // Records one by one until the first key: the rules must be chosen (redis-ver aux) before the
  // sink costs a key, and the reader hands keys to the sink while it parses a batch.
  let keysSeen = false;
  const choose = (): void => {
    if (rules !== null) return;
    rules = rulesForFile(redisVer, rdbVersion);
    model.setRules(rules);
  };
  for (;;) {
    const batch = await dec.nextBatch(keysSeen ? 4096 : 1);
    if (!batch) break;
    opts.onProgress?.(src.offset);
    await opts.flush?.();
    for (const r of batch) {
      if (r.kind === 'header') rdbVersion = r.version;
      else if (r.kind === 'aux' && r.key.toString('latin1') === 'redis-ver') {
        redisVer = r.value.toString('latin1');
        choose();
      } else if (r.kind === 'key' || r.kind === 'selectdb' || r.kind === 'resizedb') {
        keysSeen = true;
        choose();
      }
    }
  }
  const used = rules ?? rulesForFile(redisVer, rdbVersion);
  return report.finish({ source: src.name, rdbVersion, redisVersion: redisVer ?? null, model: used.family });
}
