import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, gpg } from '../backup/cli-helper.js';
import { startS3 } from '../backup/s3-server.js';
import { debugDigest, startRedis } from '../helpers/redis-server.js';
import { ArchivingReplica, Scene, Load, checkpoint, expectOk, restoreDigest, sleep, startMaster, waitFor, type Checkpoint } from './harness.js';

const scene = new Scene('tsredis-pitr-');
const work = scene.work;

afterAll(() => scene.cleanup());

/**
 * The acceptance run of issue 14 on one archive written to a directory and to S3 at once, with
 * OpenPGP (passphrase) and gzip: a master under a steady write load with checkpoints; the archiving
 * replicate killed -9 at random moments and restarted; the S3 endpoint stopped for 30 s under the
 * load, with a kill inside the outage: the queue grows, and drains in order when S3 is back. Then
 * every checkpoint is restored from both targets (onto a running node: the base by RESTORE, then
 * the stream's commands) and must give the master's DEBUG DIGEST of that moment; the last one also
 * as files (--layout aof: base + stream as the incr AOF; --layout rdb: the engine's dump.rdb)
 * loaded by redis-server; verify --pitr finds no hole.
 */
describe('replicate --archive → restore --at', () => {
  it('every checkpoint restores to its digest from a directory and from S3, across kill -9 and an S3 outage', async () => {
    const s3 = (scene.s3 = await startS3('pitr'));
    const master = await startMaster();
    const scratch = await startRedis();
    const c = await master.client();
    const dirTarget = join(work, 'archive-dir');
    const pass = join(work, 'pass');
    writeFileSync(pass, 'correct horse battery staple\n', { mode: 0o600 });
    const env = { ...s3.env };
    const s3Flags = ['--s3-endpoint', s3.endpoint, '--s3-path-style'];
    const s3Target = 's3://pitr/archives';
    mkdirSync(join(work, 'rep'));
    const rep = (scene.rep = new ArchivingReplica(master.url, join(work, 'rep'), ['--archive', dirTarget, '--archive', s3Target, ...s3Flags, '--name', 'cache', '--passphrase-file', pass, '--segment-seconds', '2', '--base-every', '12s', '--timeout', '5'], env));
    const load = new Load(c);
    rep.start();
    await waitFor('the archive to start', () => rep.status()?.archive?.chain != null && rep.status()?.link === 'up');

    const step = (w: string) => process.env.KEEP && process.stderr.write(`${new Date().toISOString()} ${w}\n`);
    step(`work ${work}`);
    const cps: Checkpoint[] = [];
    const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a));
    let kills = 0;
    const killAndRestart = async () => {
      await sleep(rand(200, 2500));
      await rep.kill9();
      kills++;
      await sleep(rand(0, 400));
      rep.start();
    };
    for (let i = 0; i < 9; i++) {
      cps.push(await checkpoint(load, master, c));
      step(`checkpoint ${i}`);
      await killAndRestart();
    }
    // S3 down: the directory target goes on, S3's objects wait in the queue (and survive a kill).
    step('s3 stop');
    await s3.stop();
    const outageStart = Date.now();
    cps.push(await checkpoint(load, master, c));
    await killAndRestart();
    cps.push(await checkpoint(load, master, c));
    await waitFor('the S3 target to be retrying with objects queued', () => {
      const a = rep.status()?.archive;
      const t = a?.targets?.find((x: { target: string }) => x.target === s3Target);
      return !!t && t.state === 'retrying' && a.queue.items > 2 && t.lagSeconds > 2;
    });
    const during = rep.status()!.archive;
    // The rest of the 30 s outage under load: checkpoints keep coming, the queue keeps growing.
    while (Date.now() - outageStart < 24_000) {
      await sleep(4000);
      cps.push(await checkpoint(load, master, c));
    }
    // A timer may fire a millisecond before Date.now() says it is due: wait until it does.
    while (Date.now() - outageStart < 30_000) await sleep(Math.max(1, 30_000 - (Date.now() - outageStart)));
    const longest = rep.status()!.archive;
    expect(Date.now() - outageStart).toBeGreaterThanOrEqual(30_000);
    step('s3 start');
    await s3.start();
    await waitFor('the queue to drain once S3 is back', () => {
      const a = rep.status()?.archive;
      return !!a && a.queue.items <= 1 && a.targets.every((t: { state: string }) => t.state !== 'retrying');
    }, 60_000);
    expect(during.queue.items).toBeGreaterThan(2);
    expect(longest.queue.items).toBeGreaterThan(during.queue.items);
    expect(longest.targets.find((x: { target: string }) => x.target === s3Target).lagSeconds).toBeGreaterThan(20);
    for (let i = 0; i < 3; i++) cps.push(await checkpoint(load, master, c));
    await load.stop();
    cps.push(await checkpoint(load, master, c));
    // A second is restorable once a segment was cut after it: with the load stopped, the master's
    // pings (one a second here) drive the next cut within --segment-seconds.
    await sleep(4500);
    expect(await rep.stop()).toBe(0);
    expect(kills).toBe(10);

    step('verify');
    // No hole, one chain, every checkpoint inside the windows.
    for (const [target, flags] of [[dirTarget, []], [s3Target, s3Flags]] as const) {
      const v = await cli(['verify', '--pitr', '--from', target, '--name', 'cache', ...flags, '--json'], { env });
      expectOk(v, `verify --pitr ${target}`);
      expect(JSON.parse(v.stdout).problems).toEqual([]);
      const l = await cli(['list', '--pitr', '--from', target, '--name', 'cache', ...flags, '--json'], { env });
      expectOk(l, 'list --pitr');
      const doc = JSON.parse(l.stdout);
      expect(doc.gaps).toEqual([]);
      expect(doc.chains).toHaveLength(1);
      expect(doc.chains[0].bases.filter((b: { source: string }) => b.source === 'engine').length).toBeGreaterThan(0);
      expect(doc.windows[0].from <= cps[0]!.iso && cps.at(-1)!.iso <= doc.windows[0].to).toBe(true);
    }

    step(`restores of ${cps.length} checkpoints`);
    // Every checkpoint from both targets, through restore --to (RESTORE into a running node).
    for (const cp of cps) {
      for (const [target, flags] of [[dirTarget, []], [s3Target, s3Flags]] as const) {
        const r = await restoreDigest(scratch, target, 'cache', ['--at', cp.iso], env, ['--passphrase-file', pass, ...flags]);
        expect(r.digest, `restore --at ${cp.iso} from ${target}: ${r.ran.stderr}`).toBe(cp.digest);
      }
    }

    // --to-dir through the offline paths: a checkpoint from the outage and the last one load in
    // redis-server with their digests, as an appendonlydir (base + stream) and as a dump.rdb.
    for (const cp of [cps[10]!, cps.at(-1)!]) {
      for (const layout of ['aof', 'rdb']) {
        const out = join(work, `restored-${layout}-${cp.iso.replace(/:/g, '')}`);
        expectOk(await cli(['restore', '--from', s3Target, ...s3Flags, '--name', 'cache', '--at', cp.iso, '--to-dir', out, '--layout', layout, '--passphrase-file', pass, '--quiet'], { env }), `restore --to-dir --layout ${layout}`);
        const loaded = await startRedis({ dir: out, config: layout === 'aof' ? { appendonly: 'yes' } : {} });
        expect(await debugDigest(loaded), `${cp.iso} --layout ${layout}`).toBe(cp.digest);
      }
    }
    // --at latest after the clean stop is the final state.
    expect((await restoreDigest(scratch, dirTarget, 'cache', ['--at', 'latest'], env, ['--passphrase-file', pass])).digest).toBe(await debugDigest(master));

    // A segment is an AOF fragment that plain gpg reads.
    const seg = readdirSync(dirTarget).find((f) => /\.s\.\d{20}\.aof\.gz\.gpg$/.test(f))!;
    const home = mkdtempSync(join(work, 'gnupg-'));
    const gz = gpg(home, ['--passphrase-file', pass, '-d', join(dirTarget, seg)]);
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(gz).toString('latin1');
    expect(text).toMatch(/^(#TS:\d+\r\n)?\*2\r\n\$6\r\nSELECT\r\n\$\d\r\n\d+\r\n/);
    expect(text).toMatch(/#TS:\d+\r\n/);
    expect(readFileSync(join(work, 'rep.log'), 'utf8')).not.toMatch(/internal error|packing failed/);
    c.close();
  }, 600_000);
});
