import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { caughtUp, runReplica, stopAndCompare } from './harness.js';
import { masterOffset, runWorkload, settleExpiries, stats, waitFor } from './helpers.js';

afterAll(stopAllRedis);

describe('replicate: PSYNC2 replication id shift', () => {
  it('follows a promoted replica with +CONTINUE <new replid> and no full sync', async () => {
    const config = { 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1 };
    const top = await startRedis({ config });
    const mid = await startRedis({ config });
    const tc = await top.client();
    const mc = await mid.client();
    const w = await runWorkload(tc, 101, 1000);
    await mc.call('REPLICAOF', '127.0.0.1', top.port);
    await waitFor('mid in sync', async () => (await mc.info('replication')).master_link_status === 'up' && (await masterOffset(mc)) === (await masterOffset(tc)));

    // We replicate from the middle node: a sub-replica sharing the top master's id/offset space.
    const r = runReplica(parseRedisUrl(mid.url, { env: {} }), mkdtempSync(join(tmpdir(), 'tsredis-failover-')));
    await runWorkload(tc, 102, 500, w);
    await caughtUp(r, mc);
    const oldId = r.replica.status.replid;

    // Failover: the middle node becomes a master; it shifts its replid and drops its replicas.
    await mc.call('REPLICAOF', 'NO', 'ONE');
    const newId = (await mc.info('replication')).master_replid;
    expect(newId).not.toBe(oldId);
    await waitFor('resumed under the new id', () => r.replica.status.replid === newId && r.replica.status.link === 'up');
    await runWorkload(mc, 103, 500, w);
    await settleExpiries(mc, w);
    await stopAndCompare(r, mid, mc);
    expect(r.replica.status.fullSyncs).toBe(1);
    expect(r.replica.status.partialSyncs).toBe(1);
    expect(r.logs.join('\n')).toContain(`master changed replication id ${oldId} -> ${newId}`);
    expect((await stats(mc)).partialOk).toBe(1);
    tc.close();
    mc.close();
  });
});
