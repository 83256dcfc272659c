import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { caughtUp, runReplica, stopAndCompare } from './harness.js';
import { CutProxy, loadDir, runWorkload, settleExpiries, waitFor } from './helpers.js';

afterAll(stopAllRedis);

const config = { 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1 };

describe('replicate: the empty-master trap and the incr bound', () => {
  it('a master that comes back empty under a new replid does not wipe the copy (keep, stop, follow)', async () => {
    const master = await startRedis({ config });
    const c = await master.client();
    await settleExpiries(c, await runWorkload(c, 51, 1500));
    const proxy = new CutProxy(master.port);
    await proxy.start();
    const ep = parseRedisUrl(proxy.url, { env: {} });
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-shrink-'));
    const r1 = runReplica(ep, dir);
    await stopAndCompare(r1, master, c);
    const good = await debugDigest(master);
    c.close();
    await master.stop();

    // The master restarts with persistence off: empty, new replication id.
    const empty = await startRedis({ config });
    proxy.target = empty.port;

    const keep = runReplica(ep, dir, { onShrink: 'keep' });
    await waitFor('shrink detected', () => keep.replica.status.shrinkDetected !== null);
    keep.replica.stop();
    await keep.done;
    expect(keep.logs.join('\n')).toMatch(/!!! WARNING: .* 0 keys .*NOT following it/);
    // Counters persist across restarts: refusing the empty master added no full sync.
    expect(keep.replica.status.fullSyncs).toBe(r1.replica.status.fullSyncs);
    let loaded = await loadDir(dir);
    expect(loaded.digest).toBe(good);
    await loaded.server.stop();

    const stop = runReplica(ep, dir, { onShrink: 'stop' });
    await expect(stop.done).rejects.toThrow(/refusing to replace the dataset/);
    loaded = await loadDir(dir);
    expect(loaded.digest).toBe(good);
    await loaded.server.stop();

    const follow = runReplica(ep, dir, { onShrink: 'follow' });
    const ec = await empty.client();
    await caughtUp(follow, ec);
    follow.replica.stop();
    await follow.done;
    expect(follow.replica.status.fullSyncs).toBe(r1.replica.status.fullSyncs + 1);
    loaded = await loadDir(dir);
    expect(loaded.digest).toBe(await debugDigest(empty));
    await loaded.server.stop();
    const kept = readdirSync(dir).find((n) => n.startsWith('appendonlydir.before-shrink-'));
    expect(kept).toBeDefined();
    loaded = await loadDir(dir, kept);
    expect(loaded.digest).toBe(good);
    await loaded.server.stop();
    ec.close();
    await proxy.close();
  });

  it('a growing incr AOF is bounded by a new base from a new full sync', async () => {
    const master = await startRedis({ config });
    const c = await master.client();
    const w = await runWorkload(c, 61, 500);
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-bound-'));
    const r = runReplica(parseRedisUrl(master.url, { env: {} }), dir, { maxIncrBytes: 50_000 });
    await caughtUp(r, c);
    await runWorkload(c, 62, 2000, w);
    await waitFor('a new base', () => r.replica.status.fullSyncs >= 2);
    await settleExpiries(c, w);
    await stopAndCompare(r, master, c);
    expect(r.logs.join('\n')).toMatch(/incr AOF reached \d+ bytes \(limit 50000\): starting a new base/);
    const files = readdirSync(join(dir, 'appendonlydir'));
    expect(files.filter((f) => f.endsWith('.base.rdb'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.incr.aof'))).toHaveLength(1);
    expect(files).not.toContain('appendonly.aof.1.base.rdb');
    c.close();
    await master.stop();
  });
});
