import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisClient } from '../../src/net/redis-client.js';
import { parseRedisUrl } from '../../src/net/redis-url.js';

/** A real redis-server started for a test; stop() kills it by PID. */
export interface TestRedis {
  port: number;
  pid: number;
  dir: string;
  url: string;
  logFile: string;
  /** Connects a client (with the server's requirepass when set). */
  client(opts?: { username?: string; password?: string }): Promise<RedisClient>;
  stop(): Promise<void>;
  log(): string;
}

const running = new Set<TestRedis>();

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

export interface StartOptions {
  /** Extra config directives, e.g. { requirepass: 'x', 'repl-diskless-sync': 'yes' }. */
  config?: Record<string, string | number>;
  /** Working directory (kept when given; a temp dir removed on stop otherwise). */
  dir?: string;
  /** Password used by client() (defaults to config.requirepass). */
  password?: string;
}

/**
 * Starts redis-server on a free port with `--enable-debug-command yes`, waits until it answers
 * PING (and has loaded its data), and registers it so stopAll() can kill it even if a test fails.
 */
export async function startRedis(opts: StartOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tsredis-test-'));
  const logFile = join(dir, `redis-${port}.log`);
  const config: Record<string, string | number> = {
    port,
    bind: '127.0.0.1',
    dir,
    'enable-debug-command': 'yes',
    save: '',
    appendonly: 'no',
    logfile: logFile,
    daemonize: 'no',
    ...opts.config,
  };
  const args: string[] = [];
  for (const [k, v] of Object.entries(config)) args.push(`--${k}`, String(v));
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const pid = child.pid!;
  const password = opts.password ?? (config.requirepass !== undefined ? String(config.requirepass) : undefined);
  let exited = false;
  child.on('exit', () => (exited = true));

  const server: TestRedis = {
    port,
    pid,
    dir,
    url: `redis://127.0.0.1:${port}`,
    logFile,
    async client(c = {}) {
      return RedisClient.connect({ ...parseRedisUrl(server.url, { env: {} }), username: c.username, password: c.password ?? password });
    },
    async stop() {
      running.delete(server);
      if (!exited) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        process.kill(pid, 'SIGKILL');
        await gone;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
  running.add(server);

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      running.delete(server);
      throw new Error(`redis-server on port ${port} exited at start:\n${server.log().slice(-2000)}`);
    }
    try {
      const c = await server.client();
      try {
        const r = await c.send('PING');
        if (r === 'PONG') return server;
      } finally {
        c.close();
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server on port ${port} did not answer PING within 20 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops every server this test file started (use in afterAll/afterEach). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** Gracefully shuts a server down with SHUTDOWN (NOSAVE unless save=true) and waits for exit. */
export async function shutdownRedis(server: TestRedis, save = false): Promise<void> {
  const c = await server.client();
  await c.send('SHUTDOWN', save ? 'SAVE' : 'NOSAVE').catch(() => {});
  c.close();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(server.pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop();
}

/** DEBUG DIGEST of the whole server. */
export async function debugDigest(server: TestRedis): Promise<string> {
  const c = await server.client();
  try {
    return await c.text('DEBUG', 'DIGEST');
  } finally {
    c.close();
  }
}
