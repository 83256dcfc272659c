import { encodeCommand } from '../codec/resp/encoder.js';
import type { RdbKey, RedisType } from '../codec/rdb/model.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { functionToCommand, valueToCommands } from '../codec/rdb/to-commands.js';
import type { ByteSource } from '../util/byte-source.js';
import { globMatch } from './glob.js';
import { KeyJsonSink } from './key-json-sink.js';
import type { ByteEncoding } from './key-json.js';

/** rdb-dump: every key of an RDB as jsonl, or as the commands that recreate it (RESP). */

export interface DumpOptions {
  format: 'jsonl' | 'resp';
  encoding: ByteEncoding;
  db?: number;
  type?: RedisType;
  match?: Buffer;
  onProgress?: (offset: number) => void;
}

/**
 * A sink that may apply backpressure. It must be done with the chunk when its promise resolves:
 * the jsonl output buffer is reused (allocating one per chunk keeps the GC busy).
 */
export type Sink = (chunk: Buffer) => Promise<void> | void;

const FLUSH_AT = 1 << 20;
/**
 * Records per decoder batch for the RESP output. Small on purpose: a batch's decoded values are
 * alive while it is printed, and with thousands of keys in flight most of them survive
 * young-generation GCs (1.6x the CPU time of the whole dump with the decoder's default 4096).
 */
const BATCH = 128;

export async function dumpRdb(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  return opts.format === 'jsonl' ? dumpJsonl(src, opts, sink) : dumpResp(src, opts, sink);
}

/** jsonl is written by the reader's validating pass itself (no decoded model, see KeyJsonSink). */
async function dumpJsonl(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  const json = new KeyJsonSink(opts.encoding, opts, FLUSH_AT);
  const dec = new RdbDecoder(src, { sink: json });
  while (await dec.nextBatch(1 << 16)) {
    opts.onProgress?.(src.offset);
    if (json.out.pos > 0) {
      await sink(json.out.written());
      json.out.clear();
    }
  }
  return { keys: json.keys };
}

async function dumpResp(src: ByteSource, opts: DumpOptions, sink: Sink): Promise<{ keys: number }> {
  const dec = new RdbDecoder(src);
  const selected = (k: RdbKey): boolean =>
    (opts.db === undefined || k.db === opts.db) && (opts.type === undefined || k.value!.type === opts.type) && (!opts.match || globMatch(opts.match, k.key));
  let keys = 0;
  let bufs: Buffer[] = [];
  let bufLen = 0;
  let respDb = -1;
  const pushCmd = (argv: Buffer[]): void => {
    const b = encodeCommand(argv);
    bufs.push(b);
    bufLen += b.length;
  };
  const flush = async (): Promise<void> => {
    if (bufs.length > 0) {
      const b = Buffer.concat(bufs, bufLen);
      bufs = [];
      bufLen = 0;
      await sink(b);
    }
  };
  for (;;) {
    const batch = await dec.nextBatch(BATCH);
    if (!batch) break;
    for (const r of batch) {
      if (r.kind === 'function') pushCmd(functionToCommand(r.code));
      else if (r.kind === 'key') {
        const k = r.entry;
        if (!selected(k)) continue;
        keys++;
        if (k.db !== respDb) {
          pushCmd([Buffer.from('SELECT'), Buffer.from(String(k.db))]);
          respDb = k.db;
        }
        for (const argv of valueToCommands(k.key, k.value!, k.expireAtMs)) pushCmd(argv);
      }
    }
    opts.onProgress?.(src.offset);
    if (bufLen >= FLUSH_AT) await flush();
  }
  await flush();
  return { keys };
}
