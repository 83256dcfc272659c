import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClient } from '../../src/net/redis-client.js';
import { rng } from '../engine/workload.js';
import { debugDigest, startRedis, type TestRedis } from '../helpers/redis-server.js';

export interface Workload {
  /** Keys given a short TTL: touch them after they expired so the master propagates DEL. */
  shortLived: Array<[number, string]>;
}

/**
 * A seeded write workload over every type, four DBs, MULTI/EXEC blocks, relative and absolute
 * expiries (long ones kept, short ones expired and deleted by the master).
 */
export async function runWorkload(c: RedisClient, seed: number, ops: number, w: Workload = { shortLived: [] }): Promise<Workload> {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const pending: Array<Promise<unknown>> = [];
  const send = (...args: Array<string | number | Buffer>) => pending.push(c.send(...args));
  for (let i = 0; i < ops; i++) {
    const db = pick(4);
    send('SELECT', db);
    const k = `k${pick(200)}`;
    switch (pick(16)) {
      case 0:
        send('SET', `s:${k}`, `v${i}-${'x'.repeat(pick(100))}`);
        break;
      case 1:
        send('INCRBY', `n:${k}`, pick(1000));
        break;
      case 2:
        send('RPUSH', `l:${k}`, `a${i}`, `b${i}`, Buffer.from([0, 255, pick(256)]));
        break;
      case 3:
        send('LPOP', `l:${k}`);
        break;
      case 4:
        send('SADD', `set:${k}`, `m${pick(50)}`, `m${pick(5000)}`);
        break;
      case 5:
        send('ZADD', `z:${k}`, (r() * 1000).toFixed(3), `m${pick(300)}`);
        break;
      case 6:
        send('HSET', `h:${k}`, `f${pick(40)}`, `v${i}`);
        break;
      case 7:
        send('XADD', `x:${k}`, '*', 'f', `v${i}`);
        break;
      case 8:
        send('SET', `ttl:${k}`, `v${i}`, 'EX', 3600 + pick(1000));
        break;
      case 9:
        send('EXPIRE', `s:${k}`, 1000 + pick(1000));
        break;
      case 10: {
        const key = `short:${i}`;
        send('SET', key, 'gone-soon', 'PX', 50 + pick(100));
        w.shortLived.push([db, key]);
        break;
      }
      case 11:
        send('MULTI');
        send('INCR', `n:${k}`);
        send('HINCRBY', `h:${k}`, 'cnt', 1);
        send('SADD', `set:${k}`, `t${i}`);
        send('EXEC');
        break;
      case 12:
        send('DEL', `s:${k}`);
        break;
      case 13:
        send('INCRBYFLOAT', `f:${k}`, '1.5');
        break;
      case 14:
        send('SPOP', `set:${k}`);
        break;
      default:
        send('SET', `big:${pick(20)}`, 'y'.repeat(2000 + pick(8000)));
    }
    if (pending.length > 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending.splice(0));
  return w;
}

/** Waits until the short TTLs passed, then touches the keys so the master DELs them. */
export async function settleExpiries(c: RedisClient, w: Workload): Promise<void> {
  await sleep(250);
  for (const [db, key] of w.shortLived) {
    await c.send('SELECT', db);
    await c.send('EXISTS', key);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function masterOffset(c: RedisClient): Promise<number> {
  return Number((await c.info('replication')).master_repl_offset);
}

export async function stats(c: RedisClient): Promise<{ full: number; partialOk: number; partialErr: number }> {
  const s = await c.info('stats');
  return { full: Number(s.sync_full), partialOk: Number(s.sync_partial_ok), partialErr: Number(s.sync_partial_err) };
}

/**
 * Copies a replica directory (so loading it cannot change the original) and starts a fresh
 * redis-server on it with the AOF enabled; returns the server and its DEBUG DIGEST.
 */
export async function loadDir(dir: string, appendDirName = 'appendonlydir'): Promise<{ server: TestRedis; digest: string }> {
  const copy = mkdtempSync(join(tmpdir(), 'tsredis-load-'));
  cpSync(join(dir, appendDirName), join(copy, appendDirName), { recursive: true });
  const server = await startRedis({ dir: copy, config: { appendonly: 'yes', appenddirname: appendDirName } });
  return { server, digest: await debugDigest(server) };
}

/** DEBUG DIGEST of an RDB file loaded into a fresh redis-server. */
export async function digestOfRdb(rdbPath: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tsredis-rdb-'));
  cpSync(rdbPath, join(dir, 'dump.rdb'));
  const server = await startRedis({ dir, config: { dbfilename: 'dump.rdb' } });
  try {
    return await debugDigest(server);
  } finally {
    await server.stop();
  }
}

/** redis-check-rdb must accept a file (throws with its output otherwise). */
export function checkRdb(path: string): void {
  execFileSync('redis-check-rdb', [path], { stdio: 'pipe' });
}

/**
 * A TCP proxy on loopback between the replica and the master that can cut the link: after a
 * number of master→replica bytes on the next connection, or on demand; while paused it refuses
 * new connections.
 */
export class CutProxy {
  private server: net.Server;
  private conns = new Set<net.Socket>();
  private paused = false;
  private cutAfter: number | null = null;
  private corruptOffset: number | null = null;
  port = 0;
  connections = 0;

  /** `target` may change (a master restarted on another port). */
  constructor(public target: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Cuts the next connection once it has carried `n` bytes from the master. */
  cutAfterBytes(n: number): void {
    this.cutAfter = n;
  }

  /** Flips one byte, `n` bytes into the master→replica direction of the next connection. */
  corruptAt(n: number): void {
    this.corruptOffset = n;
  }

  /** Cuts every connection now and refuses new ones until resume(). */
  pause(): void {
    this.paused = true;
    for (const s of this.conns) s.destroy();
  }

  resume(): void {
    this.paused = false;
  }

  private accept(client: net.Socket): void {
    if (this.paused) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.target, '127.0.0.1');
    this.conns.add(client);
    this.conns.add(upstream);
    let limit = this.cutAfter;
    this.cutAfter = null;
    let flipAt = this.corruptOffset;
    this.corruptOffset = null;
    const kill = () => {
      client.destroy();
      upstream.destroy();
      this.conns.delete(client);
      this.conns.delete(upstream);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (flipAt !== null) {
        if (flipAt < d.length) {
          d = Buffer.from(d);
          d[flipAt] ^= 0xff;
          flipAt = null;
        } else flipAt -= d.length;
      }
      if (limit !== null) {
        if (d.length >= limit) {
          client.write(d.subarray(0, limit));
          kill();
          return;
        }
        limit -= d.length;
      }
      client.write(d);
    });
    client.on('error', kill).on('close', kill);
    upstream.on('error', kill).on('close', kill);
  }

  async close(): Promise<void> {
    this.pause();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
