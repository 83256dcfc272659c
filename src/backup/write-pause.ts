import { RedisClient, RedisReplyError } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { UsageError } from '../util/errors.js';

/** Writes paused on a set of masters (CLIENT PAUSE ms WRITE), until release() or the pause runs out. */
export interface WritePause {
  requestedMs: number;
  /** Local time the first CLIENT PAUSE was sent: no master's pause ends before started + requestedMs. */
  started: number;
  /** Local time every master had answered its CLIENT PAUSE: a write sent after it waits for the release. */
  allPaused: number;
  /** Local time CLIENT UNPAUSE was sent (once released). */
  resumedAt: number | null;
  /** Each master's master_repl_offset once paused (a replica holding it has every write before the pause). */
  offsets: Map<string, number>;
  /** CLIENT UNPAUSE everywhere; returns the pause used, in ms (from the first PAUSE sent to the last UNPAUSE answered). */
  release(): Promise<number>;
}

/**
 * Pauses writes on every master. Reads, replication and our PSYNC go on; clients that write wait
 * (they are not refused) and complete once the pause ends. Needs Redis 6.2+. `first` are paused
 * (and have answered) before the others: masters migrating slots, so that none is caught inside a
 * MIGRATE whose RESTORE waits on an importing master already paused (it would hold the node, and
 * our pause, until that pause ran out).
 */
export async function pauseWrites(masters: Array<{ address: string; ep: RedisEndpoint; first?: boolean }>, ms: number): Promise<WritePause> {
  const clients = await Promise.all(masters.map((m) => RedisClient.connect(m.ep)));
  const started = Date.now();
  let released: Promise<number> | null = null;
  const release = (): Promise<number> =>
    (released ??= (async () => {
      handle.resumedAt = Date.now();
      await Promise.all(clients.map((c) => c.send('CLIENT', 'UNPAUSE').catch(() => null)));
      const used = Date.now() - started;
      for (const c of clients) c.close();
      return used;
    })());
  const handle: WritePause = { requestedMs: ms, started, allPaused: 0, resumedAt: null, offsets: new Map(), release };
  try {
    const pause = (i: number): Promise<unknown> =>
      clients[i]!.call('CLIENT', 'PAUSE', ms, 'WRITE').catch((e: unknown) => {
        if (e instanceof RedisReplyError) throw new UsageError(`${masters[i]!.ep.display}: --pause-writes needs CLIENT PAUSE ms WRITE (Redis 6.2+): ${e.reply.message}`);
        throw e;
      });
    const order = masters.map((m, i) => ({ i, first: !!m.first }));
    await Promise.all(order.filter((o) => o.first).map((o) => pause(o.i)));
    await Promise.all(order.filter((o) => !o.first).map((o) => pause(o.i)));
    handle.allPaused = Date.now();
    await Promise.all(clients.map(async (c, i) => handle.offsets.set(masters[i]!.address, Number((await c.info('replication')).master_repl_offset ?? 0))));
    return handle;
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * The longest wait before a node forks for a new sync: with repl-diskless-sync yes, Redis waits
 * repl-diskless-sync-delay seconds for more replicas first (5 s by default), and a write pause
 * would have to last that long. 0 when the nodes sync from disk or do not say (CONFIG refused).
 */
export async function forkDelayMs(nodes: RedisEndpoint[]): Promise<{ ms: number; node: string | null }> {
  let worst: { ms: number; node: string | null } = { ms: 0, node: null };
  for (const ep of nodes) {
    const c = await RedisClient.connect(ep, { connectTimeoutMs: 3000 }).catch(() => null);
    if (!c) continue;
    try {
      const get = async (name: string): Promise<string | null> => {
        const r = await c.send('CONFIG', 'GET', name);
        return Array.isArray(r) && r.length >= 2 ? String(r[1]) : null;
      };
      if ((await get('repl-diskless-sync')) !== 'yes') continue;
      const ms = Number(await get('repl-diskless-sync-delay')) * 1000;
      if (ms > worst.ms) worst = { ms, node: ep.display };
    } finally {
      c.close();
    }
  }
  return worst;
}
