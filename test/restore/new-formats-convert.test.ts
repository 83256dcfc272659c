import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDump } from '../../src/codec/rdb/dump.js';
import type { RdbKey } from '../../src/codec/rdb/model.js';
import { RdbDecoder } from '../../src/codec/rdb/reader.js';
import { prepareKey } from '../../src/restore/prepare-key.js';
import { ByteSource } from '../../src/util/byte-source.js';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';

/**
 * RDB 14/15 data converted by `restore --to-dir` for older nodes: what RDB 10 can hold loads in the
 * real redis-server 7.0 and gives the DEBUG DIGEST of the same data written there natively (the
 * fixture's own RESP rendering, sent with redis-cli --pipe); what it cannot hold (arrays, NACK
 * zones, stream IDMP state, Valkey UPDATE commands) is refused without --lossy and named with it.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIX = join(ROOT, 'fixtures/rdb-new');
const work = mkdtempSync(join(tmpdir(), 'tsredis-newconv-'));
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let n = 0;
/** restore --to-dir into a fresh directory; returns it with the CLI result. */
function convert(fixture: string, version: number, lossy: boolean) {
  const dir = join(work, `out-${n++}`);
  const r = cli('restore', join(FIX, `${fixture}.rdb`), '--to-dir', dir, '--rdb-version', String(version), ...(lossy ? ['--lossy'] : []));
  return { dir, ...r };
}
/** Converting `fixture` to RDB 10 fails naming `refusal`; with --lossy it succeeds, naming each of `dropped`. */
function refusedThenLossy(fixture: string, refusal: string, dropped: string[]) {
  const refused = convert(fixture, 10, false);
  expect(refused.code).not.toBe(0);
  expect(refused.err).toContain(refusal);
  const r = convert(fixture, 10, true);
  expect(r.code, r.err).toBe(0);
  for (const d of dropped) expect(r.err).toContain(`dropped (--lossy): ${d}`);
  return r;
}
async function loaded(dir: string): Promise<TestRedis> {
  return startRedis({ dir, config: { dbfilename: 'dump.rdb' } });
}
/** A 7.0 server holding `commands` (RESP, as rdb-dump --format resp prints them) written natively. */
async function native(commands: Buffer): Promise<TestRedis> {
  const s = await startRedis();
  const r = spawnSync('redis-cli', ['-p', String(s.port), '--pipe'], { input: commands, encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toMatch(/errors: 0, replies: \d+/);
  return s;
}
async function call(s: TestRedis, ...argv: string[]): Promise<unknown> {
  const c = await s.client();
  try {
    return await c.call(...argv);
  } finally {
    c.close();
  }
}

describe('restore --to-dir of RDB 14/15 data for Redis 7.0 (RDB 10)', () => {
  it('hash templates (RDB 15) become plain hashes: no loss, same digest as the same hashes written natively', async () => {
    const r = convert('hash_template_v15', 10, false);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('dropped');
    const a = await loaded(r.dir);
    const b = await native(readFileSync(join(FIX, 'hash_template_v15.resp')));
    expect(await call(a, 'DBSIZE')).toBe(5);
    expect(await debugDigest(a)).toBe(await debugDigest(b));
    expect(await debugDigest(a)).not.toBe('0000000000000000000000000000000000000000');
    await a.stop();
    await b.stop();
    // RDB 11 and 12 (7.2 / 7.4, not loadable by 7.0): the same keys and values read back.
    for (const v of [11, 12]) {
      const c = convert('hash_template_v15', v, false);
      expect(c.code, c.err).toBe(0);
      const dump = cli('rdb-dump', join(c.dir, 'dump.rdb'));
      expect(dump.out).toBe(readFileSync(join(FIX, 'hash_template_v15.jsonl'), 'utf8'));
      expect(cli('rdb-check', join(c.dir, 'dump.rdb')).out).toContain(`REDIS RDB version ${v}`);
    }
  }, 60_000);

  it('a stream with a NACK zone (RDB 14): refused without --lossy; with it the NACKed entries and IDMP state are named and the rest loads', async () => {
    const r = refusedThenLossy('stream_xnack_v14', 'use --lossy', [
      'db 0 "s1": 2 NACKed pending entries of stream consumer groups (RDB 14 NACK zone)',
      'db 0 "s1": stream idempotent-producer (IDMP) state',
    ]);
    const a = await loaded(r.dir);
    // Natively: the entries, the group and alice's two pending entries (no command NACKs an entry).
    const b = await native(readFileSync(join(FIX, 'stream_xnack_v14.resp')));
    expect(await debugDigest(a)).toBe(await debugDigest(b));
    // [id, consumer, delivery count] of each pending entry (the idle time moves with the clock).
    const pending = async (s: TestRedis) => ((await call(s, 'XPENDING', 's1', 'mygroup', '-', '+', '10')) as unknown[][]).map((e) => [String(e[0]), String(e[1]), e[3]]);
    expect(await pending(a)).toEqual(await pending(b));
    expect(await pending(a)).toEqual([['1700000000000-0', 'alice', 1], ['1700000000000-3', 'alice', 1]]);
    await a.stop();
    await b.stop();
  }, 60_000);

  it('arrays (RDB 14): refused without --lossy; with it each array key is named as dropped and the other keys load', async () => {
    const r = refusedThenLossy(
      'array_v14',
      'key "arr:basic" (db 0): RDB 10 cannot represent an array value (RDB 14, Redis 8.8+); use --lossy to drop it',
      ['arr:basic', 'arr:mixed', 'arr:sparse', 'arr:edge'].map((k) => `db 0 "${k}": an array value (RDB 14, Redis 8.8+) (key dropped)`),
    );
    const a = await loaded(r.dir);
    const b = await native(Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nplain\r\n$6\r\nstring\r\n'));
    expect(await call(a, 'DBSIZE')).toBe(1);
    expect(await debugDigest(a)).toBe(await debugDigest(b));
    await a.stop();
    await b.stop();
  }, 60_000);

  it('Valkey 81 path hashes (no Redis type holds one): refused at RDB 12, 11 and 10; with --lossy each is named and the rest loads in 7.0 as written natively', async () => {
    const ph = ['ph:1', 'ph:empty', 'ph:ttl'];
    for (const v of [12, 11]) {
      const refused = convert('valkey_081_path_hash', v, false);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`key "ph:1" (db 0): RDB ${v} cannot represent a Valkey path hash (VALKEY081, Valkey 9.2+); use --lossy to drop it`);
      const c = convert('valkey_081_path_hash', v, true);
      expect(c.code, c.err).toBe(0);
      expect(cli('rdb-check', join(c.dir, 'dump.rdb')).out).toContain(`REDIS RDB version ${v}`);
      expect(cli('rdb-dump', join(c.dir, 'dump.rdb')).out).toBe('{"db":0,"key":"k1","type":"string","expire_at_ms":null,"value":"v1"}\n');
    }
    const r = refusedThenLossy(
      'valkey_081_path_hash',
      'key "ph:1" (db 0): RDB 10 cannot represent a Valkey path hash (VALKEY081, Valkey 9.2+); use --lossy to drop it',
      ph.map((k) => `db 0 "${k}": a Valkey path hash (VALKEY081, Valkey 9.2+) (key dropped)`),
    );
    const a = await loaded(r.dir);
    const b = await native(Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n'));
    expect(await call(a, 'DBSIZE')).toBe(1);
    expect(await debugDigest(a)).toBe(await debugDigest(b));
    await a.stop();
    await b.stop();
  }, 60_000);

  it('Valkey 81 UPDATE commands cannot be replayed into an older file: refused, and named with --lossy', () => {
    const r = refusedThenLossy('valkey_081_update', 'cannot represent a Valkey forkless-save UPDATE command (SET, at byte', []);
    expect(r.err).toMatch(/dropped \(--lossy\): db 0 a Valkey forkless-save UPDATE command \(DEL, at byte \d+\) \(not applied\)/);
  });
});

/** The fixture's keys as restore reads them (raw mode). */
async function rawKeys(fixture: string): Promise<{ version: number; keys: RdbKey[] }> {
  const file = join(FIX, `${fixture}.rdb`);
  const dec = new RdbDecoder(ByteSource.fromBuffer(readFileSync(file), file), { raw: true });
  const keys: RdbKey[] = [];
  let version = 0;
  for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) {
    for (const r of b) {
      if (r.kind === 'header') version = r.version;
      if (r.kind === 'key') keys.push({ ...r.entry, raw: Buffer.from(r.entry.raw!) });
    }
  }
  return { version, keys };
}

describe('restore --to a running node: DUMP payloads as stored for a node of the same version, re-encoded for older', () => {
  it('a node of the same version gets the stored bytes; a _REF template hash is re-encoded (its bytes need the template section)', async () => {
    for (const [fixture, target] of [['array_v14', 14], ['hash_template_v15', 15]] as const) {
      const { version, keys } = await rawKeys(fixture);
      for (const k of keys) {
        const p = await prepareKey(k, { sourceRdb: version, targetRdb: target, lossy: false, bigKeyBytes: 1 << 20, now: 0 });
        expect(p.kind, k.key.toString()).toBe('payload');
        if (p.kind !== 'payload') continue;
        const d = await decodeDump(p.payload);
        const ref = k.rdbType === 30 || k.rdbType === 32;
        // Stored bytes framed with the source version, or (REF) a plain hash encoding of the same value.
        expect(d.version).toBe(version);
        if (!ref) expect(p.payload.subarray(1, p.payload.length - 10).equals(k.raw!), k.key.toString()).toBe(true);
        else expect([16, 4]).toContain(d.rdbType);
        if (k.value) expect(d.value).toEqual(k.value);
      }
    }
  });

  it('Redis 7.0: template hashes (re-encoded) give the native digest, arrays are refused or skipped with --lossy, NACK zones dropped with --lossy', async () => {
    const online = async (fixture: string, lossy: boolean) => {
      const target = await startRedis();
      const r = cli('restore', join(FIX, `${fixture}.rdb`), '--to', target.url, '--verify', ...(lossy ? ['--lossy'] : []));
      return { target, ...r };
    };
    const t = await online('hash_template_v15', false);
    expect(t.code, t.err).toBe(0);
    const nt = await native(readFileSync(join(FIX, 'hash_template_v15.resp')));
    expect(await debugDigest(t.target)).toBe(await debugDigest(nt));

    const refused = await online('array_v14', false);
    expect(refused.code).toBe(5);
    expect(refused.err).toContain('arrays need RDB 14 (Redis 8.8+)');
    expect(await call(refused.target, 'DBSIZE')).toBe(0);
    const a = await online('array_v14', true);
    expect(a.code, a.err).toBe(0);
    expect(await call(a.target, 'DBSIZE')).toBe(1);
    expect(String(await call(a.target, 'GET', 'plain'))).toBe('string');

    const s = await online('stream_xnack_v14', true);
    expect(s.code, s.err).toBe(0);
    const ns = await native(readFileSync(join(FIX, 'stream_xnack_v14.resp')));
    expect(await debugDigest(s.target)).toBe(await debugDigest(ns));
    expect(((await call(s.target, 'XPENDING', 's1', 'mygroup')) as unknown[])[0]).toBe(2);
    await stopAllRedis();
  }, 60_000);
});

describe('restore of a Valkey 81 file with path hashes', () => {
  it('a Valkey 9.2 node (RDB 81) gets the stored bytes as DUMP payloads stamped 81; Valkey 9.0 and Redis nodes cannot take them', async () => {
    const { version, keys } = await rawKeys('valkey_081_path_hash');
    expect(version).toBe(81);
    const paths = keys.filter((k) => k.rdbType === 23);
    expect(paths.map((k) => k.key.toString())).toEqual(['ph:1', 'ph:empty', 'ph:ttl']);
    for (const k of paths) {
      const p = await prepareKey(k, { sourceRdb: 81, targetRdb: 81, lossy: false, bigKeyBytes: 1 << 20, now: 0 });
      expect(p.kind, k.key.toString()).toBe('payload');
      if (p.kind !== 'payload') continue;
      const d = await decodeDump(p.payload);
      expect([d.rdbType, d.version]).toEqual([23, 81]);
      expect(p.payload.subarray(1, p.payload.length - 10).equals(k.raw!), k.key.toString()).toBe(true);
      expect(d.value.type).toBe('pathhash');
      for (const target of [80, 15, 10]) {
        for (const lossy of [false, true]) {
          const q = await prepareKey(k, { sourceRdb: 81, targetRdb: target, lossy, bigKeyBytes: 1 << 20, now: 0 });
          expect(q, `${k.key.toString()} -> ${target}`).toEqual({ kind: 'unrepresentable', reason: 'path hashes need VALKEY081 (Valkey 9.2+)' });
        }
      }
    }
    // Bigger than the RESTORE threshold: PHSET commands for the Valkey node instead.
    const big = await prepareKey(paths[0]!, { sourceRdb: 81, targetRdb: 81, lossy: false, bigKeyBytes: 8, now: 0 });
    expect(big.kind).toBe('commands');
    if (big.kind === 'commands') expect(big.frames.toString('latin1')).toContain('$5\r\nPHSET\r\n$4\r\nph:1\r\n$4\r\n/a/b\r\n$6\r\nFIELDS\r\n$1\r\n3\r\n');
    // ... and for an older node the big-key path refuses it too (with or without --lossy: skipped, never sent).
    for (const lossy of [false, true]) {
      expect(await prepareKey(paths[0]!, { sourceRdb: 81, targetRdb: 10, lossy, bigKeyBytes: 8, now: 0 })).toEqual({ kind: 'unrepresentable', reason: 'path hashes need VALKEY081 (Valkey 9.2+)' });
    }
  });

  it('onto Redis 7.0: refused before anything is written (exit 5); with --lossy the other keys go and the path hashes are listed', async () => {
    const target = await startRedis();
    const refused = cli('restore', join(FIX, 'valkey_081_path_hash.rdb'), '--to', target.url);
    expect(refused.code).toBe(5);
    expect(refused.err).toContain('3 key(s) cannot be represented on the target (first: db 0 "ph:1": path hashes need VALKEY081 (Valkey 9.2+)); nothing was written');
    expect(await call(target, 'DBSIZE')).toBe(0);
    const r = cli('restore', join(FIX, 'valkey_081_path_hash.rdb'), '--to', target.url, '--lossy', '--verify');
    expect(r.code, r.err).toBe(0);
    for (const k of ['ph:1', 'ph:empty', 'ph:ttl']) expect(r.out + r.err).toContain(`skipped (--lossy): db 0 "${k}": path hashes need VALKEY081 (Valkey 9.2+)`);
    expect(await call(target, 'DBSIZE')).toBe(1);
    expect(String(await call(target, 'GET', 'k1'))).toBe('v1');
    const n = await native(Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n'));
    expect(await debugDigest(target)).toBe(await debugDigest(n));
    await target.stop();
    await n.stop();
  }, 60_000);
});

describe('restore --to a running node of a Valkey 81 file with UPDATE commands', () => {
  it('is refused before anything is written; with --lossy the keys go and the commands are named as not replayed', async () => {
    const target = await startRedis();
    const refused = cli('restore', join(FIX, 'valkey_081_update.rdb'), '--to', target.url);
    expect(refused.code).toBe(5);
    expect(refused.err).toContain('the backup holds 2 UPDATE command(s) of a Valkey forkless save (VALKEY081), which restore does not replay; nothing was written');
    expect(await call(target, 'DBSIZE')).toBe(0);
    const r = cli('restore', join(FIX, 'valkey_081_update.rdb'), '--to', target.url, '--lossy');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('lossy: 2 Valkey UPDATE command(s) of a forkless save not replayed');
    expect(await call(target, 'DBSIZE')).toBe(2);
    await target.stop();
  });
});
