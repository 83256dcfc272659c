import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { runReplica as run, stopAndCompare } from './harness.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { masterOffset, runWorkload, settleExpiries, waitFor } from './helpers.js';

afterAll(stopAllRedis);

describe('replicate: full sync and streaming into a loadable AOF directory', () => {
  for (const mode of ['disk', 'diskless'] as const) {
    it(`${mode} master: data written before, during and after the sync loads with the master's digest`, async () => {
      const master = await startRedis({
        config: { 'repl-diskless-sync': mode === 'diskless' ? 'yes' : 'no', 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1 },
      });
      const c = await master.client();
      const w = await runWorkload(c, 1, 3000);
      const dir = mkdtempSync(join(tmpdir(), 'tsredis-repl-'));
      // Each mode also exercises one fsync policy's code path.
      const r = run(parseRedisUrl(master.url, { env: {} }), dir, { fsync: mode === 'diskless' ? 'always' : 'everysec' });
      await runWorkload(c, 2, 2000, w); // during the sync
      await waitFor('link up', () => r.replica.status.link === 'up');
      await runWorkload(c, 3, 2000, w); // streaming
      await settleExpiries(c, w);
      await stopAndCompare(r, master, c);
      expect(r.replica.status.fullSyncs).toBe(1);
      expect(r.logs.join('\n')).toMatch(new RegExp(`RDB transfer started \\(${mode}`));
      const files = readdirSync(join(dir, 'appendonlydir')).sort();
      expect(files).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
      const incr = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
      expect(incr).toMatch(/^#TS:\d+\r\n/);
      expect(incr).toContain('MULTI');
      const state = JSON.parse(readFileSync(join(dir, 'replica-state.json'), 'utf8'));
      expect(state.offset).toBe(await masterOffset(c));
      c.close();
      await master.stop();
    });
  }

  it('requirepass master and ACL user; counts as a good replica for min-replicas-to-write', async () => {
    const master = await startRedis({
      config: { requirepass: 'adminpw', 'min-replicas-to-write': 1, 'min-replicas-max-lag': 3, 'repl-diskless-sync-delay': 0 },
    });
    const c = await master.client();
    await expect(c.call('SET', 'x', '1')).rejects.toThrow(/NOREPLICAS/);
    await c.call('ACL', 'SETUSER', 'repl', 'on', '>replpw', '+psync', '+replconf', '+ping');
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-repl-'));
    const r = run(parseRedisUrl(`redis://repl@127.0.0.1:${master.port}`, { env: { REDISCLI_AUTH: 'replpw' } }), dir, { fsync: 'no' });
    await waitFor('link up', () => r.replica.status.link === 'up');
    // The master re-counts good replicas once a second; ACKs every second keep us counted.
    await waitFor('writes accepted', async () => (await c.send('SET', 'x', '1')) === 'OK');
    for (let i = 0; i < 20; i++) expect(await c.call('SET', `k${i}`, 'v')).toBe('OK');
    await new Promise((res) => setTimeout(res, 4000)); // longer than min-replicas-max-lag
    expect(await c.call('SET', 'after-lag-window', 'v')).toBe('OK');
    await stopAndCompare(r, master, c);
    expect(r.logs.join('\n')).not.toContain('replpw');
    await waitFor('NOREPLICAS after the replica stopped', async () => String(await c.send('SET', 'y', '1')).includes('NOREPLICAS'));
    c.close();
    await master.stop();
  });

  it('reports a wrong password as fatal, once, without retrying forever', async () => {
    const master = await startRedis({ config: { requirepass: 'adminpw' } });
    const dir = mkdtempSync(join(tmpdir(), 'tsredis-repl-'));
    const r = run(parseRedisUrl(master.url, { env: { REDISCLI_AUTH: 'wrong' } }), dir);
    await expect(r.done).rejects.toThrow(/WRONGPASS/);
    expect(r.logs.join('\n')).not.toContain('wrong');
    await master.stop();
  });
});
