import { expect } from 'vitest';
import type { RedisClient } from '../../src/net/redis-client.js';
import type { RedisEndpoint } from '../../src/net/redis-url.js';
import { Replica, type ReplicaOptions } from '../../src/replica/replica.js';
import { debugDigest, type TestRedis } from '../helpers/redis-server.js';
import { loadDir, masterOffset, waitFor } from './helpers.js';

/** An in-process replica run by a test, with its log lines captured. */
export interface Running {
  replica: Replica;
  done: Promise<void>;
  logs: string[];
  dir: string;
}

export function runReplica(ep: RedisEndpoint, dir: string, extra: Partial<ReplicaOptions> = {}): Running {
  const logs: string[] = [];
  const replica = new Replica({ endpoint: ep, dir, backoffMs: { initial: 100, max: 500 }, timeoutMs: 5000, log: (l) => logs.push(l), ...extra });
  const done = replica.run();
  done.catch(() => {});
  return { replica, done, logs, dir };
}

/** Waits until the replica has applied everything the master has produced. */
export async function caughtUp(r: Running, c: RedisClient): Promise<void> {
  await waitFor('replica to catch up', async () => r.replica.status.link === 'up' && r.replica.status.offset === (await masterOffset(c)));
}

/** Stops the replica once caught up and checks its directory loads with the master's digest. */
export async function stopAndCompare(r: Running, master: TestRedis, c: RedisClient): Promise<void> {
  await caughtUp(r, c);
  r.replica.stop();
  await r.done;
  const want = await debugDigest(master);
  const loaded = await loadDir(r.dir);
  expect(loaded.digest).toBe(want);
  await loaded.server.stop();
}
