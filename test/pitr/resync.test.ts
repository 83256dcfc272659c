import { mkdirSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../backup/cli-helper.js';
import { startRedis } from '../helpers/redis-server.js';
import { ArchivingReplica, Load, Scene, checkpoint, expectOk, restoreDigest, sleep, startMaster, waitFor } from './harness.js';

const scene = new Scene('tsredis-pitr-resync-');
afterAll(() => scene.cleanup());

describe('archive after the replica lost its files', () => {
  it('an incr AOF cut under the replica: the full sync starts a new chain whose record says why; both windows restore', async () => {
    const master = await startMaster();
    const scratch = await startRedis();
    const c = await master.client();
    const target = join(scene.work, 'archive');
    const dir = join(scene.work, 'rep');
    mkdirSync(dir);
    const rep = (scene.rep = new ArchivingReplica(master.url, dir, ['--archive', target, '--no-encrypt', '--name', 'rs', '--segment-seconds', '1', '--timeout', '5']));
    rep.start();
    const load = new Load(c, 30, 20);
    await waitFor('the archive to start', () => rep.status()?.link === 'up');
    await sleep(1500);
    const before = await checkpoint(load, master, c);
    await sleep(1500);
    expect(await rep.stop()).toBe(0);
    // Damage the replica's files: the state no longer matches them, a full sync must follow.
    const aofDir = join(dir, 'appendonlydir');
    const incr = readdirSync(aofDir).find((f) => f.endsWith('.incr.aof'))!;
    truncateSync(join(aofDir, incr), statSync(join(aofDir, incr)).size - 10);
    await sleep(1200);
    rep.start();
    await waitFor('the full sync', () => rep.status()?.link === 'up' && rep.status()!.fullSyncs === 2);
    await sleep(1500);
    const after = await checkpoint(load, master, c);
    await load.stop();
    await sleep(3000);
    expect(await rep.stop()).toBe(0);

    const l = await cli(['list', '--pitr', '--from', target, '--name', 'rs', '--json']);
    expectOk(l, 'list --pitr');
    const doc = JSON.parse(l.stdout);
    expect(doc.problems).toEqual([]);
    expect(doc.chains).toHaveLength(2);
    expect(doc.gaps).toHaveLength(1);
    expect(doc.gaps[0].reason).toMatch(/no longer matched its state/);
    for (const cp of [before, after]) expect((await restoreDigest(scratch, target, 'rs', ['--at', cp.iso], {})).digest, cp.iso).toBe(cp.digest);
    c.close();
  }, 90_000);
});
