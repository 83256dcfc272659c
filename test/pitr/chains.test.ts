import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../backup/cli-helper.js';
import { debugDigest, startRedis } from '../helpers/redis-server.js';
import { ArchivingReplica, Scene, Load, checkpoint, expectOk, replicaCaughtUp, restoreDigest, sleep, startMaster, waitFor } from './harness.js';

const scene = new Scene('tsredis-pitr-chains-');
const work = scene.work;

afterAll(() => scene.cleanup());

const A = 'archive';
const segs = (dir: string) => readdirSync(dir).filter((f) => /\.s\.\d{20}\.aof\.gz$/.test(f)).sort();

/**
 * Chains: a failover (master demoted, a real replica promoted, replicate pointed at it) continues
 * the chain; a full sync after falling out of the backlog starts a new one with a recorded gap; a
 * FLUSHALL under load is undone with --before-flush. Then tampered, missing and reordered objects.
 */
describe('pitr chains', () => {
  it('failover keeps one chain, a forced full sync records a gap, --before-flush undoes a FLUSHALL', async () => {
    const m = await startMaster();
    const r = await startMaster();
    const scratch = await startRedis();
    const cm = await m.client();
    const cr = await r.client();
    await cr.call('REPLICAOF', '127.0.0.1', m.port);
    await waitFor('the real replica to sync', async () => (await cr.info('replication')).master_link_status === 'up');
    const target = join(work, A);
    mkdirSync(join(work, 'rep'));
    const args = ['--archive', target, '--no-encrypt', '--name', 'fo', '--segment-seconds', '2', '--timeout', '5'];
    const rep = (scene.rep = new ArchivingReplica(m.url, join(work, 'rep'), args));
    rep.start();
    const load = new Load(cm);
    await waitFor('the archive to start', () => rep.status()?.link === 'up');
    await sleep(1500);
    const cp1 = await checkpoint(load, m, cm);
    await sleep(1500);

    // Failover: stop writes, the replica catches up, is promoted, the old master follows it.
    await load.pause();
    await waitFor('everyone to catch up', () => replicaCaughtUp(cm));
    await rep.stop();
    await cr.call('REPLICAOF', 'NO', 'ONE');
    await cm.call('REPLICAOF', '127.0.0.1', r.port);
    rep.master = r.url;
    rep.start();
    load.retarget(cr);
    load.resume();
    await waitFor('the archive to follow the new master', () => rep.status()?.link === 'up');
    expect(rep.status()!.fullSyncs).toBe(1);
    await sleep(1500);
    const cp2 = await checkpoint(load, r, cr);
    await sleep(1500);

    // Fall out of the backlog while replicate is down: the next sync is a full one, a new chain.
    await rep.stop();
    await cr.call('CONFIG', 'SET', 'repl-backlog-size', '16384');
    await sleep(2500);
    const gapAt = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (let i = 0; i < 50; i++) await cr.call('SET', `filler:${i}`, 'x'.repeat(4000));
    rep.start();
    await waitFor('the archive to resync', () => rep.status()?.link === 'up' && rep.status()!.fullSyncs === 2);
    await sleep(1500);
    const cp3 = await checkpoint(load, r, cr);
    await sleep(1000);

    // FLUSHALL under load: the data just before it comes back with --before-flush.
    await load.pause();
    const beforeFlush = await debugDigest(r);
    await cr.call('FLUSHALL');
    load.resume();
    await sleep(2500);
    await load.stop();
    await sleep(4500);
    expect(await rep.stop()).toBe(0);

    const l = await cli(['list', '--pitr', '--from', target, '--name', 'fo', '--json']);
    expectOk(l, 'list --pitr');
    const doc = JSON.parse(l.stdout);
    expect(doc.problems).toEqual([]);
    expect(doc.chains).toHaveLength(2);
    expect(doc.windows).toHaveLength(2);
    expect(doc.gaps).toHaveLength(1);
    expect(doc.gaps[0].reason).toMatch(/backlog no longer held offset/);
    // The failover is inside chain 1: a segment linked from the old master's replid.
    const linked = readdirSync(target).filter((f) => f.endsWith('.manifest.json')).map((f) => JSON.parse(readFileSync(join(target, f), 'utf8')) as { linkedFrom: string | null; chain: string });
    expect(linked.filter((x) => x.linkedFrom !== null).map((x) => x.chain)).toEqual([doc.chains[0].chain]);
    expectOk(await cli(['verify', '--pitr', '--from', target, '--name', 'fo', '--deep']), 'verify --pitr --deep');

    // Onto a running node (flushed): the base by RESTORE, then the stream's commands (no engine).
    for (const cp of [cp1, cp2, cp3]) expect((await restoreDigest(scratch, target, 'fo', ['--at', cp.iso], {})).digest, cp.iso).toBe(cp.digest);
    const bf = await restoreDigest(scratch, target, 'fo', ['--before-flush'], {}, ['--json']);
    expect(bf.digest).toBe(beforeFlush);
    expect(JSON.parse(bf.ran.stdout)).toMatchObject({ mode: 'stream', replayed: { errors: 0 } });
    expect(JSON.parse(bf.ran.stdout).replayed.commands).toBeGreaterThan(0);
    // With --verify the whole dataset is built by the engine, and every key compared.
    const ver = await restoreDigest(scratch, target, 'fo', ['--at', cp2.iso], {}, ['--verify', '--json']);
    expect(ver.digest).toBe(cp2.digest);
    expect(JSON.parse(ver.ran.stdout)).toMatchObject({ mode: 'engine', verify: { ok: true } });
    // As files: --layout aof (the base + the cut stream as the incr AOF) and --layout rdb (engine)
    // load in redis-server with the same digests, the FLUSHALL and everything after it left out.
    for (const [point, digest] of [[['--before-flush'], beforeFlush], [['--at', cp3.iso], cp3.digest], [['--at', cp1.iso], cp1.digest]] as const) {
      for (const layout of ['aof', 'rdb']) {
        const out = join(work, `files-${layout}-${point.join('')}`.replace(/[^\w-]/g, '_'));
        const ran = await cli(['restore', '--from', target, '--name', 'fo', ...point, '--to-dir', out, '--layout', layout, '--json']);
        expectOk(ran, `restore ${point.join(' ')} --layout ${layout}`);
        expect(JSON.parse(ran.stdout).mode).toBe(layout === 'aof' ? 'aof' : 'engine');
        const loaded = await startRedis({ dir: out, config: layout === 'aof' ? { appendonly: 'yes' } : {} });
        expect(await debugDigest(loaded), `${point.join(' ')} --layout ${layout}`).toBe(digest);
        if (layout === 'aof') {
          const incr = readFileSync(join(out, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
          if (point[0] === '--before-flush') expect(incr).not.toMatch(/FLUSHALL/i);
          expect(incr).toMatch(/^(#TS:\d+\r\n)?\*2\r\n\$6\r\nSELECT\r\n/);
        }
      }
    }
    const inGap = await cli(['restore', '--from', target, '--name', 'fo', '--at', gapAt, '--to-dir', join(work, 'never'), '--quiet']);
    expect(inGap.code).toBe(5);
    expect(inGap.stderr).toMatch(new RegExp(`${gapAt} is outside the restorable windows: ${doc.windows[0].from} → ${doc.windows[0].to}, ${doc.windows[1].from} → ${doc.windows[1].to}`));
    expect(existsSync(join(work, 'never'))).toBe(false);
    cm.close();
    cr.close();
  }, 180_000);

  it('tampered, missing and reordered objects fail verify and restore with one line naming the object; nothing is written', async () => {
    const target = join(work, A);
    expect(existsSync(target)).toBe(true);
    const copy = (n: string) => {
      const d = join(work, n);
      cpSync(target, d, { recursive: true });
      return d;
    };
    const check = async (dir: string, verifyRe: RegExp, restoreRe: RegExp, restoreCode: number) => {
      const v = await cli(['verify', '--pitr', '--from', dir, '--name', 'fo']);
      expect(v.code, v.stderr).toBe(1);
      expect(v.stderr).toMatch(verifyRe);
      // Every restore path: files by the engine, files as base + stream, a running node.
      for (const layout of ['rdb', 'aof']) {
        const out = join(dir, `restored-${layout}`);
        const r = await cli(['restore', '--from', dir, '--name', 'fo', '--at', 'latest', '--to-dir', out, '--layout', layout, '--quiet']);
        expect(r.code, r.stderr).toBe(restoreCode);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(restoreRe);
        expect(existsSync(out)).toBe(false);
      }
      const r = await cli(['restore', '--from', dir, '--name', 'fo', '--at', 'latest', '--to', node.url, '--flush', '--quiet']);
      expect(r.code, r.stderr).toBe(restoreCode);
      expect(r.stderr).toMatch(restoreRe);
      expect((await nodeClient.call('GET', 'sentinel'))?.toString()).toBe('untouched');
      expect(await nodeClient.call('DBSIZE')).toBe(1);
    };
    const last = segs(target).at(-2)!;
    const node = await startRedis();
    const nodeClient = await node.client();
    await nodeClient.call('SET', 'sentinel', 'untouched');

    const tampered = copy('tampered');
    const buf = readFileSync(join(tampered, last));
    buf[Math.floor(buf.length / 2)] ^= 0xff;
    writeFileSync(join(tampered, last), buf);
    const name = last.replace(/[.]/g, '\\.');
    await check(tampered, new RegExp(`${name}: stored sha256 .* its manifest says`), new RegExp(`${name}: stored sha256 .*nothing was written`), 1);

    const missing = copy('missing');
    rmSync(join(missing, last));
    await check(missing, new RegExp(`${name}: object missing`), new RegExp(`${name}: object missing`), 1);

    const hole = copy('hole');
    rmSync(join(hole, last));
    rmSync(join(hole, last.replace(/\.aof\.gz$/, '.manifest.json')));
    await check(hole, new RegExp(`hole in the stream: offsets \\d+\\.\\.\\d+ are missing .*before ${segs(hole).at(-1)!.replace(/[.]/g, '\\.')}`), /the archive has a defect: chain .* hole in the stream/, 5);

    // Two segments' objects swapped: each fails its manifest's checksum.
    const swapped = copy('swapped');
    const [a, b] = segs(swapped).slice(-3, -1) as [string, string];
    renameSync(join(swapped, a), join(swapped, 'x'));
    renameSync(join(swapped, b), join(swapped, a));
    renameSync(join(swapped, 'x'), join(swapped, b));
    const swappedRe = (o: string) => new RegExp(`${o.replace(/[.]/g, '\\.')}: (\\d+ bytes, its manifest says \\d+|stored sha256 .* its manifest says)`);
    await check(swapped, swappedRe(b), /\.aof\.gz: (\d+ bytes, its manifest says \d+ \(damaged or tampered\)|stored sha256 .*\(damaged, tampered or swapped\)); nothing was written/, 1);

    // Objects and manifests renamed to each other's place: the manifests no longer match their names.
    const reordered = copy('reordered');
    const mf = (s: string) => s.replace(/\.aof\.gz$/, '.manifest.json');
    for (const [x, y] of [[a, b], [mf(a), mf(b)]] as const) {
      renameSync(join(reordered, x), join(reordered, 'x'));
      renameSync(join(reordered, y), join(reordered, x));
      renameSync(join(reordered, 'x'), join(reordered, y));
    }
    const mfa = mf(a).replace(/[.]/g, '\\.');
    await check(reordered, /manifest names object .* which is not its own/, new RegExp(`(${mfa}|${mf(b).replace(/[.]/g, '\\.')}): manifest names object`), 1);
    nodeClient.close();
  }, 240_000);
});
