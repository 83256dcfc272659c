import { stat } from 'node:fs/promises';
import { readRdb } from '../rdb/reader.js';
import type { RdbRecord } from '../rdb/model.js';
import type { ValueSink } from '../rdb/value-sink.js';
import { ByteSource } from '../../util/byte-source.js';
import { FormatError } from '../../util/errors.js';
import { manifestLoadOrder } from './manifest.js';
import { entryPath, resolveAofLayout, startsWithRdb } from './layout.js';
import { newScanContext, scanAofRespItems } from './scanner.js';

/** One item of an AOF, in load order. */
export type AofItem =
  | {
      kind: 'command';
      argv: Buffer[];
      /** Path of the file it is in. */
      file: string;
      /** Byte offset of the record in that file, and its length. */
      offset: number;
      length: number;
      /** Line of its `*` line, counted as redis-check-aof counts (CRLF lines of that file, from 1). */
      line: number;
      /** Database the command applies to (SELECT commands are yielded too, with the new db). */
      db: number;
      /** Last `#TS:` annotation seen before it (unix seconds), or null. */
      timestampS: number | null;
    }
  | { kind: 'rdb'; record: RdbRecord; file: string }
  | { kind: 'annotation'; text: string; file: string; offset: number };

export interface ReadAofOptions {
  /** Also yield the RDB records of a preamble / RDB base (default true). */
  rdb?: boolean;
  /**
   * Hand the keys of a preamble / RDB base to this sink element by element (ReadRdbOptions.sink);
   * their records are then yielded without values, to be counted.
   */
  rdbSink?: ValueSink;
}

/** The files a Redis would load for PATH (file, manifest or appendonlydir), in order. */
export async function aofLoadFiles(path: string): Promise<string[]> {
  const layout = await resolveAofLayout(path);
  if (layout.kind === 'single') return [layout.path];
  return manifestLoadOrder(layout.manifest).map((e) => entryPath(layout, e.file));
}

/**
 * Streams every command of an AOF in any form (plain RESP, RDB preamble, Redis 7 multi-part with
 * RDB or RESP base and incr files, `#TS:` annotations), with constant memory beyond the largest
 * command. Reads with redis-check-aof's strict rules and throws FormatError(file, offset, what)
 * at the first defect, after yielding everything before it; an unterminated MULTI at the end of
 * the last file is reported the same way (Redis would discard it).
 */
export async function* readAof(path: string, opts: ReadAofOptions = {}): AsyncGenerator<AofItem> {
  for await (const batch of readAofBatches(path, opts)) yield* batch;
}

/**
 * readAof's items a buffered window at a time (one await per batch instead of per command, which
 * is a good part of the cost of replaying millions of small commands).
 */
export async function* readAofBatches(path: string, opts: ReadAofOptions = {}): AsyncGenerator<AofItem[]> {
  const files = await aofLoadFiles(path);
  let timestampS: number | null = null;
  for (const file of files) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new FormatError(file, 0, 'the file listed in the manifest to exist (it is missing)');
    }
    if (size === 0) continue;
    let start = 0;
    if (await startsWithRdb(file)) {
      const rsrc = ByteSource.fromFile(file);
      try {
        // Without the records, the part is only validated (nothing decoded, as aof-check needs).
        for await (const record of readRdb(rsrc, { verifyChecksum: true, validateOnly: opts.rdb === false, sink: opts.rdbSink })) {
          if (record.kind === 'eof') start = record.end;
          if (opts.rdb !== false) yield [{ kind: 'rdb', record, file }];
        }
      } finally {
        await rsrc.close();
      }
    }
    const src = ByteSource.fromFile(file, start);
    let db = 0; // each file is loaded by a fresh client, in db 0
    try {
      const it = scanAofRespItems(src, newScanContext(), { name: file, path: file, collect: true });
      for (;;) {
        const r = await it.next();
        if (r.done) {
          const res = r.value;
          if (res.error || res.formatError || res.failedAt !== null) {
            const at = res.formatErrorAt ?? res.errorOffset ?? res.failedAt ?? res.end;
            const what = res.formatError ? `a RESP command ('*') or an annotation ('#')` : (res.message ?? 'the rest of the command');
            throw new FormatError(file, at, `expected ${what} (the valid part ends at byte ${res.okUpTo})`);
          }
          if (res.multiOpen) throw new FormatError(file, res.okUpTo, 'an EXEC for the MULTI at this offset before the end of the file');
          break;
        }
        const out: AofItem[] = [];
        for (const item of r.value) {
          if (item.kind === 'annotation') {
            const text = item.text.toString('latin1').replace(/\r?\n$/, '');
            const m = /^#TS:(\d+)$/.exec(text);
            if (m) timestampS = Number(m[1]);
            out.push({ kind: 'annotation', text, file, offset: item.start });
            continue;
          }
          const argv = item.argv!;
          if (argv.length === 0) continue;
          if (argv.length === 2 && argv[0]!.length === 6 && argv[0]!.toString('latin1').toLowerCase() === 'select') {
            const n = Number(argv[1]!.toString('latin1'));
            if (Number.isInteger(n) && n >= 0) db = n;
          }
          out.push({ kind: 'command', argv, file, offset: item.start, length: item.end - item.start, line: item.line, db, timestampS });
        }
        if (out.length) yield out;
      }
    } finally {
      await src.close();
    }
  }
}
