import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { runReplica, stopAndCompare, caughtUp } from './harness.js';
import { sleep, waitFor } from './helpers.js';

afterAll(stopAllRedis);

const base = { 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1 };

/** The delays ("retrying in X s") the replica chose after each lost link, in order. */
const delays = (logs: string[]) => logs.flatMap((l) => /link down: .*; retrying in ([\d.]+) s$/.exec(l)?.[1] ?? []).map(Number);

describe('replicate: reconnect backoff and counters against a real master', () => {
  it('the delay grows while links keep failing and starts over once a link had been healthy', async () => {
    const master = await startRedis({ config: base });
    const c = await master.client();
    await c.call('SET', 'k', 'v');
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-backoff-'));
    // A short "healthy" threshold instead of the default 30 s; real master, real link kills.
    const r = runReplica(parseRedisUrl(master.url, { env: {} }), dir, { backoffMs: { initial: 200, max: 5000, healthyMs: 1500 } });
    const ups = () => r.logs.filter((l) => l.startsWith('link up:')).length;
    let seenUps = 0;
    const waitUp = () => waitFor('a new link up', () => ups() > seenUps && r.replica.status.link === 'up');
    const killWhenUp = async (): Promise<void> => {
      await waitUp();
      seenUps = ups();
      const before = delays(r.logs).length;
      expect(await c.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
      await waitFor('the replica to see the link go', () => delays(r.logs).length > before);
    };
    // Links killed as soon as they are up: 0.2, 0.4, 0.8 s.
    for (let i = 0; i < 3; i++) await killWhenUp();
    expect(delays(r.logs)).toEqual([0.2, 0.4, 0.8]);

    // Up for longer than the healthy threshold, then a blip: back to the first delay, not 1.6 s.
    await waitUp();
    await sleep(2000);
    await killWhenUp();
    expect(delays(r.logs)).toEqual([0.2, 0.4, 0.8, 0.2]);
    // ...and after that the doubling goes on from there for links that fail again at once.
    await killWhenUp();
    expect(delays(r.logs).at(-1)).toBe(0.4);

    await waitUp();
    expect(r.logs.filter((l) => l.startsWith('partial resync accepted'))).toHaveLength(5);
    await c.call('SET', 'k2', 'v2');
    await stopAndCompare(r, master, c);
  });

  it('replica-status counters (fullSyncs, partialSyncs, baseKeys) carry over a restart from the state file', async () => {
    const master = await startRedis({ config: base });
    const c = await master.client();
    for (let i = 0; i < 50; i++) await c.call('SET', `key:${i}`, `v${i}`);
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-counters-'));
    const ep = parseRedisUrl(master.url, { env: {} });
    const first = runReplica(ep, dir);
    await caughtUp(first, c);
    expect(first.replica.status).toMatchObject({ fullSyncs: 1, partialSyncs: 0, baseKeys: 50 });
    const lastFullSyncAt = first.replica.status.lastFullSyncAt;
    await c.call('SET', 'more', '1');
    await caughtUp(first, c);
    first.replica.stop();
    await first.done;
    const state = JSON.parse(readFileSync(join(dir, 'replica-state.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ fullSyncs: 1, partialSyncs: 0, baseKeys: 50 });

    // A restart: partial resync; the counters go on from the state file instead of from zero.
    const second = runReplica(ep, dir);
    expect(second.replica.status.fullSyncs).toBe(0); // not loaded yet: run() reads the state
    await caughtUp(second, c);
    expect(second.logs.join('\n')).toMatch(/partial resync accepted/);
    expect(second.replica.status).toMatchObject({ fullSyncs: 1, partialSyncs: 1, baseKeys: 50, lastFullSyncAt });
    second.replica.stop();
    await second.done;
    expect(JSON.parse(readFileSync(join(dir, 'replica-state.json'), 'utf8'))).toMatchObject({ fullSyncs: 1, partialSyncs: 1 });
  });
});
