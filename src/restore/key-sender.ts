import { encodeCommand } from '../codec/resp/encoder.js';
import { IoError } from '../util/errors.js';
import type { ClusterTopology } from './cluster-topology.js';
import { keySlot } from './hash-slot.js';
import type { Conn, NodePool } from './node-pool.js';
import { encodeRestore } from './restore-command.js';
import type { ReplyHandler } from './restore-pipe.js';
import type { KeyCheck, LiveChecks } from './verify.js';

/** One key ready to go: a RESTORE payload, or (big keys) plain commands that rebuild it (RESP, one after another). */
export interface KeyJob {
  db: number;
  key: Buffer;
  expireAtMs: number | null;
  idleSeconds?: number;
  freq?: number;
  payload?: Buffer;
  commands?: Buffer;
  /** Bytes this key puts on the wire (for progress and reports). */
  bytes: number;
  /** restore --verify: compared right behind the write (LiveChecks). */
  check?: KeyCheck;
}

/** A key's commands, written as they are made (KeySender.streamKey). */
export interface KeyStream {
  /** Whole RESP commands (copied: the caller may reuse the memory). */
  write(frames: Buffer): void;
  /** The last commands are written; resolves once every reply is in. */
  end(): Promise<void>;
}

export interface SendStats {
  restored: number;
  bytes: number;
  conflicts: number;
  failed: number;
  /** By-command keys (big keys) among `restored`. */
  asCommands: number;
  redirects: number;
  /** Keys that were not restored, with why (capped for memory; counts stay exact). */
  problems: Array<{ db: number; key: Buffer; reason: string }>;
}

/** Error codes after which going on would only repeat the failure for every key. */
const FATAL = new Set(['OOM', 'READONLY', 'NOAUTH', 'NOPERM', 'MISCONF', 'WRONGPASS', 'MASTERDOWN', 'IOERR']);
const RETRY = new Set(['TRYAGAIN', 'CLUSTERDOWN', 'LOADING', 'BUSY']);
const MAX_PROBLEMS = 1000;
const MAX_ATTEMPTS = 30;
const CONFLICT = 'exists on the target (use --replace to overwrite)';

const codeOf = (text: string): string => {
  const sp = text.indexOf(' ');
  return sp < 0 ? text : text.slice(0, sp);
};

/**
 * Windowed pipelined RESTORE over the pool's parallel pipelines: at most `window` commands in
 * flight per pipeline, replies matched in order. Cluster keys go to their slot's master; MOVED
 * updates the slot map and resends, ASK resends once with ASKING, TRYAGAIN backs off.
 */
export class KeySender {
  readonly stats: SendStats = { restored: 0, bytes: 0, conflicts: 0, failed: 0, asCommands: 0, redirects: 0, problems: [] };
  private pending = 0;
  private drainWaiters: Array<() => void> = [];
  private fatal: Error | null = null;
  /** Bytes of big keys' commands held until their pipeline is open (EXISTS answered), and who waits for fewer. */
  private queuedBytes = 0;
  private queueWaiters: Array<() => void> = [];

  constructor(
    private readonly pool: NodePool,
    private readonly topology: ClusterTopology | null,
    private readonly opts: { window: number; replace: boolean; checks?: LiveChecks },
  ) {}

  private addressFor(key: Buffer): string {
    return this.topology ? this.topology.masterFor(keySlot(key)) : this.pool.seedAddress;
  }

  private check(): void {
    if (this.fatal) throw this.fatal;
  }

  /**
   * Queues a key. Returns nothing when it went on the wire at once (the common case, kept free of
   * promises for speed), else a promise that resolves once it did (back-pressure via the window).
   */
  submit(job: KeyJob): Promise<void> | undefined {
    this.check();
    const address = this.addressFor(job.key);
    if (job.commands) {
      const st = this.streamKey(job);
      st.write(job.commands);
      return st.end();
    }
    const conn = this.pool.pickReady(address);
    if (conn && conn.pipe.inFlight < this.opts.window && conn.db === job.db) {
      this.restoreOn(conn, job, false, 0);
      return undefined;
    }
    return this.sendRestore(job, address, false, 0);
  }

  /**
   * Null while every pipeline has less than STREAM_BUFFER bytes queued (and big keys waiting for
   * their pipeline as much), else a promise that resolves once it drains: the reader waits on it
   * between reads, so big keys' commands and RESTORE payloads never pile up in memory when the
   * server is slower than the reader.
   */
  writable(): Promise<void> | null {
    if (this.queuedBytes > STREAM_BUFFER) return new Promise<void>((r) => this.queueWaiters.push(r));
    for (const conn of this.pool.openPipes()) {
      const socket = conn.pipe.socket;
      if (socket.writableLength > STREAM_BUFFER) return new Promise<void>((r) => socket.once('drain', r).once('close', r));
    }
    return null;
  }

  /** Waits for every reply. */
  async drain(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((r) => this.drainWaiters.push(r));
    this.check();
  }

  private cork(conn: Conn): void {
    if (conn.corked) return;
    // Gather this turn's commands into one writev instead of one syscall per command.
    conn.corked = true;
    conn.pipe.socket.cork();
    setImmediate(() => {
      conn.corked = false;
      conn.pipe.socket.uncork();
    });
  }

  /** Sends a frame of `replies` commands (one by default), each counted in flight until its reply. */
  private send(conn: Conn, frame: Buffer, onReply: ReplyHandler, replies = 1, bytes = false): void {
    this.cork(conn);
    this.pending += replies;
    conn.pipe.send(
      frame,
      (ok, text, bulk) => {
        onReply(ok, text, bulk);
        if (conn.waiters.length) conn.waiters.shift()!();
        if (--this.pending === 0 && this.drainWaiters.length) for (const w of this.drainWaiters.splice(0)) w();
      },
      replies,
      bytes,
    );
  }

  private async acquire(address: string, db: number): Promise<Conn> {
    const conn = await this.pool.pick(address);
    while (conn.pipe.inFlight >= this.opts.window) await new Promise<void>((r) => conn.waiters.push(r));
    this.select(conn, db);
    return conn;
  }

  /** Queues SELECT on `conn` unless `db` is selected there already. */
  private select(conn: Conn, db: number): void {
    if (conn.db === db) return;
    conn.db = db;
    this.send(conn, encodeCommand(['SELECT', db]), (ok, text) => {
      if (!ok) this.fail(new IoError(`${this.pool.seed.display}: SELECT ${db} failed: ${text}`));
    });
  }

  private fail(e: Error): void {
    this.fatal ??= e;
  }

  private async sendRestore(job: KeyJob, address: string, asking: boolean, attempt: number): Promise<void> {
    this.restoreOn(await this.acquire(address, job.db), job, asking, attempt);
  }

  private restoreOn(conn: Conn, job: KeyJob, asking: boolean, attempt: number): void {
    // A big key's commands (not awaited by the reader) may have SELECTed another db since acquire().
    this.select(conn, job.db);
    if (asking) this.send(conn, ASKING, () => {});
    const frame = encodeRestore(job.key, job.expireAtMs, job.payload!, this.opts.replace, job.idleSeconds, job.freq);
    let written = false;
    this.send(conn, frame, (ok, text) => {
      written = ok;
      if (ok) {
        this.stats.restored++;
        this.stats.bytes += job.bytes;
        return;
      }
      const again = this.settle(job, text, attempt);
      if (!again) return;
      // Resent from the reply handler: keep the drain open until the retry is queued.
      this.pending++;
      void again
        .then(([addr, ask]) => this.sendRestore(job, addr, ask, attempt + 1))
        .catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))))
        .finally(() => this.settled());
    });
    this.sendCheck(conn, job, () => written);
  }

  /** One reply or stream less to wait for. */
  private settled(): void {
    if (--this.pending === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** restore --verify: the key's DIGEST-VALUE (or DUMP) and TTL, behind its write on the same pipeline. */
  private sendCheck(conn: Conn, job: KeyJob, written: () => boolean): void {
    const checks = this.opts.checks;
    if (!checks || !job.check) return;
    const [content, ttl] = checks.handlers(job.db, job.key, job.check, written);
    const frame = checks.frames(job.key, job.check);
    let replies = 0;
    this.send(conn, frame, (ok, text, bulk) => (replies++ === 0 ? content(ok, text, bulk) : ttl(ok, text)), 2, job.check.print !== null);
  }

  /**
   * Classifies an error reply: a promise of where to resend the key, or null when the key is
   * settled (conflict, failure or fatal).
   */
  private settle(job: KeyJob, text: string, attempt: number): Promise<[string, boolean]> | null {
    const code = codeOf(text);
    if (code === 'BUSYKEY') {
      this.stats.conflicts++;
      this.problem(job, CONFLICT);
      return null;
    }
    if (FATAL.has(code)) {
      this.fail(new IoError(`${this.pool.seed.display}: target refused ${job.commands ? 'a command' : 'RESTORE'}: ${text.replace(/^IOERR /, '')}`));
      return null;
    }
    if ((code === 'MOVED' || code === 'ASK' || RETRY.has(code)) && attempt < MAX_ATTEMPTS) {
      this.stats.redirects++;
      if (code === 'MOVED' || code === 'ASK') {
        const [, slot, addr] = text.split(' ');
        if (code === 'MOVED') this.topology?.moved(Number(slot), addr!);
        return Promise.resolve([addr!, code === 'ASK']);
      }
      return new Promise((res) => setTimeout(() => res([this.addressFor(job.key), false]), Math.min(1000, 50 * (attempt + 1))));
    }
    this.stats.failed++;
    this.problem(job, text);
    return null;
  }

  private problem(job: KeyJob, reason: string): void {
    if (this.stats.problems.length < MAX_PROBLEMS) this.stats.problems.push({ db: job.db, key: job.key, reason });
  }

  /**
   * A key rebuilt with plain commands on a pipeline, in order: EXISTS first (a conflict unless
   * --replace, which DELs), then the commands as they are written to the stream: queued until that
   * reply is in, then handed to the socket as they come, while the reader goes on (a big key is
   * never held whole). Nothing is sent before the first write (a key dropped on the way costs
   * nothing). Other keys may share the pipeline (commands run in order).
   */
  streamKey(job: KeyJob): KeyStream {
    this.check();
    let conn: Conn | null = null;
    let asking = false;
    /** opening: waiting for the pipeline and the EXISTS/DEL reply; closed: nothing more is sent (a conflict, a failed EXISTS). */
    let state: 'idle' | 'opening' | 'open' | 'closed' = 'idle';
    const queue: Buffer[] = [];
    let outstanding = 0;
    let failure: string | null = null;
    let ended = false;
    let finished = false;
    let finish: () => void = () => {};
    const done = new Promise<void>((r) => (finish = r));
    const onReply = (ok: boolean, text: string): void => {
      if (!ok) failure ??= text;
      outstanding--;
      maybeFinish();
    };
    const maybeFinish = (): void => {
      if (finished || !ended || state === 'opening' || outstanding > 0) return;
      finished = true;
      if (state === 'open') {
        if (failure === null) {
          this.stats.restored++;
          this.stats.asCommands++;
          this.stats.bytes += job.bytes;
        } else if (FATAL.has(codeOf(failure))) this.fail(new IoError(`${this.pool.seed.display}: target refused a command: ${failure}`));
        else {
          this.stats.failed++;
          this.problem(job, `rebuilding with commands failed: ${failure}`);
        }
      }
      if (state !== 'idle') this.settled();
      finish();
    };
    const put = (frames: Buffer): void => {
      const c = conn!;
      // Other keys may have SELECTed another db on this pipeline since the last commands.
      this.select(c, job.db);
      for (let pos = 0; pos < frames.length; ) {
        let end = pos;
        let count = 0;
        while (end < frames.length && end - pos < COMMAND_CHUNK) {
          end = commandEnd(frames, end);
          count++;
        }
        outstanding += count;
        if (!asking) this.send(c, frames.subarray(pos, end), onReply, count);
        else {
          // ASKING holds for one command only.
          for (let p = pos; p < end; ) {
            const next = commandEnd(frames, p);
            this.send(c, ASKING, () => {});
            this.send(c, frames.subarray(p, next), onReply);
            p = next;
          }
        }
        pos = end;
      }
    };
    const close = (): void => {
      if (!failure) this.sendCheck(conn!, job, () => failure === null);
    };
    const open = async (): Promise<void> => {
      let address = this.addressFor(job.key);
      for (let attempt = 0; ; attempt++) {
        const c = await this.acquire(address, job.db);
        const [ok, text] = await new Promise<[boolean, string]>((resolve) => {
          // Other keys may have SELECTed another db on this pipeline since acquire() returned.
          this.select(c, job.db);
          if (asking) this.send(c, ASKING, () => {});
          this.send(c, encodeCommand(this.opts.replace ? ['DEL', job.key] : ['EXISTS', job.key]), (ok, text) => resolve([ok, text]));
        });
        if (!ok) {
          const again = this.settle(job, text, attempt);
          if (!again) break;
          [address, asking] = await again;
          continue;
        }
        if (!this.opts.replace && text === '1') {
          this.stats.conflicts++;
          this.problem(job, CONFLICT);
          break;
        }
        conn = c;
        state = 'open';
        for (const frames of takeQueue()) put(frames);
        if (ended) close();
        maybeFinish();
        return;
      }
      state = 'closed';
      takeQueue();
      maybeFinish();
    };
    /** Empties the queue (its bytes no longer held back the read) and returns what it held. */
    const takeQueue = (): Buffer[] => {
      const taken = queue.splice(0);
      for (const f of taken) this.queuedBytes -= f.length;
      if (this.queuedBytes <= STREAM_BUFFER) for (const w of this.queueWaiters.splice(0)) w();
      return taken;
    };
    return {
      write: (frames) => {
        if (state === 'closed' || frames.length === 0) return;
        if (state === 'open') {
          put(Buffer.from(frames));
          return;
        }
        queue.push(Buffer.from(frames));
        this.queuedBytes += frames.length;
        if (state === 'idle') {
          state = 'opening';
          this.pending++;
          open().catch((e: unknown) => {
            this.fail(e instanceof Error ? e : new Error(String(e)));
            state = 'closed';
            takeQueue();
            maybeFinish();
          });
        }
      },
      end: () => {
        ended = true;
        if (state === 'open') close();
        maybeFinish();
        return done;
      },
    };
  }
}

const ASKING = encodeCommand(['ASKING']);
/** A big key's commands are handed to the socket about this many bytes at a time. */
const COMMAND_CHUNK = 256 << 10;
/** Bytes a pipeline may have queued before the reader waits (writable()). */
const STREAM_BUFFER = 16 << 20;

/** Where the RESP command (`*n` then n bulk strings) that starts at `pos` ends; the frames are our own. */
function commandEnd(b: Buffer, pos: number): number {
  let p = pos + 1;
  let n = 0;
  while (b[p] !== 13) n = n * 10 + b[p++]! - 48;
  p += 2;
  for (let i = 0; i < n; i++) {
    let len = 0;
    p++; // $
    while (b[p] !== 13) len = len * 10 + b[p++]! - 48;
    p += 4 + len;
  }
  return p;
}
