import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKey, startSshd, type TestSshd } from '../helpers/sshd.js';
import { DEMO_RDB, cli } from './cli-helper.js';
import { startS3, type TestS3 } from './s3-server.js';

// Issue 17: sftp:// targets against a real OpenSSH server (Debian openssh-server) on loopback.

let sshd: TestSshd;
let s3: TestS3;
let work: string;
let passFile: string;
beforeAll(async () => {
  sshd = await startSshd();
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'tsredis-sftp-'));
  passFile = join(work, 'pass');
  writeFileSync(passFile, 'correct horse battery staple\n');
});
afterAll(async () => {
  await sshd?.destroy();
  await s3?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ssh = (): string[] => ['--ssh-key', sshd.clientKey, '--ssh-known-hosts', sshd.knownHosts];
// No agent from the developer's session may log in instead of the key under test.
const env = { SSH_AUTH_SOCK: undefined };
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('sftp:// target', { timeout: 180_000 }, () => {
  it('backup → list → verify --deep → prune → restore', async () => {
    const url = sshd.url('cycle/redis');
    for (const at of ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z']) {
      const r = await cli(['backup', '--from', DEMO_RDB, '--to', url, ...ssh(), '--passphrase-file', passFile, '--name', 'demo', '--taken-at', at], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('size + read-back sha256 over SFTP');
    }
    const dir = join(sshd.root, 'cycle/redis');
    // Only final names: no temp file of the uploads is left.
    expect(readdirSync(dir).sort()).toEqual([
      'demo-20260101T000000Z.manifest.json',
      'demo-20260101T000000Z.rdb.gz.gpg',
      'demo-20260102T000000Z.manifest.json',
      'demo-20260102T000000Z.rdb.gz.gpg',
      'demo.last-success.json',
    ]);

    const list = await cli(['list', '--target', url, ...ssh(), '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).backups.map((b: { object: string }) => b.object).sort()).toEqual(['demo-20260101T000000Z.rdb.gz.gpg', 'demo-20260102T000000Z.rdb.gz.gpg']);

    const verify = await cli(['verify', '--target', url, ...ssh(), '--all', '--deep', '--passphrase-file', passFile], { env });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);

    // A copy damaged on the server fails verify --deep.
    const victim = join(dir, 'demo-20260101T000000Z.rdb.gz.gpg');
    const good = readFileSync(victim);
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 0xff;
    writeFileSync(victim, bad);
    const damaged = await cli(['verify', '--target', url, ...ssh(), '--all', '--deep', '--passphrase-file', passFile], { env });
    expect(damaged.code, damaged.stderr + damaged.stdout).toBe(1);
    writeFileSync(victim, good);

    const prune = await cli(['prune', '--target', url, ...ssh(), '--keep-last', '1'], { env });
    expect(prune.code, prune.stderr).toBe(0);
    expect(existsSync(victim)).toBe(false);
    expect(existsSync(join(dir, 'demo-20260102T000000Z.rdb.gz.gpg'))).toBe(true);

    const out = join(work, 'restored');
    const restore = await cli(['restore', '--from', url, ...ssh(), '--latest', '--to-dir', out, '--passphrase-file', passFile, '--json'], { env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(sha(join(out, 'dump.rdb'))).toBe(sha(DEMO_RDB));
  });

  it('one backup to a directory, S3 and SFTP at once, each copy verified', async () => {
    const dirTarget = join(work, 'three-dir');
    const sftpTarget = sshd.url('three');
    const targets = [dirTarget, 's3://backups/three', sftpTarget];
    const e = { ...env, ...s3.env, AWS_ENDPOINT_URL: s3.endpoint };
    const r = await cli(['backup', '--from', DEMO_RDB, ...targets.flatMap((t) => ['--to', t]), '--s3-path-style', ...ssh(), '--passphrase-file', passFile, '--name', 'three', '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { targets: Array<{ target: string; ok: boolean; verifiedBy: string }>; manifest: { stored: { sha256: string } } };
    expect(out.targets.map((t) => [t.target, t.ok])).toEqual(targets.map((t) => [t, true]));
    expect(out.targets[2]!.verifiedBy).toBe('size + read-back sha256 over SFTP');
    // The three copies are the same bytes, and each verifies end to end.
    const object = readdirSync(dirTarget).find((f) => f.endsWith('.gpg'))!;
    expect(sha(join(sshd.root, 'three', object))).toBe(out.manifest.stored.sha256);
    for (const t of targets) {
      const v = await cli(['verify', '--target', t, '--s3-path-style', ...ssh(), '--deep', '--passphrase-file', passFile], { env: e });
      expect(v.code, `${t}: ${v.stderr}${v.stdout}`).toBe(0);
    }
  });

  it('a config file with three targets (directory, S3, SFTP) and per-target options, as in the README cron example', async () => {
    const dirTarget = join(work, 'cfg-dir');
    const sftpTarget = sshd.url('cfg');
    const config = join(work, 'tsredis-ops.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: [{ name: 'cache', from: DEMO_RDB }],
        to: [
          dirTarget,
          { url: 's3://backups/cfg', s3: { endpoint: s3.endpoint, pathStyle: true } },
          { url: sftpTarget, sftp: { key: sshd.clientKey, knownHosts: sshd.knownHosts } },
        ],
        // Top-level SFTP options the SFTP entry overrides: with these alone the host key is unknown.
        sftp: { knownHosts: join(work, 'no-such-known-hosts') },
        encryption: { passphraseFile: passFile },
        retention: { keepLast: 2 },
      }),
    );
    const e = { ...env, ...s3.env };
    const r = await cli(['backup', '--config', config, '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).targets.map((t: { target: string; ok: boolean }) => [t.target, t.ok])).toEqual([
      [dirTarget, true],
      ['s3://backups/cfg', true],
      [sftpTarget, true],
    ]);
    // list and verify --deep take the same per-target options from the config.
    const l = await cli(['list', '--config', config, '--json'], { env: e });
    expect(l.code, l.stderr).toBe(0);
    const v = await cli(['verify', '--config', config, '--deep'], { env: e });
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(readdirSync(join(sshd.root, 'cfg')).filter((f) => f.endsWith('.manifest.json'))).toHaveLength(1);
  });

  it('--sftp-remote-hash verifies with sha256sum on the server, and falls back to a read-back on an SFTP-only account', async () => {
    const r = await cli(['backup', '--from', DEMO_RDB, '--to', sshd.url('remote-hash'), ...ssh(), '--sftp-remote-hash', '--no-encrypt', '--name', 'rh', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).targets[0].verifiedBy).toBe('size + sha256sum on the server');
    const locked = await startSshd({ sftpOnly: true });
    try {
      const l = await cli(['backup', '--from', DEMO_RDB, '--to', locked.url('remote-hash'), '--ssh-key', locked.clientKey, '--ssh-known-hosts', locked.knownHosts, '--sftp-remote-hash', '--no-encrypt', '--name', 'rh', '--json'], { env });
      expect(l.code, l.stderr).toBe(0);
      expect(JSON.parse(l.stdout).targets[0].verifiedBy).toBe('size + read-back sha256 over SFTP (the server runs no sha256sum for us)');
      const v = await cli(['verify', '--target', locked.url('remote-hash'), '--ssh-key', locked.clientKey, '--ssh-known-hosts', locked.knownHosts, '--deep'], { env });
      expect(v.code, v.stderr + v.stdout).toBe(0);
    } finally {
      await locked.destroy();
    }
  });

  it("a remote temp file nobody wrote for 30 minutes is a dead run's and goes; a younger one stays", async () => {
    const url = sshd.url('dead-writer');
    const first = await cli(['backup', '--from', DEMO_RDB, '--to', url, ...ssh(), '--no-encrypt', '--name', 'dw', '--taken-at', '2026-01-01T00:00:00Z'], { env });
    expect(first.code, first.stderr).toBe(0);
    const dir = join(sshd.root, 'dead-writer');
    // Pids mean nothing on another host: the age of the temp file decides (default --stale-after 6h).
    const old = '.dw-20260101T010000Z.rdb.tmp-4242-0a0b0c0d';
    const young = '.dw-20260101T020000Z.rdb.tmp-4243-0a0b0c0e';
    for (const [name, ageMin] of [[old, 31], [young, 10]] as const) {
      writeFileSync(join(dir, name), 'partial upload');
      const t = new Date(Date.now() - ageMin * 60_000);
      utimesSync(join(dir, name), t, t);
    }
    const r = await cli(['backup', '--from', DEMO_RDB, '--to', url, ...ssh(), '--no-encrypt', '--name', 'dw', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).targets[0].cleaned).toEqual([expect.stringMatching(new RegExp(`^${old.replace(/\./g, '\\.')} \\(temp file of an interrupted upload`))]);
    expect(readdirSync(dir)).toContain(young);
    expect(readdirSync(dir)).not.toContain(old);
  });

  it('a changed host key is exit 3 with a clear message, and nothing is written', async () => {
    const other = makeKey(work, 'other_host_key');
    const known = join(work, 'known_hosts_changed');
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const r = await cli(['backup', '--from', DEMO_RDB, '--to', sshd.url('hostkey'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known, '--no-encrypt', '--name', 'hk'], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/HOST KEY MISMATCH for \[127\.0\.0\.1\]:\d+: the server showed SHA256:/);
    expect(existsSync(join(sshd.root, 'hostkey'))).toBe(false);
    // --ssh-accept-new-host-key never accepts a changed key.
    const again = await cli(['list', '--target', sshd.url('hostkey'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known, '--ssh-accept-new-host-key'], { env });
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toMatch(/HOST KEY MISMATCH/);
  });

  it('an unknown host key is refused (exit 3) unless --ssh-accept-new-host-key adds it', async () => {
    const known = join(work, 'known_hosts_empty');
    const r = await cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/unknown host key SHA256:\S+ for \[127\.0\.0\.1\]:\d+: not in .*known_hosts_empty/);
    const accepted = await cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known, '--ssh-accept-new-host-key'], { env });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(readFileSync(known, 'utf8')).toBe(readFileSync(sshd.knownHosts, 'utf8'));
    // Known from now on, without the opt-in.
    const later = await cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known], { env });
    expect(later.code, later.stderr).toBe(0);
  });

  it('wildcard and negated known_hosts patterns match as OpenSSH matches them', async () => {
    const key = readFileSync(sshd.knownHosts, 'utf8').trim().split(' ').slice(1, 3).join(' ');
    const other = readFileSync(`${makeKey(work, 'wild_other_key')}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const list = (known: string) => cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-key', sshd.clientKey, '--ssh-known-hosts', known], { env });
    const file = (name: string, text: string): string => {
      writeFileSync(join(work, name), text);
      return join(work, name);
    };
    // `?` and `*` inside the bracketed [host]:port name; names compare without case.
    const wild = await list(file('known_wild', `[127.0.0.?]:*,NOT-THIS-HOST ${key}
`));
    expect(wild.code, wild.stderr).toBe(0);
    // A negation excludes the host even though a wildcard of the same line matches: unknown, exit 3.
    const negated = await list(file('known_negated', `[127.0.0.*]:*,![127.0.0.1]:${sshd.port} ${key}
`));
    expect(negated.code).toBe(3);
    expect(negated.stderr).toMatch(/unknown host key/);
    // A wildcard line with another key is a known host showing a changed key.
    const changed = await list(file('known_wild_changed', `[127.*]:${sshd.port} ${other}
`));
    expect(changed.code).toBe(3);
    expect(changed.stderr).toMatch(/HOST KEY MISMATCH/);
  });

  it('a server with several host keys is checked against the one known_hosts holds (an RSA key beside ed25519)', async () => {
    const multi = await startSshd({ rsaHostKey: true });
    try {
      const known = join(work, 'known_hosts_rsa');
      writeFileSync(known, `[127.0.0.1]:${multi.port} ${readFileSync(join(multi.dir, 'host_key_rsa.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      const r = await cli(['backup', '--from', DEMO_RDB, '--to', multi.url('rsa'), '--ssh-key', multi.clientKey, '--ssh-known-hosts', known, '--no-encrypt', '--name', 'rsa'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(join(multi.root, 'rsa')).some((f) => f.endsWith('.manifest.json'))).toBe(true);
    } finally {
      await multi.destroy();
    }
  });

  it('a key the server does not accept, or a wrong password, is exit 4', async () => {
    const stranger = makeKey(work, 'stranger_key');
    const r = await cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-key', stranger, '--ssh-known-hosts', sshd.knownHosts], { env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/authentication failed for \S+ \(tried: key\)/);
    const pw = join(work, 'ssh-password');
    writeFileSync(pw, 'not-the-password\n');
    const p = await cli(['list', '--target', sshd.url('cycle/redis'), '--ssh-password-file', pw, '--ssh-known-hosts', sshd.knownHosts], { env });
    expect(p.code, p.stderr).toBe(4);
    expect(p.stderr).toMatch(/authentication failed .*\(tried: password\)/);
    expect(p.stderr).not.toContain('not-the-password');
  });

  it('a passphrase-protected key (passphrase from a file or the environment) and an ssh-agent log in; a wrong passphrase is exit 4', async () => {
    const key = join(work, 'locked_key');
    const gen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
    expect(gen.status, gen.stderr.toString()).toBe(0);
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    const url = sshd.url('cycle/redis');
    const phrase = join(work, 'key-pass');
    writeFileSync(phrase, 'open sesame\n');
    const byFile = await cli(['list', '--target', url, '--ssh-key', key, '--ssh-key-passphrase-file', phrase, '--ssh-known-hosts', sshd.knownHosts], { env });
    expect(byFile.code, byFile.stderr).toBe(0);
    const byEnv = await cli(['list', '--target', url, '--ssh-key', key, '--ssh-known-hosts', sshd.knownHosts], { env: { ...env, TSREDIS_SSH_KEY_PASSPHRASE: 'open sesame' } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    const wrong = await cli(['list', '--target', url, '--ssh-key', key, '--ssh-known-hosts', sshd.knownHosts], { env: { ...env, TSREDIS_SSH_KEY_PASSPHRASE: 'guess' } });
    expect(wrong.code, wrong.stderr).toBe(4);
    expect(wrong.stderr).toMatch(/cannot use --ssh-key .*locked_key/);
    expect(wrong.stderr).not.toContain('guess');
    // A failed backup's hook never sees the key passphrase.
    const hookEnv = join(work, 'hook.env');
    const failed = await cli(['backup', '--from', DEMO_RDB, '--to', url, '--ssh-key', key, '--ssh-known-hosts', sshd.knownHosts, '--no-encrypt', '--name', 'locked', '--on-failure', `env > ${hookEnv}`], { env: { ...env, TSREDIS_SSH_KEY_PASSPHRASE: 'guess' } });
    expect(failed.code, failed.stderr).toBe(4);
    expect(readFileSync(hookEnv, 'utf8')).toMatch(/^TSREDIS_EXIT_CODE=4$/m);
    expect(readFileSync(hookEnv, 'utf8')).not.toContain('guess');

    // A real ssh-agent holding the key: no --ssh-key needed.
    const sock = join(work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(20);
      const add = spawnSync('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      expect(add.status, add.stderr.toString()).toBe(0);
      const byAgent = await cli(['list', '--target', url, '--ssh-known-hosts', sshd.knownHosts], { env: { SSH_AUTH_SOCK: sock } });
      expect(byAgent.code, byAgent.stderr).toBe(0);
      expect(byAgent.stdout).toMatch(/demo-20260102T000000Z/);
    } finally {
      process.kill(agent.pid!, 'SIGKILL');
    }
  });

  it('sftp:// targets are parsed strictly: no password in the URL, a path is required', async () => {
    for (const [target, msg] of [
      [`sftp://root:hunter2@127.0.0.1:${sshd.port}/x`, /a password never goes in the URL/],
      ['sftp://host', /expected sftp:\/\/\[user@\]host\[:port\]\/path/],
    ] as const) {
      const r = await cli(['backup', '--from', DEMO_RDB, '--to', target, '--no-encrypt', '--name', 'p'], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toContain('hunter2');
    }
  });
});
