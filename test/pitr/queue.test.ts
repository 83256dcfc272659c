import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../backup/cli-helper.js';
import { startS3 } from '../backup/s3-server.js';
import { freePort, startRedis } from '../helpers/redis-server.js';
import { ArchivingReplica, Scene, Load, checkpoint, expectOk, restoreDigest, sleep, startMaster, waitFor, type Checkpoint } from './harness.js';

const scene = new Scene('tsredis-pitr-queue-');
const work = scene.work;

afterAll(() => scene.cleanup());

async function metrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

describe('archive queue', () => {
  it('a target down fills the bounded queue: a loud error and a metric, the replica stops reading; it drains in order when the target is back, with no hole; prune --pitr keeps what the window needs', async () => {
    const s3 = (scene.s3 = await startS3('pitr'));
    const master = await startMaster();
    const scratch = await startRedis();
    const c = await master.client();
    const port = await freePort();
    const flags = ['--s3-endpoint', s3.endpoint, '--s3-path-style'];
    mkdirSync(join(work, 'rep'));
    const rep = (scene.rep = new ArchivingReplica(master.url, join(work, 'rep'), ['--archive', 's3://pitr/q', ...flags, '--name', 'q', '--no-encrypt', '--compress', 'none', '--segment-seconds', '1', '--archive-queue-max', '256k', '--base-every', '5s', '--metrics-port', String(port), '--timeout', '5'], s3.env));
    rep.start();
    const load = new Load(c, 40, 20);
    await waitFor('the archive to start', () => rep.status()?.link === 'up' && rep.status()!.archive.targets[0].uploaded > 1);
    const cps: Checkpoint[] = [await checkpoint(load, master, c)];
    await s3.stop();
    await waitFor('the queue to be full', () => rep.status()?.archive?.queue.full === true, 60_000);
    expect(await metrics(port)).toMatch(/^tsredis_archive_queue_full 1$/m);
    expect(await metrics(port)).toMatch(/^tsredis_archive_target_up\{target="s3:\/\/pitr\/q \(http:\/\/127\.0\.0\.1:\d+\)"\} 0$/m);
    await waitFor('the replica to stop reading', () => rep.status()?.link !== 'up');
    await waitFor('the loud error', () => /!!! ERROR: archive queue full \(\d+ bytes, --archive-queue-max 262144\): not reading from the master/.test(rep.log()));
    await sleep(2000);
    await s3.start();
    await waitFor('the queue to drain and the link to come back', () => rep.status()?.link === 'up' && rep.status()!.archive.queue.full === false, 60_000);
    expect(await metrics(port)).toMatch(/^tsredis_archive_queue_full 0$/m);
    await sleep(1500);
    cps.push(await checkpoint(load, master, c));
    await sleep(3000);
    cps.push(await checkpoint(load, master, c));
    await load.stop();
    await sleep(3000);
    expect(await rep.stop()).toBe(0);

    const l = await cli(['list', '--pitr', '--from', 's3://pitr/q', ...flags, '--json'], { env: s3.env });
    expectOk(l, 'list --pitr');
    const doc = JSON.parse(l.stdout);
    expect(doc.problems).toEqual([]);
    expect(doc.gaps).toEqual([]);
    expect(doc.chains).toHaveLength(1);
    for (const cp of cps) expect((await restoreDigest(scratch, 's3://pitr/q', 'q', ['--at', cp.iso], s3.env, flags)).digest, cp.iso).toBe(cp.digest);

    // prune --pitr: every second within 4 s of the newest stays restorable, the first checkpoint goes.
    const p = await cli(['prune', '--pitr', '--from', 's3://pitr/q', '--name', 'q', ...flags, '--keep-within', '4s', '--json'], { env: s3.env });
    expectOk(p, 'prune --pitr');
    expect(JSON.parse(p.stdout).deleted.length).toBeGreaterThan(0);
    expectOk(await cli(['verify', '--pitr', '--from', 's3://pitr/q', '--name', 'q', ...flags], { env: s3.env }), 'verify after prune');
    expect((await restoreDigest(scratch, 's3://pitr/q', 'q', ['--at', cps.at(-1)!.iso], s3.env, flags)).digest).toBe(cps.at(-1)!.digest);
    const gone = await cli(['restore', '--from', 's3://pitr/q', '--name', 'q', ...flags, '--at', cps[0]!.iso, '--to', scratch.url, '--quiet'], { env: s3.env });
    expect(gone.code).toBe(5);
    expect(gone.stderr).toMatch(/is outside the restorable windows/);
    c.close();
  }, 180_000);
});
