import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ByteSource } from '../../../src/util/byte-source.js';
import { readRdb, type ReadRdbOptions } from '../../../src/codec/rdb/reader.js';
import type { RdbKey, RdbRecord } from '../../../src/codec/rdb/model.js';

export { CORPUS } from '../../helpers/corpus.js';

/** Every file under `dir` whose name ends with `ext`, recursively, sorted. */
export function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

export async function readAll(src: ByteSource, opts: ReadRdbOptions = {}): Promise<RdbRecord[]> {
  const out: RdbRecord[] = [];
  for await (const r of readRdb(src, opts)) out.push(r);
  return out;
}

export function keysOf(records: RdbRecord[]): RdbKey[] {
  return records.flatMap((r) => (r.kind === 'key' ? [r.entry] : []));
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A 1-byte-at-a-time source, to prove records survive any chunk split. */
export function tinyChunks(data: Buffer, size = 1): ByteSource {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  }
  return ByteSource.fromStream(gen(), 'chunks');
}
