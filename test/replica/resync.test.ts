import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { fetchSnapshot } from '../../src/replica/snapshot.js';
import { FormatError } from '../../src/util/errors.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { caughtUp, runReplica, stopAndCompare } from './harness.js';
import { CutProxy, runWorkload, settleExpiries, stats, waitFor } from './helpers.js';

afterAll(stopAllRedis);

const base = { 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1 };

async function setup(config: Record<string, string | number>) {
  const master = await startRedis({ config: { ...base, ...config } });
  const c = await master.client();
  const proxy = new CutProxy(master.port);
  await proxy.start();
  const dir = mkdtempSync(join(tmpdir(), 'tsredis-resync-'));
  return { master, c, proxy, dir, ep: parseRedisUrl(proxy.url, { env: {} }) };
}

describe('replicate: link cuts through a TCP proxy', () => {
  for (const diskless of [false, true]) {
    it(`a cut during the ${diskless ? 'diskless' : 'disk'} RDB transfer leaves nothing behind and the next full sync succeeds`, async () => {
      const { master, c, proxy, dir, ep } = await setup({ 'repl-diskless-sync': diskless ? 'yes' : 'no' });
      const w = await runWorkload(c, 11, 4000);
      const rdbSize = Number((await c.info('memory')).used_memory_dataset);
      expect(rdbSize).toBeGreaterThan(100_000);
      proxy.cutAfterBytes(30_000); // handshake replies + the first ~30 KB of the RDB
      const r = runReplica(ep, dir);
      await waitFor('link up after the cut', () => r.replica.status.link === 'up');
      expect(proxy.connections).toBeGreaterThanOrEqual(2);
      expect(r.logs.join('\n')).toMatch(/link down: .*connection lost while receiving the (diskless )?RDB/);
      await runWorkload(c, 12, 1000, w);
      await settleExpiries(c, w);
      await stopAndCompare(r, master, c);
      expect((await stats(c)).full).toBe(2);
      expect(r.replica.status.fullSyncs).toBe(1);
      // The cut transfer's temp file was removed; only the live generation is there.
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
      await proxy.close();
      c.close();
      await master.stop();
    });
  }

  it('a damaged RDB transfer is rejected before it replaces anything, and the retry succeeds', async () => {
    const { master, c, proxy, dir, ep } = await setup({ 'repl-diskless-sync': 'no' });
    await settleExpiries(c, await runWorkload(c, 15, 3000));
    await expect(fetchSnapshot(ep, () => {})).resolves.toBeDefined();
    proxy.corruptAt(40_000); // inside the RDB body, past the handshake replies
    await expect(fetchSnapshot(ep, () => {})).rejects.toThrow(FormatError);
    proxy.corruptAt(40_000);
    const r = runReplica(ep, dir);
    await waitFor('link up', () => r.replica.status.link === 'up');
    expect(r.logs.join('\n')).toMatch(/link down: RDB from .* at byte \d+: expected/);
    expect(r.replica.status.fullSyncs).toBe(1);
    await stopAndCompare(r, master, c);
    await proxy.close();
    c.close();
    await master.stop();
  });

  it('WAIT on the master is answered through REPLCONF GETACK', async () => {
    const { master, c, proxy, dir, ep } = await setup({});
    const r = runReplica(ep, dir);
    await caughtUp(r, c);
    // Timeouts below the 1 s ACK period: five in a row are met only by immediate answers to GETACK.
    for (let i = 0; i < 5; i++) {
      await c.call('SET', `waited${i}`, '1');
      expect(await c.call('WAIT', 1, 400)).toBe(1);
    }
    await stopAndCompare(r, master, c);
    await proxy.close();
    c.close();
    await master.stop();
  });

  it('a cut while streaming resumes with a partial resync when the backlog covers the gap', async () => {
    const { master, c, proxy, dir, ep } = await setup({ 'repl-backlog-size': '10mb' });
    const w = await runWorkload(c, 21, 2000);
    const r = runReplica(ep, dir);
    await waitFor('link up', () => r.replica.status.link === 'up');
    await runWorkload(c, 22, 1000, w);
    await caughtUp(r, c);
    proxy.pause();
    await waitFor('link down', () => r.replica.status.link !== 'up');
    await runWorkload(c, 23, 1500, w); // written while we are away
    proxy.resume();
    await waitFor('partial resync', () => r.replica.status.partialSyncs === 1 && r.replica.status.link === 'up');
    await runWorkload(c, 24, 500, w);
    await settleExpiries(c, w);
    await stopAndCompare(r, master, c);
    const s = await stats(c);
    expect(s.partialOk).toBe(1);
    expect(s.full).toBe(1);
    await proxy.close();
    c.close();
    await master.stop();
  });

  it('a gap larger than a small repl-backlog-size ends in a full resync with a new base', async () => {
    const { master, c, proxy, dir, ep } = await setup({ 'repl-backlog-size': '16kb' });
    const w = await runWorkload(c, 31, 1000);
    const r = runReplica(ep, dir);
    await caughtUp(r, c);
    proxy.pause();
    await waitFor('link down', () => r.replica.status.link !== 'up');
    await runWorkload(c, 32, 3000, w); // far more than 16 KB of stream
    proxy.resume();
    await waitFor('second full sync', () => r.replica.status.fullSyncs === 2 && r.replica.status.link === 'up');
    await settleExpiries(c, w);
    await stopAndCompare(r, master, c);
    const s = await stats(c);
    expect(s.full).toBe(2);
    expect(s.partialErr).toBe(1);
    expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    await proxy.close();
    c.close();
    await master.stop();
  });

  it('a restart on the same directory asks for, and gets, a partial resync', async () => {
    const { master, c, proxy, dir, ep } = await setup({});
    const w = await runWorkload(c, 41, 1000);
    const r1 = runReplica(ep, dir);
    await caughtUp(r1, c);
    r1.replica.stop();
    await r1.done;
    await runWorkload(c, 42, 1000, w);
    const r2 = runReplica(ep, dir);
    await waitFor('partial resync', () => r2.replica.status.partialSyncs === 1);
    await settleExpiries(c, w);
    await stopAndCompare(r2, master, c);
    expect((await stats(c)).partialOk).toBe(1);
    // Counters persist across restarts: the second run added no full sync to the first run's one.
    expect(r1.replica.status.fullSyncs).toBe(1);
    expect(r2.replica.status.fullSyncs).toBe(1);
    await proxy.close();
    c.close();
    await master.stop();
  });
});
