import { open, type FileHandle } from 'node:fs/promises';
import { encodeCommand, type Arg } from '../resp/encoder.js';

/** Redis's `appendfsync` policies. */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface AofWriterOptions {
  fsync?: FsyncPolicy;
  /** Like `aof-timestamp-enabled yes`: write `#TS:<unix s>` before a write in a new second. */
  timestamps?: boolean;
  /** Clock for timestamp annotations (tests); defaults to the wall clock. */
  nowS?: () => number;
}

/** Buffered bytes above which append() writes through even with the lazy policies. */
const FLUSH_AT = 1 << 20;

/**
 * Appends commands to an AOF the way Redis's `feedAppendOnlyFile` does: a SELECT whenever the
 * target db differs from the last one written to this file (the first append always selects,
 * because the db in effect at the end of an existing file is unknown), optional `#TS:` lines, and
 * the fsync policy always (fsync before append() resolves), everysec (at most once a second, and
 * on close) or no (left to the OS, except on close).
 */
export class AofWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private selectedDb = -1;
  private lastTs = 0;
  private lastSync = Date.now();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes handed to the file (written or buffered) since open. */
  bytesWritten = 0;

  /** The db the file is at (-1 until the first command since open). */
  get currentDb(): number {
    return this.selectedDb;
  }

  /** The last `#TS:` second written since open (0 for none). */
  get lastTimestamp(): number {
    return this.lastTs;
  }

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly policy: FsyncPolicy,
    private readonly opts: AofWriterOptions,
  ) {
    if (policy === 'everysec') {
      this.timer = setInterval(() => void this.flush().catch(() => {}), 1000);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) `path` for appending. */
  static async open(path: string, opts: AofWriterOptions = {}): Promise<AofWriter> {
    const fh = await open(path, 'a');
    return new AofWriter(fh, path, opts.fsync ?? 'everysec', opts);
  }

  /** Appends one command for `db`. */
  async append(db: number, argv: readonly Arg[]): Promise<void> {
    this.prelude(db);
    this.queue(encodeCommand(argv));
    if (this.policy === 'always' || this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  /**
   * Queues one command that is already RESP-encoded (a replication stream frame, kept byte for
   * byte: no re-encoding on the replica's hot path), with the same SELECT and `#TS:` handling
   * as append(). Nothing is written until flush(), which the caller runs once per batch.
   */
  appendEncoded(db: number, frame: Buffer): void {
    this.prelude(db);
    this.queue(frame);
  }

  /** What precedes every command: the `#TS:` line of a new second, SELECT on a db change. */
  private prelude(db: number): void {
    if (this.closed) throw new Error(`AOF writer for ${this.path} is closed`);
    if (this.opts.timestamps) this.queueTimestamp((this.opts.nowS ?? (() => Math.floor(Date.now() / 1000)))());
    if (db !== this.selectedDb) {
      this.queue(encodeCommand(['SELECT', String(db)]));
      this.selectedDb = db;
    }
  }

  /** Writes `#TS:<unixS>` unless an annotation for this second (or a later one) was written. */
  async annotateTimestamp(unixS: number): Promise<void> {
    this.queueTimestamp(unixS);
    if (this.policy === 'always') await this.flush();
  }

  private queueTimestamp(unixS: number): void {
    if (unixS <= this.lastTs) return;
    this.lastTs = unixS;
    this.queue(Buffer.from(`#TS:${unixS}\r\n`));
  }

  private queue(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.bytesWritten += b.length;
  }

  /** Writes buffered bytes, then fsyncs as the policy asks (flushes run one at a time, in order). */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.flushNow());
    this.chain = run.catch(() => {});
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.pendingBytes > 0) {
      const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      await this.fh.write(data);
      this.dirty = true;
    }
    const now = Date.now();
    if (this.dirty && (this.policy === 'always' || (this.policy === 'everysec' && now - this.lastSync >= 1000))) {
      await this.fh.sync();
      this.dirty = false;
      this.lastSync = now;
    }
  }

  /** Flushes, fsyncs whatever the policy (a closed AOF is a durable AOF) and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    if (this.dirty) await this.fh.sync();
    this.closed = true;
    await this.fh.close();
  }
}
