import { open } from 'node:fs/promises';
import { WRITABLE_RDB_VERSIONS } from '../codec/rdb/value-writer.js';
import { dumpToRdb } from './dump.js';
import type { Keyspace } from './keyspace.js';

/** The RDB version to write a replayed dataset in: its base's version when we can write it, else the nearest. */
export function rdbVersionAfterReplay(baseVersion: number | null): number {
  const max = Math.max(...WRITABLE_RDB_VERSIONS);
  return Math.min(max, Math.max(Math.min(...WRITABLE_RDB_VERSIONS), baseVersion ?? max));
}

/** The keyspace as an RDB file (every key kept: expiry is the loading server's business), fsynced. */
export async function writeKeyspaceRdb(ks: Keyspace, version: number, out: string): Promise<{ keys: number }> {
  const fh = await open(out, 'wx', 0o600);
  try {
    let pos = 0;
    const r = await dumpToRdb(
      ks,
      async (chunk) => {
        await fh.write(chunk, 0, chunk.length, pos);
        pos += chunk.length;
      },
      { version, nowMs: null },
    );
    await fh.sync();
    return { keys: r.keys };
  } finally {
    await fh.close();
  }
}
