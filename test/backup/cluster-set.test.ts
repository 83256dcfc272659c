import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/restore/hash-slot.js';
import { readBackup } from '../../src/restore/plan.js';
import { ClusterClient, clusterMasters, startCluster } from '../helpers/redis-cluster.js';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

// Issue 15: cluster-wide backup sets. One 3-master + 3-replica source cluster is shared by every
// case (the topology-changing ones, reshard and failover, run last), restored onto a fresh
// 4-master and a 2-master cluster.

interface SetJson {
  ok: boolean;
  exitCode: number;
  object: string | null;
  error?: string;
  set: {
    shards: Array<{ index: number; slots: Array<[number, number]>; source: { address: string; role: string }; keys: number; attempts: number; object: string; droppedKeys: number }>;
    keys: { total: number };
    pause: { requestedMs: number; usedMs: number; from: string; until: string } | null;
    consistency: string;
    snapshotSpreadMs: number;
    migratingSlots: Array<[number, number]>;
  } | null;
  shards: Array<{ index: number; ok: boolean; error?: string; attempts: number }>;
  targets: Array<{ target: string; ok: boolean }>;
}

const STATIC = 3000;
const PASS = { TSREDIS_PASSPHRASE: 'cluster-set-test-passphrase' };
let src: TestRedis[];
let four: TestRedis[];
let two: TestRedis[];
let work: string;
let cc: ClusterClient;
let s3: TestS3;
const ttlOf = new Map<string, number>();

async function fill(client: ClusterClient, prefix: string, n: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async (_, j) => {
        const k = `${prefix}${i + j}`;
        const kind = (i + j) % 5;
        if (kind === 0) await client.call('SET', k, `value-${i + j}`);
        else if (kind === 1) await client.call('HSET', k, 'a', '1', 'b', String(i + j));
        else if (kind === 2) await client.call('RPUSH', k, 'x', 'y', String(i + j));
        else if (kind === 3) await client.call('SADD', k, 'm1', 'm2', String(i + j));
        else await client.call('ZADD', k, '1.5', 'z', String(i + j), 'w');
        if ((i + j) % 3 === 0) {
          const at = now + 86_400_000 + (i + j) * 1000;
          await client.call('PEXPIREAT', k, at);
          ttlOf.set(k, at);
        }
      }),
    );
  }
}

/** Every key on the cluster's masters. */
async function keysOf(nodes: TestRedis[]): Promise<string[]> {
  const out: string[] = [];
  for (const m of await clusterMasters(nodes)) {
    const c = await m.client();
    out.push(...((await c.call('KEYS', '*')) as Buffer[]).map((b) => b.toString()));
    c.close();
  }
  return out.sort();
}

async function flushAll(nodes: TestRedis[]): Promise<void> {
  for (const m of await clusterMasters(nodes)) {
    const c = await m.client();
    await c.call('FLUSHALL');
    c.close();
  }
}

/** A writer issuing one write at a time (SET seq:<i>), each awaited, recording when it was sent and answered. */
function sequentialWriter(client: ClusterClient, prefix: string) {
  const log: Array<{ i: number; sent: number; done: number }> = [];
  const errors: string[] = [];
  let stop = false;
  const running = (async () => {
    for (let i = 1; !stop; i++) {
      const sent = Date.now();
      try {
        await client.call('SET', `${prefix}${i}`, String(i), 'PX', 3_600_000);
      } catch (e) {
        errors.push(String(e));
      }
      log.push({ i, sent, done: Date.now() });
    }
  })();
  return {
    log,
    errors,
    async stop() {
      stop = true;
      await running;
    },
  };
}

async function backup(args: string[], env: Record<string, string> = PASS): Promise<{ code: number; json: SetJson; stderr: string }> {
  const r = await cli(['backup', ...args, '--json'], { env });
  let json: SetJson;
  try {
    json = JSON.parse(r.stdout) as SetJson;
  } catch {
    throw new Error(`backup printed no JSON (exit ${r.code}): ${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-cluster-set-'));
  // repl-diskless-sync-delay 0: masters fork for a sync at once (the 5 s default would set the floor of any write pause).
  const config = { 'repl-diskless-sync-delay': 0 };
  [src, four, two, s3] = await Promise.all([startCluster(3, { replicas: 1, config }), startCluster(4, { config }), startCluster(2, { config }), startS3()]);
  cc = await ClusterClient.open(src[0]!);
  await fill(cc, 'k:', STATIC);
}, 180_000);

afterAll(async () => {
  await cc?.close();
  await s3?.destroy();
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('backup --cluster: one set for every shard', { timeout: 180_000 }, () => {
  it('a set taken under write load restores onto a 4-master and a 2-master cluster: every key with its TTL (--verify), nothing else', async () => {
    const store = join(work, 'load');
    const load = sequentialWriter(cc, 'load:');
    try {
      await new Promise((r) => setTimeout(r, 200));
      const env = { ...PASS, ...s3.env, AWS_ENDPOINT_URL: s3.endpoint };
      const { code, json, stderr } = await backup(['--from', `cluster:${src[0]!.url}`, '--to', store, '--to', 's3://backups/load', '--s3-path-style', '--name', 'app', '--prefer-replica'], env);
      await load.stop();
      expect(code, stderr).toBe(0);
      expect(load.errors).toEqual([]);
      const set = json.set!;
      expect(set.shards).toHaveLength(3);
      expect(set.shards.every((s) => s.source.role === 'replica')).toBe(true);
      expect(set.shards.reduce((a, s) => a + s.keys, 0)).toBe(set.keys.total);
      expect(set.consistency).toBe('per-shard');
      // Slot ranges cover 0-16383 once.
      const covered = set.shards.flatMap((s) => s.slots).sort((a, b) => a[0] - b[0]);
      expect(covered[0]![0]).toBe(0);
      expect(covered.at(-1)![1]).toBe(16383);
      const loadInSet = set.keys.total - STATIC;
      expect(loadInSet).toBeGreaterThan(0);
      expect(loadInSet).toBeLessThanOrEqual(load.log.length);

      expect(json.targets.map((t) => t.ok)).toEqual([true, true]);
      const listed = await cli(['list', '--target', 's3://backups/load', '--s3-path-style'], { env });
      expect(listed.stdout).toMatch(/1 backup\(s\)[\s\S]*cluster set of 3 shards/);
      // The 4-master cluster from the S3 copy, the 2-master one from the directory.
      for (const [target, from] of [[four, 's3://backups/load'], [two, store]] as const) {
        const r = await cli(['restore', '--from', from, '--s3-path-style', '--latest', '--to', target[0]!.url, '--verify', '--json', '--quiet'], { env });
        expect(r.code, r.stderr).toBe(0);
        const rep = JSON.parse(r.stdout) as { verify: { ok: boolean; checked: number }; total: { keys: number; onTarget: number } };
        expect(rep.verify.ok).toBe(true);
        expect(rep.verify.checked).toBe(set.keys.total);
        const keys = await keysOf(target);
        // Nothing else: exactly the set's keys, every static key among them with its TTL.
        expect(keys.length).toBe(set.keys.total);
        expect(keys.filter((k) => k.startsWith('k:')).length).toBe(STATIC);
        expect(keys.filter((k) => k.startsWith('load:')).length).toBe(loadInSet);
        const tc = await ClusterClient.open(target[0]!);
        for (const k of ['k:0', 'k:3', 'k:2997']) expect(Number(await tc.call('PEXPIRETIME', k))).toBe(ttlOf.get(k));
        expect(Number(await tc.call('PEXPIRETIME', 'k:1'))).toBe(-1);
        await tc.close();
      }
    } finally {
      await load.stop();
      await flushAll(four);
      await flushAll(two);
      for (const k of load.log) await cc.call('DEL', `load:${k.i}`);
    }
  });

  it('--pause-writes: writes issued during the pause complete after it, and the set is the cluster at the pause', async () => {
    const store = join(work, 'pause');
    const w = sequentialWriter(cc, 'seq:');
    try {
      await new Promise((r) => setTimeout(r, 300));
      const { code, json, stderr } = await backup(['--from', `cluster:${src[0]!.url}`, '--to', store, '--name', 'paused', '--pause-writes', '5000', '--prefer-replica']);
      await new Promise((r) => setTimeout(r, 200));
      await w.stop();
      expect(code, stderr).toBe(0);
      expect(w.errors).toEqual([]);
      const set = json.set!;
      expect(set.consistency).toBe('paused-instant');
      expect(set.pause!.requestedMs).toBe(5000);
      expect(set.pause!.usedMs).toBeGreaterThan(0);
      expect(set.pause!.usedMs).toBeLessThan(5000);
      expect(stderr).toMatch(/snapshot started \d+ ms into the pause/);

      const r = await cli(['restore', '--from', store, '--latest', '--to-dir', join(work, 'pause-dirs'), '--json', '--quiet'], { env: PASS });
      expect(r.code, r.stderr).toBe(0);
      const seq: number[] = [];
      for (const s of set.shards) {
        for await (const recs of readBackup(join(work, 'pause-dirs', `shard-${s.index}`, 'dump.rdb'))) {
          for (const rec of recs) if (rec.kind === 'key' && rec.entry.key.toString().startsWith('seq:')) seq.push(Number(rec.entry.key.toString().slice(4)));
        }
      }
      seq.sort((a, b) => a - b);
      // One instant of the whole cluster: the writes 1..k and no later one, whichever shard each went to.
      const k = seq.length;
      expect(k).toBeGreaterThan(0);
      expect(seq).toEqual(Array.from({ length: k }, (_, i) => i + 1));
      expect(w.log.length).toBeGreaterThan(k + 1);
      // Writes sent once every master was paused waited (none refused) and completed only after the release.
      const from = Date.parse(set.pause!.from);
      const until = Date.parse(set.pause!.until);
      for (const e of w.log.filter((x) => x.sent > from && x.sent < until)) expect(e.done).toBeGreaterThanOrEqual(until);
      // The write in flight when writes resumed had been held by the pause.
      expect(w.log.filter((x) => x.sent < until && x.done >= until).length).toBeGreaterThanOrEqual(1);
    } finally {
      await w.stop();
      for (const e of w.log) await cc.call('DEL', `seq:${e.i}`);
    }
  });

  it('--pause-writes shorter than repl-diskless-sync-delay or with --parallel below the shard count is refused; one the forks outlast fails the set', async () => {
    const bad = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'nopause'), '--pause-writes', '500', '--parallel', '1']);
    expect(bad.code).toBe(2);
    const c = await src[0]!.client();
    await c.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '5');
    const short = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'nopause'), '--pause-writes', '500']);
    await c.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
    c.close();
    expect(short.code).toBe(2);
    expect(short.json.error).toMatch(/repl-diskless-sync-delay \(5 s\)/);
    // A pause too short for the forks: not one instant, so no set.
    const late = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'nopause'), '--pause-writes', '1']);
    expect(late.code, late.stderr).toBe(3);
    expect(late.json.error).toMatch(/past --pause-writes 1: not one instant/);
    expect(existsSync(join(work, 'nopause')) ? readdirSync(join(work, 'nopause')) : []).toEqual([]);
  });

  it('a node of the cluster without --cluster or --shard-only: exit 5 naming the other shards, nothing stored', async () => {
    const to = join(work, 'refused');
    const r = await cli(['backup', '--from', src[1]!.url, '--to', to, '--no-encrypt']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/the other shards: .*slots \d+-\d+/);
    expect(r.stderr).toMatch(/--cluster/);
    expect(existsSync(to) ? readdirSync(to) : []).toEqual([]);
    const snap = await cli(['snapshot', '--master', src[1]!.url, '-o', join(work, 'refused.rdb')]);
    expect(snap.code, snap.stderr).toBe(5);
    expect(snap.stderr).toMatch(/the other shards: .*--cluster/);
    expect(existsSync(join(work, 'refused.rdb'))).toBe(false);
  });

  it('snapshot --master cluster:… -o DIR: one plain RDB per shard, every key once, readable as a set', async () => {
    const dir = join(work, 'snap');
    const r = await cli(['snapshot', '--master', `cluster:${src[0]!.url}`, '-o', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as SetJson;
    const rdbs = readdirSync(dir).filter((f) => f.endsWith('.rdb'));
    expect(rdbs).toHaveLength(3);
    let total = 0;
    for (const f of rdbs) for await (const recs of readBackup(join(dir, f))) total += recs.filter((x) => x.kind === 'key').length;
    expect(total).toBe(STATIC);
    expect(out.set!.keys.total).toBe(STATIC);
    const list = await cli(['list', '--target', dir]);
    expect(list.stdout).toMatch(/cluster set of 3 shards/);
  });

  it('config file keys; list, verify --deep, prune and restore --to-dir treat a set as one backup; shard files without a set manifest are swept', async () => {
    const store = join(work, 'cfg');
    const cfg = join(work, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ name: 'cfgset', from: src[0]!.url, cluster: true, preferReplica: true, parallel: 2, to: store, encryption: 'none' }));
    for (const at of ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']) {
      const r = await backup(['--config', cfg, '--taken-at', at], {});
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.set!.shards.every((s) => s.source.role === 'replica')).toBe(true);
    }
    const list = await cli(['list', '--target', store]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/2 backup\(s\)/);
    expect(list.stdout.match(/cluster set of 3 shards/g)).toHaveLength(2);
    expect(list.stdout).not.toMatch(/no manifest/);

    const deep = await cli(['verify', '--target', store, '--all', '--deep', '--json']);
    expect(deep.code, deep.stderr).toBe(0);
    const vr = JSON.parse(deep.stdout) as { results: Array<{ ok: boolean; shards: Array<{ ok: boolean; checked: string[] }> }> };
    expect(vr.results).toHaveLength(2);
    expect(vr.results.every((x) => x.ok && x.shards.length === 3 && x.shards.every((s) => s.checked.includes('RDB parsed (CRC-64 ok)')))).toBe(true);
    // One damaged shard makes the set fail verification, naming that shard's object.
    const victim = join(store, 'cfgset-20260102T000000Z.shard1.rdb.gz');
    const good = readFileSync(victim);
    const bad = Buffer.from(good);
    bad[bad.length - 20]! ^= 0xff;
    writeFileSync(victim, bad);
    const failed = await cli(['verify', '--target', store, 'cfgset-20260102T000000Z']);
    expect(failed.code).toBe(1);
    expect(failed.stderr + failed.stdout).toMatch(/shard1\.rdb\.gz/);
    writeFileSync(victim, good);
    // A set manifest that disagrees with a shard's own manifest fails too.
    const setPath = join(store, 'cfgset-20260102T000000Z.set.json');
    const setText = readFileSync(setPath, 'utf8');
    const tampered = JSON.parse(setText) as { shards: Array<{ keys: number }> };
    tampered.shards[0]!.keys += 1;
    writeFileSync(setPath, JSON.stringify(tampered));
    const disagree = await cli(['verify', '--target', store, 'cfgset-20260102T000000Z.set.json']);
    expect(disagree.code).toBe(1);
    expect(disagree.stderr + disagree.stdout).toMatch(/shard #0 is .* its manifest says/);
    writeFileSync(setPath, setText);

    // Leftovers of a killed set run: shard files with no set manifest, a day old.
    const stale = 'cfgset-20250101T000000Z.shard0';
    writeFileSync(join(store, `${stale}.rdb.gz`), 'partial');
    writeFileSync(join(store, `${stale}.manifest.json`), '{}');
    const old = new Date(Date.now() - 86_400_000);
    for (const f of [`${stale}.rdb.gz`, `${stale}.manifest.json`]) utimesSync(join(store, f), old, old);
    const listed = await cli(['list', '--target', store, '--json']);
    expect((JSON.parse(listed.stdout) as { backups: unknown[] }).backups).toHaveLength(2);

    const prune = await cli(['prune', '--target', store, '--keep-last', '1', '--json']);
    expect(prune.code, prune.stderr).toBe(0);
    const pr = JSON.parse(prune.stdout) as { removed: string[]; leftovers: string[] };
    expect(pr.removed).toEqual(['cfgset-20260101T000000Z.set.json']);
    expect(pr.leftovers.join(' ')).toMatch(/shard of a set without a set manifest/);
    const left = readdirSync(store).sort();
    expect(left.filter((f) => f.includes('20260101'))).toEqual([]);
    expect(left.filter((f) => f.includes('20250101'))).toEqual([]);
    expect(left.filter((f) => f.includes('20260102'))).toHaveLength(7); // 3 objects, 3 manifests, the set manifest

    const dir = join(work, 'cfg-dirs');
    const r = await cli(['restore', '--from', store, '--backup', 'cfgset', '--to-dir', dir, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
    const set = JSON.parse(readFileSync(join(store, 'cfgset-20260102T000000Z.set.json'), 'utf8')) as NonNullable<SetJson['set']>;
    let total = 0;
    for (const s of set.shards) {
      expect(readme).toMatch(new RegExp(`shard-${s.index}  ${s.slots.map(([a, b]) => `${a}-${b}`).join(',')}`));
      for await (const recs of readBackup(join(dir, `shard-${s.index}`, 'dump.rdb'))) {
        for (const rec of recs) {
          if (rec.kind !== 'key') continue;
          const slot = keySlot(rec.entry.key);
          expect(s.slots.some(([a, b]) => slot >= a && slot <= b)).toBe(true);
          total++;
        }
      }
    }
    expect(total).toBe(STATIC);

    // A set onto one standalone node: every shard's keys, checked key by key and counted.
    const single = await startRedis();
    const one = await cli(['restore', '--from', store, '--latest', '--to', single.url, '--verify', '--json', '--quiet']);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { total: { onTarget: number }; verify: { ok: boolean; checked: number } }).verify).toMatchObject({ ok: true, checked: STATIC });
    const sc = await single.client();
    expect(Number(await sc.call('DBSIZE'))).toBe(STATIC);
    sc.close();
    await single.stop();
  });

  it('without CLUSTER SHARDS (before Redis 7; here refused by an ACL) the shards come from CLUSTER NODES', async () => {
    const c = await src[0]!.client();
    await c.call('ACL', 'SETUSER', 'default', '-cluster|shards');
    const r = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'nodes'), '--name', 'nodes', '--no-encrypt', '--prefer-replica']);
    await c.call('ACL', 'SETUSER', 'default', '+cluster|shards');
    c.close();
    expect(r.code, r.stderr).toBe(0);
    const set = r.json.set as NonNullable<SetJson['set']> & { source: { discoveredWith: string } };
    expect(set.source.discoveredWith).toBe('CLUSTER NODES');
    expect(set.shards.every((s) => s.source.role === 'replica')).toBe(true);
    expect(set.keys.total).toBe(STATIC);
  });

  it('a target that cannot store the shards misses the set; the others get it (exit 3)', async () => {
    const good = join(work, 'two-targets');
    const r = await backup(['--from', `cluster:${src[0]!.url}`, '--to', good, '--to', '/dev/null/not-a-dir', '--name', 'split', '--no-encrypt']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json.targets.map((t) => t.ok)).toEqual([true, false]);
    const list = await cli(['list', '--target', good, '--json']);
    const listed = JSON.parse(list.stdout) as { backups: Array<{ object: string }>; incomplete: string[] };
    expect(listed.backups.map((b) => b.object)).toEqual([r.json.object]);
    expect(listed.incomplete).toEqual([]);
  });

  it('a shard whose source keeps failing fails the set, naming the shard; no file of the set is left', async () => {
    const store = join(work, 'failing');
    const masters = await clusterMasters(src);
    const victim = await masters[1]!.client();
    // Each try of that shard is slowed (the fork child sleeps per key) and its link killed.
    await victim.call('CONFIG', 'SET', 'rdb-key-save-delay', '2000');
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await victim.send('CLIENT', 'KILL', 'TYPE', 'replica');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await backup(['--from', `cluster:${src[0]!.url}`, '--to', store, '--name', 'failing']);
    killing = false;
    await killer;
    await victim.call('CONFIG', 'SET', 'rdb-key-save-delay', '0');
    victim.close();
    expect(r.code, r.stderr).toBe(3);
    expect(r.json.ok).toBe(false);
    const port = masters[1]!.port;
    expect(r.json.error).toMatch(new RegExp(`shard #\\d+ \\(slots [0-9-]+\\): 127\\.0\\.0\\.1:${port}`));
    const failedShard = r.json.shards.find((s) => !s.ok)!;
    expect(failedShard.attempts).toBe(3);
    expect(existsSync(store) ? readdirSync(store).filter((f) => !f.startsWith('.')) : []).toEqual([]);
  });

  it('keys a node holds outside its slots are left out of its shard (the RDB is rewritten, and a real Redis loads it)', async () => {
    const masters = await clusterMasters(src);
    const holder = masters[0]!;
    const hc = await holder.client();
    const ownerId = async (slot: number): Promise<string> => {
      const lines = (await hc.text('CLUSTER', 'NODES')).split('\n').filter((l) => l.includes('master'));
      return lines.find((l) => l.split(' ').slice(8).some((r) => { const [a, b] = r.split('-').map(Number); return slot >= a! && slot <= (b ?? a)!; }))!.split(' ')[0]!;
    };
    const myId = await hc.text('CLUSTER', 'MYID');
    let key = '';
    for (let i = 0; ; i++) {
      key = `stray:${i}`;
      if ((await ownerId(keySlot(Buffer.from(key)))) !== myId) break;
    }
    const slot = keySlot(Buffer.from(key));
    const owner = await ownerId(slot);
    // A key left behind in a slot the node does not serve (an import given up half way).
    const strayOp = async (...cmd: string[]): Promise<void> => {
      await hc.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', owner);
      await hc.call('ASKING');
      await hc.call(...cmd);
      await hc.call('CLUSTER', 'SETSLOT', slot, 'STABLE');
    };
    await strayOp('SET', key, 'not mine');
    const own = Number(await hc.call('DBSIZE')) - 1;
    const store = join(work, 'stray');
    const { code, json, stderr } = await backup(['--from', `cluster:${holder.url}`, '--to', store, '--name', 'stray', '--no-encrypt']);
    await strayOp('DEL', key);
    hc.close();
    expect(code, stderr).toBe(0);
    const shard = json.set!.shards.find((s) => s.source.address === `127.0.0.1:${holder.port}`)!;
    expect(shard.droppedKeys).toBe(1);
    expect(shard.keys).toBe(own);
    expect(json.set!.keys.total).toBe(STATIC);
    const deep = await cli(['verify', '--target', store, '--deep']);
    expect(deep.code, deep.stderr).toBe(0);
    const dir = join(work, 'stray-dirs');
    expect((await cli(['restore', '--from', store, '--latest', '--to-dir', dir, '--quiet'])).code).toBe(0);
    const plain = await startRedis({ dir: join(dir, `shard-${shard.index}`) });
    const pc = await plain.client();
    expect(Number(await pc.call('DBSIZE'))).toBe(own);
    expect(await pc.call('EXISTS', key)).toBe(0);
    pc.close();
    await plain.stop();
  });

  it('a slot migration (redis-cli --cluster reshard) during the backup: no key lost or doubled', async () => {
    const masters = await clusterMasters(src);
    const ids = await Promise.all(
      masters.slice(0, 2).map(async (m) => {
        const c = await m.client();
        const id = await c.text('CLUSTER', 'MYID');
        c.close();
        return id;
      }),
    );
    const reshard = (): ChildProcess =>
      spawn('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${masters[0]!.port}`, '--cluster-from', ids[0]!, '--cluster-to', ids[1]!, '--cluster-slots', '1500', '--cluster-yes'], { stdio: 'ignore' });
    const running = (p: ChildProcess): Promise<number> => new Promise((res) => p.on('exit', (c) => res(c ?? -1)));

    // Without a pause, slots moving between the shards' snapshots fail the set: nothing stored.
    const p1 = reshard();
    const exited1 = running(p1);
    await new Promise((r) => setTimeout(r, 300));
    const plain = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'reshard-plain'), '--name', 'rs']);
    expect(await exited1).toBe(0);
    if (plain.code === 0) {
      expect(plain.json.set!.keys.total).toBe(STATIC);
    } else {
      expect(plain.code).toBe(3);
      expect(plain.json.error).toMatch(/were migrating between the shards' snapshots/);
      expect(readdirSync(join(work, 'reshard-plain')).filter((f) => !f.startsWith('.'))).toEqual([]);
    }

    // With --pause-writes (no MIGRATE runs in the pause): the set completes with every key once.
    // (redis-cli refuses to reshard until every node agrees on the first reshard's outcome.)
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['--cluster', 'check', `127.0.0.1:${masters[0]!.port}`]).status !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    const p2 = spawn('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${masters[0]!.port}`, '--cluster-from', ids[1]!, '--cluster-to', ids[0]!, '--cluster-slots', '1500', '--cluster-yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out2 = '';
    p2.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
    p2.stderr!.on('data', (d: Buffer) => (out2 += d.toString()));
    const exited2 = running(p2);
    await new Promise((r) => setTimeout(r, 300));
    const paused = await backup(['--from', `cluster:${src[0]!.url}`, '--to', join(work, 'reshard-paused'), '--name', 'rs', '--pause-writes', '3000']);
    expect(await exited2).toBe(0);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.json.set!.keys.total).toBe(STATIC);
    const r = await cli(['restore', '--from', join(work, 'reshard-paused'), '--latest', '--to', four[0]!.url, '--verify', '--json', '--quiet'], { env: PASS });
    expect(r.code, r.stderr).toBe(0);
    const keys = await keysOf(four);
    expect(keys.length).toBe(STATIC);
    expect(new Set(keys).size).toBe(STATIC);
    await flushAll(four);
  });

  it('CLUSTER FAILOVER of one shard during the backup (the old master then drops our link): the set completes from the new owner', async () => {
    const masters = await clusterMasters(src);
    const oldMaster = masters[0]!;
    const om = await oldMaster.client();
    const myId = await om.text('CLUSTER', 'MYID');
    // The old master's snapshot would take ~5 s (its fork child sleeps per key): the failover lands inside it.
    await om.call('CONFIG', 'SET', 'rdb-key-save-delay', '5000');
    let replica: TestRedis | undefined;
    for (const n of src) {
      const c = await n.client();
      const nodes = await c.text('CLUSTER', 'NODES');
      if (nodes.split('\n').some((l) => l.includes('myself') && l.includes(`slave ${myId}`))) replica = n;
      c.close();
    }
    expect(replica).toBeDefined();
    const store = join(work, 'failover');
    const running = backup(['--from', `cluster:${src[2]!.url}`, '--to', store, '--name', 'fo']);
    // Fail over once our sync is on the old master (its real replica plus our link).
    for (let i = 0; i < 200 && Number((await om.info('replication')).connected_slaves) < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(Number((await om.info('replication')).connected_slaves)).toBe(2);
    const rc = await replica!.client();
    await rc.call('CLUSTER', 'FAILOVER');
    rc.close();
    for (let i = 0; i < 100 && (await om.info('replication')).role !== 'slave'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await om.info('replication')).role).toBe('slave');
    // A demoted master may keep serving a transfer it started: drop it, as a restart would.
    await om.call('CLIENT', 'KILL', 'TYPE', 'replica');
    const { code, json, stderr } = await running;
    await om.call('CONFIG', 'SET', 'rdb-key-save-delay', '0');
    om.close();
    expect(code, stderr).toBe(0);
    expect(json.set!.keys.total).toBe(STATIC);
    const moved = json.set!.shards.filter((s) => s.attempts > 1);
    expect(moved).toHaveLength(1);
    expect(moved[0]!.source).toMatchObject({ address: `127.0.0.1:${replica!.port}`, role: 'master' });
    expect(stderr).toMatch(/asking the cluster for the shard's owner again/);
    const r = await cli(['restore', '--from', store, '--latest', '--to', two[0]!.url, '--verify', '--json', '--quiet'], { env: PASS });
    expect(r.code, r.stderr).toBe(0);
    expect((await keysOf(two)).length).toBe(STATIC);
  });
});
