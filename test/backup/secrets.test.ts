import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';
import { DEMO_RDB, ROOT, cli } from './cli-helper.js';

// Issue 13, items 7, 14 and 16: secrets stay out of hooks and of `ps`, and a wrong Redis
// password is exit 4 wherever it is given.

const PASSWORD = 'Url-Pw-9f3c1e';
let work: string;
let secured: TestRedis;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsredis-secrets-'));
  secured = await startRedis({ config: { requirepass: PASSWORD } });
  const c = await secured.client();
  for (let i = 0; i < 50; i++) await c.call('SET', `k${i}`, 'v');
  c.close();
});
afterAll(async () => {
  await stopAllRedis();
  rmSync(work, { recursive: true, force: true });
});

describe('hooks run without the secrets', { timeout: 60_000 }, () => {
  it('--on-failure sees the event but not TSREDIS_PASSPHRASE, REDISCLI_AUTH, TSREDIS_PASSWORD or AWS keys', async () => {
    const out = join(work, 'hook-env');
    const secrets = {
      TSREDIS_PASSPHRASE: 'secret-passphrase-1',
      REDISCLI_AUTH: 'secret-auth-2',
      TSREDIS_PASSWORD: 'secret-password-3',
      AWS_ACCESS_KEY_ID: 'AKIDSECRET4',
      AWS_SECRET_ACCESS_KEY: 'secret-aws-5',
      AWS_SESSION_TOKEN: 'secret-token-6',
    };
    const r = await cli(['backup', '--from', join(work, 'missing.rdb'), '--to', join(work, 'store'), '--name', 'hooked', '--on-failure', `env > ${out}`], { env: secrets });
    expect(r.code).toBe(3);
    const env = readFileSync(out, 'utf8');
    expect(env).toMatch(/^TSREDIS_EVENT=backup-failed$/m);
    expect(env).toMatch(/^TSREDIS_NAME=hooked$/m);
    for (const [k, v] of Object.entries(secrets)) {
      expect(env).not.toContain(v);
      expect(env).not.toMatch(new RegExp(`^${k}=`, 'm'));
    }
  });
});

describe('a password in a redis:// URL never stays in the process arguments', { timeout: 60_000 }, () => {
  it('replicate --master redis://:pw@host: /proc/PID/cmdline shows it masked while it runs', async () => {
    const dir = join(work, 'replica');
    const child = spawn(process.execPath, [`${ROOT}bin/tsredis-ops.js`, 'replicate', '--master', `redis://:${PASSWORD}@127.0.0.1:${secured.port}`, '--dir', dir], {
      cwd: ROOT,
      env: { ...process.env, REDISCLI_AUTH: '', TSREDIS_PASSWORD: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      // Wait until the replica is linked (it authenticated with the URL's password).
      const c = await secured.client();
      const deadline = Date.now() + 30_000;
      while (!/connected_slaves:1/.test(await c.text('INFO', 'replication'))) {
        if (Date.now() > deadline) throw new Error(`replica did not connect: ${stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      c.close();
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
      expect(cmdline).not.toContain(PASSWORD);
      expect(cmdline).toContain(`redis://:***@127.0.0.1:${secured.port}`);
      expect(stderr).toMatch(/warning: a password in a redis:\/\/ URL .* --password-file or REDISCLI_AUTH/);
    } finally {
      const gone = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      await gone;
    }
  });
});

describe('a wrong Redis password is exit 4 everywhere', { timeout: 120_000 }, () => {
  const wrong = { REDISCLI_AUTH: 'not-the-password' };

  it('restore --to with a wrong password, and without one', async () => {
    const bad = await cli(['restore', DEMO_RDB, '--to', secured.url], { env: wrong });
    expect(bad.code, bad.stderr).toBe(4);
    expect(bad.stderr).toMatch(/authentication failed/);
    const none = await cli(['restore', DEMO_RDB, '--to', secured.url], { env: { REDISCLI_AUTH: undefined, TSREDIS_PASSWORD: undefined } });
    expect(none.code, none.stderr).toBe(4);
    expect(none.stderr).toMatch(/NOAUTH/);
  });

  it('backup from redis:// and bgsave:redis://, and snapshot', async () => {
    for (const from of [secured.url, `bgsave:${secured.url}`]) {
      const r = await cli(['backup', '--from', from, '--to', join(work, 'b'), '--no-encrypt', '--name', 'pw'], { env: wrong });
      expect(r.code, `${from}: ${r.stderr}`).toBe(4);
    }
    const s = await cli(['snapshot', '--master', secured.url, '-o', join(work, 's.rdb')], { env: wrong });
    expect(s.code, s.stderr).toBe(4);
  });

  it('the right password from a file works (the checks above are about the password, not the setup)', async () => {
    const pw = join(work, 'pw');
    writeFileSync(pw, `${PASSWORD}\n`);
    const r = await cli(['backup', '--from', secured.url, '--password-file', pw, '--to', join(work, 'ok'), '--no-encrypt', '--name', 'pw']);
    expect(r.code, r.stderr).toBe(0);
  });
});
