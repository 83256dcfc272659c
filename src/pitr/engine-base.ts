import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readAofBatches } from '../codec/aof/reader.js';
import { rdbVersionAfterReplay, writeKeyspaceRdb } from '../engine/rdb-file.js';
import { Keyspace } from '../engine/keyspace.js';
import { replay, type ReplayItem } from '../engine/replay.js';
import { AofDirectory } from '../replica/aof-directory.js';
import { IoError } from '../util/errors.js';

/**
 * A periodic base without load on the master: the replica's own base RDB and its incr AOF up to
 * `incrPos` (a segment cut: exactly the stream up to that offset) replayed with the keyspace
 * engine and written as one RDB to `out`. The whole dataset is held in memory while it is built.
 */
export async function buildEngineBase(appendDir: string, incrFile: string, incrPos: number, out: string, tmpDir: string): Promise<{ keys: number }> {
  const dirName = appendDir.split('/').pop()!;
  const gen = await new AofDirectory(join(appendDir, '..'), dirName).current();
  if (!gen || gen.incrFile !== incrFile) throw new IoError(`${appendDir}: the generation changed before the periodic base at ${incrFile}:${incrPos} was built`);
  const incrPart = join(tmpDir, `${incrFile}.${incrPos}.part.tmp`);
  try {
    if (incrPos > 0) await pipeline(createReadStream(join(appendDir, incrFile), { start: 0, end: incrPos - 1 }), createWriteStream(incrPart, { mode: 0o600 }));
    const ks = new Keyspace();
    const files = [join(appendDir, gen.baseFile), ...(incrPos > 0 ? [incrPart] : [])];
    async function* items(): AsyncGenerator<readonly ReplayItem[]> {
      for (const f of files) yield* readAofBatches(f);
    }
    const stats = await replay(ks, items());
    return await writeKeyspaceRdb(ks, rdbVersionAfterReplay(stats.rdbVersion), out);
  } finally {
    await rm(incrPart, { force: true });
  }
}
