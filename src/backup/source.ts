import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespError } from '../codec/resp/types.js';
import { RedisClient } from '../net/redis-client.js';
import { refuseClusterNode } from './cluster-guard.js';
import { parseRedisUrl, redactUrl, type RedisEndpoint } from '../net/redis-url.js';
import { IoError, UsageError } from '../util/errors.js';

/** An RDB byte stream to back up, and what to record about where it came from. */
export interface OpenedSource {
  kind: 'file' | 'bgsave' | 'replication';
  /** For logs and the manifest (URLs redacted). */
  location: string;
  stream: Readable;
  /** Size when known up front (files), for progress and S3 part sizing. */
  size?: number;
  /** Settles when the producer is done: rejects if the transfer failed (replication). */
  done: Promise<void>;
  /** Every chunk is a fresh buffer of its own that nobody else holds (file reads): it may be handed to another thread. */
  ownsChunks?: boolean;
}

export interface SourceOptions {
  passwordFile?: string;
  /** bgsave: the RDB path when CONFIG GET is renamed away or the path differs on this host. */
  rdbPath?: string;
  /** bgsave: give up waiting for the save after this long. */
  saveTimeoutMs?: number;
  /** Back up a Redis Cluster node's own shard (refused without it: see cluster-guard.ts). */
  shardOnly?: boolean;
  log?: (line: string) => void;
}

/**
 * Opens SOURCE: a file path, `-` (stdin), `bgsave:redis://host:port` or `redis://host:port`. Files are opened
 * once and read through that descriptor: Redis replaces dump.rdb by rename, so the inode we hold
 * stays the complete file that was there when we opened it.
 */
export async function openSource(spec: string, opts: SourceOptions = {}): Promise<OpenedSource> {
  // `-`: an RDB piped in (e.g. from `redis-cli --rdb /dev/stdout`); its size is not known ahead.
  if (spec === '-') return { kind: 'file', location: 'stdin', stream: process.stdin, done: Promise.resolve() };
  const url = spec.startsWith('bgsave:') ? spec.slice('bgsave:'.length) : /^rediss?:\/\//.test(spec) ? spec : null;
  if (url !== null) {
    const ep = parseRedisUrl(url, { passwordFile: opts.passwordFile });
    if (!opts.shardOnly) await refuseClusterNode(ep, { log: opts.log });
    return url === spec ? openReplication(ep) : openBgsave(ep, opts);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new UsageError(`unsupported source ${redactUrl(spec)} (a file, bgsave:redis://host:port or redis://host:port)`);
  return openFile(spec, 'file', spec);
}

async function openFile(path: string, kind: OpenedSource['kind'], location: string): Promise<OpenedSource> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new IoError(`cannot open ${path}: ${e.code ?? e.message}`);
  });
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new UsageError(`${path} is not a regular file`);
  }
  const stream = fh.createReadStream({ highWaterMark: 1 << 20 });
  return { kind, location, stream, size: st.size, done: Promise.resolve(), ownsChunks: true };
}

/** BGSAVE on the node, wait until LASTSAVE moves (and the save reported ok), then read its file. */
async function openBgsave(ep: RedisEndpoint, opts: SourceOptions): Promise<OpenedSource> {
  const client = await RedisClient.connect(ep).catch((e: unknown) => {
    throw e instanceof IoError ? e : new IoError(`${ep.display}: ${(e as Error).message}`);
  });
  try {
    let path = opts.rdbPath;
    if (!path) {
      const cfg = (name: string) => client.call('CONFIG', 'GET', name).then((v) => (Array.isArray(v) ? String(v[1] ?? '') : ''));
      const [dir, file] = await Promise.all([cfg('dir'), cfg('dbfilename')]).catch(() => {
        throw new UsageError(`${ep.display}: CONFIG GET is not allowed; give the RDB path with --rdb-path`);
      });
      path = join(dir, file);
    }
    const lastSave = async () => Number(await client.call('LASTSAVE'));
    let before = await lastSave();
    // LASTSAVE has one-second resolution: if a save finished this very second, let the clock move.
    while (before >= Math.floor(Date.now() / 1000)) {
      await sleep(200);
      before = await lastSave();
    }
    const reply = await client.send('BGSAVE');
    if (reply instanceof RespError) {
      if (!/in progress/i.test(reply.message)) throw new IoError(`${ep.display}: BGSAVE refused: ${reply.message}`);
      // A save is already running: its data predates our request; let it finish, then ask again.
      await waitForSave(client, ep, before, opts);
      before = await lastSave();
      await sleep(1000);
      await client.call('BGSAVE');
    }
    opts.log?.(`BGSAVE started on ${ep.display}`);
    await waitForSave(client, ep, before, opts);
    opts.log?.(`BGSAVE done; reading ${path}`);
    return await openFile(path, 'bgsave', `${ep.display} (${path})`);
  } finally {
    client.close();
  }
}

async function waitForSave(client: RedisClient, ep: RedisEndpoint, before: number, opts: SourceOptions): Promise<void> {
  const deadline = Date.now() + (opts.saveTimeoutMs ?? 3_600_000);
  for (;;) {
    const info = await client.info('persistence');
    if (Number(await client.call('LASTSAVE')) > before && info.rdb_bgsave_in_progress === '0') {
      if (info.rdb_last_bgsave_status !== 'ok') throw new IoError(`${ep.display}: BGSAVE failed (rdb_last_bgsave_status:${info.rdb_last_bgsave_status})`);
      return;
    }
    if (Date.now() > deadline) throw new IoError(`${ep.display}: BGSAVE did not finish in time`);
    await sleep(100);
  }
}

/** A fresh RDB over the replication protocol (the replica client's one-shot mode). */
async function openReplication(ep: RedisEndpoint): Promise<OpenedSource> {
  const { fetchSnapshot } = await import('../replica/snapshot.js');
  const stream = new PassThrough({ highWaterMark: 1 << 20 });
  const done = fetchSnapshot(ep, stream).then(
    () => {
      stream.end();
    },
    (e: unknown) => {
      stream.destroy(e as Error);
      throw e;
    },
  );
  done.catch(() => {});
  return { kind: 'replication', location: ep.display, stream, done };
}
