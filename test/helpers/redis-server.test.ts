import { afterAll, describe, expect, it } from 'vitest';
import { debugDigest, startRedis, stopAllRedis } from './redis-server.js';

afterAll(stopAllRedis);

describe('test redis-server helper', () => {
  it('starts a real server with a password, talks to it and stops it by PID', async () => {
    const srv = await startRedis({ config: { requirepass: 's3cret' } });
    const c = await srv.client();
    await c.call('SET', 'k', 'v');
    expect((await c.call('GET', 'k'))!.toString()).toBe('v');
    c.close();
    expect(await debugDigest(srv)).toMatch(/^[0-9a-f]{40}$/);
    await srv.stop();
    expect(() => process.kill(srv.pid, 0)).toThrow();
  });
});
