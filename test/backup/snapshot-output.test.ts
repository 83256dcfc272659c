import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { cli } from './cli-helper.js';

// Issue 13, item 8: snapshot -o FILE refuses to replace an existing FILE (exit 5) unless --force,
// like rdb-convert and aof-rewrite.

let work: string;
let redis: TestRedis;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-snap-out-'));
  redis = await startRedis();
  const c = await redis.client();
  await c.call('SET', 'k', 'v');
  c.close();
});
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('snapshot -o an existing file', { timeout: 60_000 }, () => {
  it('is refused with exit 5 and the file is left as it was', async () => {
    const out = join(work, 'existing.rdb');
    writeFileSync(out, 'precious');
    const r = await cli(['snapshot', '--master', redis.url, '-o', out]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/exists; use --force/);
    expect(readFileSync(out, 'utf8')).toBe('precious');
  });

  it('is replaced with --force', async () => {
    const out = join(work, 'forced.rdb');
    writeFileSync(out, 'old');
    const r = await cli(['snapshot', '--master', redis.url, '-o', out, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 5).toString()).toBe('REDIS');
  });
});
