import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './redis-server.js';

/**
 * A real OpenSSH server (Debian openssh-server) on a loopback port: its own host key, one
 * authorized client key, the internal-sftp subsystem, a PID file in a temp dir. It runs as the
 * user running the tests (root in CI), so root login by key is allowed for it alone.
 */
export interface TestSshd {
  port: number;
  dir: string;
  /** Directory the SFTP targets of a test live in (a plain local path, reached over SFTP). */
  root: string;
  /** Client private key accepted by the server. */
  clientKey: string;
  /** A known_hosts file holding the server's host key for [127.0.0.1]:port. */
  knownHosts: string;
  user: string;
  /** `sftp://user@127.0.0.1:port/<root>/<sub>` */
  url(sub: string): string;
  /** Kills the server and every session it forked (sshd's per-connection children outlive it). */
  stop(): Promise<void>;
  /** Cuts the open sessions (kills the per-connection processes; returns how many); the server keeps listening. */
  dropConnections(): Promise<number>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

function keygen(path: string, comment: string, type = 'ed25519'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed (is openssh-client installed?): ${r.stderr?.toString()}`);
}

/** A fresh key pair: returns the private key path (the public key is PATH.pub). */
export function makeKey(dir: string, name: string): string {
  const p = join(dir, name);
  keygen(p, name);
  return p;
}

/**
 * sftpOnly: the account runs nothing but SFTP (ForceCommand internal-sftp), as hardened backup
 * hosts do. rsaHostKey: a second host key (RSA) beside the ed25519 one, at `${dir}/host_key_rsa.pub`.
 */
export async function startSshd(opts: { sftpOnly?: boolean; rsaHostKey?: boolean } = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} not found: install the Debian package openssh-server (apt-get install openssh-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'tsredis-sshd-'));
  const root = join(dir, 'data');
  mkdirSync(root);
  const port = await freePort();
  const hostKey = join(dir, 'host_key');
  keygen(hostKey, 'test-host');
  if (opts.rsaHostKey) keygen(join(dir, 'host_key_rsa'), 'test-host', 'rsa');
  const clientKey = makeKey(dir, 'client_key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const pidFile = join(dir, 'sshd.pid');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      ...(opts.rsaHostKey ? [`HostKey ${join(dir, 'host_key_rsa')}`] : []),
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      ...(opts.sftpOnly ? ['ForceCommand internal-sftp'] : []),
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd insists on its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true });
  const user = (process.env.USER ?? spawnSync('id', ['-un']).stdout.toString().trim()) || 'root';
  let pid: number | null = null;

  const sshd: TestSshd = {
    port,
    dir,
    root,
    clientKey,
    knownHosts,
    user,
    url: (sub) => `sftp://${user}@127.0.0.1:${port}${join(root, sub)}`,
    async start() {
      rmSync(pidFile, { force: true });
      const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      pid = child.pid ?? null;
      const deadline = Date.now() + 10_000;
      while (!(await listening(port))) {
        if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode} at start: ${stderr.trim()}`);
        if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
        await sleep(50);
      }
    },
    async stop() {
      const p = pid;
      pid = null;
      if (p !== null) await kill([p, ...descendants(p)]);
    },
    async dropConnections() {
      const sessions = pid === null ? [] : descendants(pid);
      await kill(sessions);
      return sessions.length;
    },
    async destroy() {
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await sshd.start();
  return sshd;
}

async function kill(pids: number[]): Promise<void> {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const p of pids) while (alive(p)) await sleep(20);
}

/** Every process below `pid`, from /proc (sshd gives each connection its own processes). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A killed process stays a zombie until reaped (by init, for sshd's sessions); /proc tells the state.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
