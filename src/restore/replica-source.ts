import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAof } from '../codec/aof/reader.js';
import { WRITABLE_RDB_VERSIONS } from '../codec/rdb/value-writer.js';
import { dumpToRdb } from '../engine/dump.js';
import { Keyspace } from '../engine/keyspace.js';
import { replay } from '../engine/replay.js';
import type { StagedRdb } from './local-source.js';

export interface ReplicaStaged extends StagedRdb {
  /** What was replayed: keys from the base RDB and commands from the incr files. */
  replayed: { baseKeys: number; commands: number; errors: number; lastTimestampS: number | null };
}

/**
 * A `tsredis-ops replicate` directory (or any Redis 7 appendonlydir / AOF file): the base and
 * every incr file are replayed into the engine as a loading Redis would, and the resulting
 * dataset is written as one RDB (the base's version, or 12 for a RESP base) to a private temp
 * file, which then restores like any backup.
 */
export async function stageReplicaDir(dir: string, tmpRoot?: string): Promise<ReplicaStaged> {
  const aofPath = existsSync(join(dir, 'appendonlydir')) ? join(dir, 'appendonlydir') : dir;
  const ks = new Keyspace();
  const stats = await replay(ks, readAof(aofPath));
  const max = Math.max(...WRITABLE_RDB_VERSIONS);
  const version = Math.min(max, Math.max(Math.min(...WRITABLE_RDB_VERSIONS), stats.rdbVersion ?? max));
  const tmp = await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-restore-'));
  const cleanup = () => rm(tmp, { recursive: true, force: true });
  const path = join(tmp, 'replayed.rdb');
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      let pos = 0;
      await dumpToRdb(
        ks,
        async (chunk) => {
          await fh.write(chunk, 0, chunk.length, pos);
          pos += chunk.length;
        },
        // Keep every key: restore itself leaves out the expired ones and says how many.
        { version, nowMs: null },
      );
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    path,
    layers: ['aof replay'],
    cleanup,
    replayed: { baseKeys: stats.rdbKeys, commands: stats.commands, errors: stats.errors, lastTimestampS: stats.lastTimestampS },
  };
}
