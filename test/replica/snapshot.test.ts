import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/net/redis-client.js';
import { parseRedisUrl } from '../../src/net/redis-url.js';
import { fetchSnapshot } from '../../src/replica/snapshot.js';
import { debugDigest, startRedis, stopAllRedis } from '../helpers/redis-server.js';
import { digestOfRdb, runWorkload, settleExpiries } from './helpers.js';

afterAll(stopAllRedis);

describe('fetchSnapshot', () => {
  for (const diskless of [false, true]) {
    it(`takes the same RDB content as redis-cli --rdb (${diskless ? 'diskless' : 'disk'} master)`, async () => {
      const master = await startRedis({ config: { 'repl-diskless-sync': diskless ? 'yes' : 'no', 'repl-diskless-sync-delay': 0 } });
      const c = await master.client();
      await settleExpiries(c, await runWorkload(c, 7, 1500));
      const want = await debugDigest(master);
      const out = mkdtempSync(join(tmpdir(), 'tsredis-snap-'));

      const ours = join(out, 'ours.rdb');
      const file = createWriteStream(ours);
      const res = await fetchSnapshot(parseRedisUrl(master.url, { env: {} }), file);
      await new Promise<void>((r) => file.end(() => r()));
      expect(res.mode).toBe(diskless ? 'diskless' : 'disk');
      expect(res.replid).toMatch(/^[0-9a-f]{40}$/);
      expect(res.bytes).toBe(readFileSync(ours).length);
      expect(res.rdb.keys).toBe(await totalKeys(c));

      const theirs = join(out, 'theirs.rdb');
      execFileSync('redis-cli', ['-p', String(master.port), '--rdb', theirs], { stdio: 'pipe' });
      expect(await digestOfRdb(ours)).toBe(want);
      expect(await digestOfRdb(theirs)).toBe(want);
      c.close();
      await master.stop();
    });
  }

  it('authenticates as an ACL user and reports a wrong password clearly', async () => {
    const master = await startRedis({ config: { requirepass: 'adminpw', 'repl-diskless-sync-delay': 0 } });
    const c = await master.client();
    await c.call('ACL', 'SETUSER', 'repl', 'on', '>replpw', '+psync', '+replconf', '+ping');
    await c.call('SET', 'a', '1');
    const ep = parseRedisUrl(`redis://repl@127.0.0.1:${master.port}`, { env: { REDISCLI_AUTH: 'replpw' } });
    const chunks: Buffer[] = [];
    const res = await fetchSnapshot(ep, (b) => void chunks.push(Buffer.from(b)));
    expect(res.rdb.keys).toBe(1);
    const bad = parseRedisUrl(`redis://repl@127.0.0.1:${master.port}`, { env: { REDISCLI_AUTH: 'nope' } });
    await expect(fetchSnapshot(bad, () => {})).rejects.toThrow(/AUTH: WRONGPASS/);
    const none = parseRedisUrl(`redis://127.0.0.1:${master.port}`, { env: {} });
    await expect(fetchSnapshot(none, () => {})).rejects.toThrow(/NOAUTH/);
    expect(JSON.stringify(res)).not.toContain('replpw');
    c.close();
  });
});

async function totalKeys(c: RedisClient): Promise<number> {
  const ks = await c.info('keyspace');
  return Object.values(ks).reduce((n, v) => n + Number(/keys=(\d+)/.exec(v)?.[1] ?? 0), 0);
}
