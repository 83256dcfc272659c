import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RedisClient } from '../../src/net/redis-client.js';
import { ROOT, cli, type Ran } from '../backup/cli-helper.js';
import type { TestS3 } from '../backup/s3-server.js';
import { debugDigest, startRedis, stopAllRedis, type TestRedis } from '../helpers/redis-server.js';

/** A master for archive tests: diskless sync without delay, a ping a second (segments cut on time while idle). */
export function startMaster(extra: Record<string, string | number> = {}): Promise<TestRedis> {
  return startRedis({ config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': 0, 'repl-ping-replica-period': 1, 'repl-backlog-size': '32mb', ...extra } });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A steady write load in pipelined batches over several types and two dbs, with MULTI/EXEC
 * blocks and long TTLs; pause() returns once the batch in flight was answered.
 */
export class Load {
  private stopped = false;
  private paused = false;
  private idle: (() => void) | null = null;
  private running: Promise<void>;
  ops = 0;
  private i = 0;

  constructor(
    private c: RedisClient,
    private readonly batch = 60,
    private readonly gapMs = 15,
  ) {
    this.running = this.loop();
  }

  /** Points the load at another server (failover). */
  retarget(c: RedisClient): void {
    this.c = c;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        this.idle?.();
        await sleep(10);
        continue;
      }
      const ps: Array<Promise<unknown>> = [];
      const send = (...a: Array<string | number>) => ps.push(this.c.call(...a).catch(() => null));
      for (let n = 0; n < this.batch; n++) {
        const i = this.i++;
        const k = `k${i % 500}`;
        send('SELECT', i % 7 === 0 ? 1 : 0);
        switch (i % 9) {
          case 0: send('SET', `s:${k}`, `v${i}`); break;
          case 1: send('INCRBY', `n:${k}`, i % 97); break;
          case 2: send('RPUSH', `l:${i % 50}`, `e${i}`); break;
          case 3: send('HSET', `h:${i % 80}`, `f${i % 13}`, `v${i}`); break;
          case 4: send('SADD', `set:${i % 60}`, `m${i % 300}`); break;
          case 5: send('ZADD', `z:${i % 40}`, i % 1000, `m${i % 200}`); break;
          case 6: send('MULTI'); send('INCR', `n:tx`); send('HINCRBY', `h:tx`, 'c', 1); send('EXEC'); break;
          case 7: send('SET', `ttl:${k}`, `v${i}`, 'EX', 36000); break;
          default: send('DEL', `s:k${(i * 7) % 500}`); break;
        }
        this.ops++;
      }
      await Promise.all(ps);
      await sleep(this.gapMs);
    }
  }

  async pause(): Promise<void> {
    if (this.stopped) return;
    this.paused = true;
    await new Promise<void>((r) => (this.idle = r));
    this.idle = null;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.paused = false;
    await this.running;
  }
}

/** Every replica (the archiving one among them; it ACKs every second) ACKed master_repl_offset. */
export async function replicaCaughtUp(c: RedisClient): Promise<boolean> {
  const info = await c.info('replication');
  const off = Number(info.master_repl_offset);
  const slaves = Object.entries(info).filter(([k]) => /^slave\d+$/.test(k));
  return slaves.length > 0 && slaves.every(([, v]) => Number(/offset=(\d+)/.exec(v)?.[1]) === off);
}

export interface Checkpoint {
  iso: string;
  digest: string;
}

/**
 * Pause the load, wait until the archiving replica ACKed everything, take the time and DEBUG
 * DIGEST, then wait past the end of that second before resuming: every write before is stamped
 * with that second or earlier, every write after with a later one.
 */
export async function checkpoint(load: Load, master: TestRedis, c: RedisClient): Promise<Checkpoint> {
  await load.pause();
  await waitFor('the archiving replica to ACK everything', () => replicaCaughtUp(c), 20_000);
  const now = Date.now();
  const iso = new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const digest = await debugDigest(master);
  await sleep(1000 - (now % 1000) + 60);
  load.resume();
  return { iso, digest };
}

/** `replicate --archive …` as its own process (so it can be killed -9), stderr appended to DIR/replicate.log. */
export class ArchivingReplica {
  child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;

  constructor(
    public master: string,
    readonly dir: string,
    readonly args: string[],
    readonly env: Record<string, string> = {},
  ) {}

  start(): void {
    const log = openSync(join(this.dir, '..', `${this.dir.split('/').pop()}.log`), 'a');
    const child = spawn(process.execPath, [`${ROOT}bin/tsredis-ops.js`, 'replicate', '--master', this.master, '--dir', this.dir, ...this.args], {
      cwd: ROOT,
      env: { ...process.env, TSREDIS_PASSPHRASE: '', ...this.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  log(): string {
    return readFileSync(join(this.dir, '..', `${this.dir.split('/').pop()}.log`), 'utf8');
  }

  status(): Record<string, any> | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'replica-status.json'), 'utf8')) as Record<string, any>;
    } catch {
      return null;
    }
  }

  async kill9(): Promise<void> {
    if (!this.child) return;
    process.kill(this.child.pid!, 'SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** SIGTERM: cut the open segment, upload, exit 0. */
  async stop(): Promise<number | null> {
    if (!this.child) return null;
    process.kill(this.child.pid!, 'SIGTERM');
    const code = await this.exited;
    this.child = null;
    return code;
  }
}

/** restore --at into a scratch server (flushed first) and its DEBUG DIGEST. */
export async function restoreDigest(scratch: TestRedis, from: string, name: string, at: string[], env: Record<string, string>, extra: string[] = []): Promise<{ ran: Ran; digest: string | null }> {
  const ran = await cli(['restore', '--from', from, '--name', name, ...at, '--to', scratch.url, '--flush', '--quiet', ...extra], { env });
  if (ran.code !== 0) return { ran, digest: null };
  return { ran, digest: await debugDigest(scratch) };
}

export function expectOk(r: Ran, what: string): void {
  expect(r.code, `${what}: ${r.stderr}${r.stdout}`).toBe(0);
}

/** What a test file starts (work dir, S3 endpoint, archiving replica), torn down by cleanup(); KEEP=1 keeps the dir. */
export class Scene {
  readonly work: string;
  s3: TestS3 | null = null;
  rep: ArchivingReplica | null = null;

  constructor(prefix: string) {
    this.work = mkdtempSync(join(tmpdir(), prefix));
  }

  async cleanup(): Promise<void> {
    await this.rep?.kill9().catch(() => {});
    await stopAllRedis();
    await this.s3?.destroy();
    if (!process.env.KEEP) rmSync(this.work, { recursive: true, force: true });
  }
}
