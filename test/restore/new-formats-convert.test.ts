import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
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
    const refused = convert('stream_xnack_v14', 10, false);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('use --lossy');
    const r = convert('stream_xnack_v14', 10, true);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('dropped (--lossy): db 0 "s1": 2 NACKed pending entries of stream consumer groups (RDB 14 NACK zone)');
    expect(r.err).toContain('dropped (--lossy): db 0 "s1": stream idempotent-producer (IDMP) state');
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
    const refused = convert('array_v14', 10, false);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('key "arr:basic" (db 0): RDB 10 cannot represent an array value (RDB 14, Redis 8.8+); use --lossy to drop it');
    const r = convert('array_v14', 10, true);
    expect(r.code, r.err).toBe(0);
    for (const k of ['arr:basic', 'arr:mixed', 'arr:sparse', 'arr:edge']) expect(r.err).toContain(`dropped (--lossy): db 0 "${k}": an array value (RDB 14, Redis 8.8+) (key dropped)`);
    const a = await loaded(r.dir);
    const b = await native(Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nplain\r\n$6\r\nstring\r\n'));
    expect(await call(a, 'DBSIZE')).toBe(1);
    expect(await debugDigest(a)).toBe(await debugDigest(b));
    await a.stop();
    await b.stop();
  }, 60_000);

  it('Valkey 81 UPDATE commands cannot be replayed into an older file: refused, and named with --lossy', () => {
    const refused = convert('valkey_081_update', 10, false);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('cannot represent a Valkey forkless-save UPDATE command (SET, at byte');
    const r = convert('valkey_081_update', 10, true);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/dropped \(--lossy\): db 0 a Valkey forkless-save UPDATE command \(DEL, at byte \d+\) \(not applied\)/);
  });
});
