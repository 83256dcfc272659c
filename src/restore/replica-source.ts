import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAof } from '../codec/aof/reader.js';
import { Keyspace } from '../engine/keyspace.js';
import { replay } from '../engine/replay.js';
import { rdbVersionAfterReplay, writeKeyspaceRdb } from '../engine/rdb-file.js';
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
  const tmp = await mkdtemp(join(tmpRoot ?? tmpdir(), 'tsredis-restore-'));
  const cleanup = () => rm(tmp, { recursive: true, force: true });
  const path = join(tmp, 'replayed.rdb');
  try {
    await writeKeyspaceRdb(ks, rdbVersionAfterReplay(stats.rdbVersion), path);
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
