import type tls from 'node:tls';
import { join } from 'node:path';
import type { AofWriter, FsyncPolicy } from '../codec/aof/writer.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { withAtomicFile } from '../util/atomic-file.js';
import { ExitCode, RefusedError, ToolError, oneLine } from '../util/errors.js';
import { AofDirectory } from './aof-directory.js';
import { BackgroundFsync } from './background-fsync.js';
import { receiveRdbPayload } from './bulk-transfer.js';
import { CommandStream } from './command-stream.js';
import { handshake, type MasterLink, type PsyncReply } from './link.js';
import { RdbValidator, type RdbSummary } from './rdb-validator.js';
import { readState, STATE_FILE, writeState, type ReplicaState } from './state-file.js';
import { countersOf, linkHealthy, newStatus, restoreCounters, type ReplicaStatus } from './status.js';

export type ShrinkPolicy = 'keep' | 'follow' | 'stop';

export interface ReplicaOptions {
  endpoint: RedisEndpoint;
  dir: string;
  appendDirName?: string;
  fsync?: FsyncPolicy;
  /** Silence from the master longer than this kills the link (default 60 s). */
  timeoutMs?: number;
  /** Port announced with REPLCONF listening-port. */
  announcePort?: number;
  tls?: tls.ConnectionOptions;
  onShrink?: ShrinkPolicy;
  /** A new dataset with fewer than this fraction of the previous base's keys is a shrink (default 0.5). */
  shrinkRatio?: number;
  /** When the incr AOF grows past this, a full sync starts a new base (default 1 GiB). */
  maxIncrBytes?: number;
  /** Reconnect delays: doubling from initial to max; back to initial after a link up for healthyMs (default 30 s). */
  backoffMs?: { initial: number; max: number; healthyMs?: number };
  log?: (line: string) => void;
  /** Told about every sync, batch and stop (the point-in-time archive). */
  tap?: ReplicaTap;
}

/** Where the stream stands after a batch: the offset and the incr AOF byte it ends at. */
export interface StreamPosition {
  replid: string;
  offset: number;
  incrFile: string;
  incrPos: number;
  /** DB and `#TS:` second the incr AOF is at (-1 / 0 when the writer has written nothing yet). */
  db: number;
  ts: number;
  /** Commands applied on this link so far. */
  commands: number;
}

/**
 * Something that follows the stored stream (src/pitr's archiver). Its state travels in the replica
 * state file (`snapshot()`), written in the same atomic write as the offset it refers to. Calls
 * returning true ask for that state to be written before the stream goes on.
 */
export interface ReplicaTap {
  /** After the state file was read; false: the files cannot continue what the tap had, do a full sync. */
  resume(state: ReplicaState | null): Promise<boolean>;
  /** Before each connection (may wait). */
  beforeConnect(): Promise<void>;
  onContinue(pos: StreamPosition, previousReplid: string): boolean;
  /** Before a full sync replaces the files (the old ones are deleted after it). */
  beforeNewGeneration(): Promise<void>;
  onFullSync(info: { replid: string; offset: number; baseFile: string; incrFile: string; keys: number }): void;
  /** May throw to drop the link (e.g. the tap cannot keep up). */
  afterBatch(pos: StreamPosition): boolean;
  onStop(): Promise<boolean>;
  snapshot(): unknown;
  /** The state holding snapshot() is durable. */
  afterStateWrite(): void;
}

const SECOND = 1000;

/** A full sync refused by the shrink guard (the previous generation stays in place). */
class ShrinkRefused extends RefusedError {}

/**
 * The replica state machine (the outer loop of replication.c's `replicationCron` +
 * `syncWithMaster`): CONNECT → handshake → PSYNC → (full sync | continue) → STREAMING, and on any
 * link loss back to CONNECT after a backoff, resuming with PSYNC <replid> <offset+1>. What it
 * receives is kept as a multi-part AOF directory plus a state file (see aof-directory.ts,
 * state-file.ts). Fatal conditions (authentication, permissions, the shrink guard in `stop`
 * mode) end `run()` with a ToolError; everything else is retried.
 */
export class Replica {
  readonly status: ReplicaStatus;
  private readonly aof: AofDirectory;
  private readonly statePath: string;
  private readonly opts: Required<Omit<ReplicaOptions, 'tls' | 'log' | 'tap'>> & Pick<ReplicaOptions, 'tls'>;
  private readonly tap: ReplicaTap | null;
  private readonly log: (line: string) => void;
  private state: ReplicaState | null = null;
  private link: MasterLink | null = null;
  private writer: AofWriter | null = null;
  private incrStart = 0;
  private stream: CommandStream | null = null;
  private stopping = false;
  private forceFull = false;
  private wake: (() => void) | null = null;
  private lastSave = 0;
  /** everysec: the fsync that runs beside the writes. */
  private syncer: BackgroundFsync | null = null;
  /** The state write started by the stream loop (never awaited there). */
  private saving: Promise<void> | null = null;
  private backgroundError: unknown = null;
  /** A batch (or an idle tick) is being finished: flush, tap, state. */
  private batchBusy = false;
  /** Told how many bytes a link carried when it closes (for cumulative counters). */
  onLinkClosed: ((bytes: number) => void) | null = null;

  constructor(opts: ReplicaOptions) {
    this.opts = {
      appendDirName: 'appendonlydir',
      fsync: 'everysec',
      timeoutMs: 60 * SECOND,
      announcePort: 0,
      onShrink: 'keep',
      shrinkRatio: 0.5,
      maxIncrBytes: 1 << 30,
      backoffMs: { initial: SECOND, max: 30 * SECOND },
      ...opts,
    };
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.tap = opts.tap ?? null;
    this.aof = new AofDirectory(opts.dir, this.opts.appendDirName);
    this.statePath = join(opts.dir, STATE_FILE);
    this.status = newStatus(opts.endpoint.display, opts.dir);
  }

  /** Runs until stop() (resolves) or a fatal error (rejects with a ToolError). */
  async run(): Promise<void> {
    await this.aof.ensure();
    this.state = await this.loadResumableState();
    if (this.tap && !(await this.tap.resume(this.state))) this.forceFull = true;
    let backoff = this.opts.backoffMs.initial;
    while (!this.stopping) {
      try {
        await this.session();
        backoff = this.opts.backoffMs.initial;
      } catch (e) {
        if (this.stopping) break;
        const fatal = e instanceof ToolError && (e.exitCode === ExitCode.CRYPTO || (e instanceof RefusedError && !(e instanceof ShrinkRefused)));
        this.status.lastError = oneLine(e);
        if (fatal) {
          this.setLink('down');
          throw e;
        }
        // A lost link that had been healthy is a blip: the delays start over (they only grow while links keep failing).
        if (linkHealthy(this.status, this.opts.backoffMs.healthyMs)) backoff = this.opts.backoffMs.initial;
        if (e instanceof ShrinkRefused) backoff = this.opts.backoffMs.max;
        this.log(`link down: ${oneLine(e)}; retrying in ${(backoff / SECOND).toFixed(1)} s`);
      } finally {
        await this.closeSession();
      }
      if (this.stopping) break;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.opts.backoffMs.max);
    }
    if (this.tap && (await this.tap.onStop())) await this.persistState();
    this.setLink('stopped');
  }

  /** Writes the state as it stands (offset untouched) with the tap's part, once the writes before it are done. */
  private async persistState(): Promise<void> {
    await this.saving;
    if (!this.state) return;
    await writeState(this.statePath, { ...this.state, ...(this.tap ? { archive: this.tap.snapshot() } : {}) });
    this.tap?.afterStateWrite();
  }

  /** Clean shutdown: ends the link, flushes the AOF and saves the state. */
  stop(): void {
    this.stopping = true;
    this.link?.kill('shutting down');
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  private setLink(link: ReplicaStatus['link']): void {
    this.status.link = link;
  }

  /** The saved state, if the files on disk still match it; otherwise null (a full sync follows). */
  private async loadResumableState(): Promise<ReplicaState | null> {
    const s = await readState(this.statePath);
    if (!s) return null;
    restoreCounters(this.status, s);
    const gen = await this.aof.current();
    const incrSize = gen ? await this.aof.sizeOf(gen.incrFile) : -1;
    if (!gen || gen.baseFile !== s.baseFile || gen.incrFile !== s.incrFile || incrSize < s.incrSize || s.appendDirName !== this.opts.appendDirName) {
      this.log(`state in ${this.statePath} does not match ${this.aof.path}: a full resync will replace it (the current files stay until it succeeds)`);
      // Keep the shrink reference: the previous dataset is still on disk until a new one is installed.
      return { ...s, replid: '0'.repeat(40), offset: -1 };
    }
    this.status.replid = s.replid;
    this.status.offset = s.offset;
    return s;
  }

  /** One connection: handshake, sync, then stream until the link ends. */
  private async session(): Promise<void> {
    await this.tap?.beforeConnect();
    if (this.stopping) return;
    this.setLink('connecting');
    const st = this.state;
    const resume = st && st.offset >= 0 && !this.forceFull ? { replid: st.replid, offset: st.offset } : null;
    this.log(`connecting to ${this.opts.endpoint.display}${resume ? ` (PSYNC ${resume.replid} ${resume.offset + 1})` : ' (PSYNC ? -1)'}`);
    const { link, reply } = await handshake(this.opts.endpoint, resume, {
      announcePort: this.opts.announcePort,
      timeoutMs: this.opts.timeoutMs,
      tls: this.opts.tls,
    });
    this.link = link;
    if (this.stopping) return;
    if (reply.kind === 'continue' && st) await this.resumePartial(st, reply);
    else if (reply.kind === 'full') await this.fullSync(link, reply);
    else throw new ToolError('master accepted a partial resync we did not ask for');
    await this.streamCommands(link);
  }

  private async resumePartial(st: ReplicaState, reply: Extract<PsyncReply, { kind: 'continue' }>): Promise<void> {
    const previousReplid = st.replid;
    if (reply.replid && reply.replid !== st.replid) {
      this.log(`master changed replication id ${st.replid} -> ${reply.replid} (failover); continuing at offset ${st.offset}`);
      st.replid = reply.replid;
    }
    await this.openIncr(st.incrFile, st.incrSize);
    this.incrStart = st.incrSize;
    this.stream = new CommandStream(st.offset, st.db);
    this.status.partialSyncs++;
    this.status.replid = st.replid;
    this.status.offset = st.offset;
    this.log(`partial resync accepted: continuing at offset ${st.offset} (replid ${st.replid})`);
    if (this.tap?.onContinue(this.position(), previousReplid)) await this.persistState();
  }

  /** The stream's position for the tap (after the writer was flushed). */
  private position(): StreamPosition {
    const st = this.state!;
    const w = this.writer!;
    return { replid: st.replid, offset: this.stream!.offset, incrFile: st.incrFile, incrPos: this.incrStart + w.bytesWritten, db: w.currentDb, ts: w.lastTimestamp, commands: this.stream!.commands };
  }

  /** Opens the incr AOF; with everysec the writer only writes and the fsync runs beside it. */
  private async openIncr(name: string, size: number): Promise<void> {
    const everysec = this.opts.fsync === 'everysec';
    this.writer = await this.aof.openIncr(name, size, everysec ? 'no' : this.opts.fsync);
    this.syncer = everysec ? await BackgroundFsync.open(this.aof.file(name)) : null;
  }

  private async fullSync(link: MasterLink, reply: Extract<PsyncReply, { kind: 'full' }>): Promise<void> {
    this.setLink('sync');
    const started = Date.now();
    this.log(`full resync: replid ${reply.replid} offset ${reply.offset}; receiving the RDB`);
    const prev = this.state;
    const gen = await this.aof.nextGeneration();
    let summary: RdbSummary | null = null;
    let keepOld = false;
    await withAtomicFile(this.aof.file(gen.baseFile), async (fh) => {
      const validator = new RdbValidator(`RDB from ${this.opts.endpoint.display}`);
      try {
        this.status.transfer = { bytes: 0, total: null };
        const info = await receiveRdbPayload(
          link,
          async (chunk) => {
            await Promise.all([validator.push(chunk), fh.write(chunk)]);
            this.status.transfer!.bytes += chunk.length;
          },
          (mode, len) => {
            this.status.transfer!.total = len;
            this.log(`RDB transfer started (${mode}${len !== null ? `, ${len} bytes` : ''})`);
          },
        );
        summary = await validator.finish();
        this.log(`RDB received and verified: ${info.bytes} bytes, ${summary.keys} keys, ${((Date.now() - started) / SECOND).toFixed(1)} s (${info.mode})`);
      } catch (e) {
        validator.abort();
        throw e;
      } finally {
        this.status.transfer = null;
      }
      keepOld = this.shrinkGuard(prev, reply.replid, summary);
    });
    const rdb = summary as unknown as RdbSummary;
    await this.tap?.beforeNewGeneration();
    const keepDir = keepOld ? join(this.opts.dir, `${this.opts.appendDirName}.before-shrink-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
    await this.aof.install(gen, keepDir);
    if (keepDir) this.log(`previous generation kept in ${keepDir}`);
    const db = Number(rdb.aux['repl-stream-db'] ?? 0);
    this.state = {
      version: 1,
      master: this.opts.endpoint.display,
      replid: reply.replid,
      offset: reply.offset,
      db: Number.isInteger(db) && db >= 0 ? db : 0,
      appendDirName: this.opts.appendDirName,
      baseFile: gen.baseFile,
      incrFile: gen.incrFile,
      incrSize: 0,
      baseKeys: rdb.keys,
      baseBytes: rdb.bytes,
      lastFullSyncAt: new Date().toISOString(),
      ...countersOf({ ...this.status, fullSyncs: this.status.fullSyncs + 1 }),
      updatedAt: '',
    };
    this.tap?.onFullSync({ replid: reply.replid, offset: reply.offset, baseFile: gen.baseFile, incrFile: gen.incrFile, keys: rdb.keys });
    await writeState(this.statePath, { ...this.state, ...(this.tap ? { archive: this.tap.snapshot() } : {}) });
    this.tap?.afterStateWrite();
    this.forceFull = false;
    await this.openIncr(gen.incrFile, 0);
    this.incrStart = 0;
    this.stream = new CommandStream(reply.offset, this.state.db);
    this.status.fullSyncs++;
    this.status.replid = reply.replid;
    this.status.offset = reply.offset;
    this.status.lastFullSyncAt = this.state.lastFullSyncAt;
    this.status.baseKeys = rdb.keys;
    this.log(`new base ${gen.baseFile} installed in ${this.aof.path}`);
  }

  /**
   * The empty-master trap: a master restarted without persistence comes back empty under a new
   * replid and would wipe every replica. Returns true when the old generation must be kept aside;
   * throws to refuse the sync (keep / stop).
   */
  private shrinkGuard(prev: ReplicaState | null, replid: string, rdb: RdbSummary | null): boolean {
    if (!prev || !rdb || prev.replid === replid) return false;
    const hadData = prev.baseKeys > 0 || prev.incrSize > 0;
    const shrinks = hadData && (rdb.keys === 0 || rdb.keys < prev.baseKeys * this.opts.shrinkRatio);
    if (!shrinks) return false;
    const what = `master ${this.opts.endpoint.display} came back under a new replication id with ${rdb.keys} keys (we hold ${prev.baseKeys} in the base plus ${prev.incrSize} bytes of incr AOF)`;
    this.status.shrinkDetected = { at: new Date().toISOString(), keys: rdb.keys, previousKeys: prev.baseKeys, policy: this.opts.onShrink };
    if (this.opts.onShrink === 'follow') {
      this.log(`!!! WARNING: ${what}; following it (--on-shrink follow), the previous generation is kept aside`);
      return true;
    }
    if (this.opts.onShrink === 'stop') {
      this.log(`!!! WARNING: ${what}; stopping (--on-shrink stop), previous copy kept in ${this.aof.path}`);
      throw new RefusedError(`refusing to replace the dataset: ${what} (--on-shrink stop)`);
    }
    this.log(`!!! WARNING: ${what}; NOT following it (--on-shrink keep), previous copy kept in ${this.aof.path}; will retry`);
    throw new ShrinkRefused(`refusing to replace the dataset: ${what} (--on-shrink keep)`);
  }

  private async streamCommands(link: MasterLink): Promise<void> {
    const stream = this.stream!;
    const writer = this.writer!;
    const ack = (offset: number) => link.write(['REPLCONF', 'ACK', offset]);
    // First ACK right away: after a diskless transfer the master streams nothing until it arrives.
    ack(stream.offset);
    const ackTimer = setInterval(() => {
      ack(stream.offset);
      void this.idleTick();
    }, SECOND);
    ackTimer.unref();
    this.setLink('up');
    this.status.linkUpSince = new Date().toISOString();
    this.status.lastError = null;
    this.log(`link up: streaming from offset ${stream.offset}`);
    try {
      await stream.run(link.src, writer, ack, () => this.afterBatch());
    } finally {
      clearInterval(ackTimer);
    }
    throw link.endedError('streaming');
  }

  /**
   * After each read's worth of commands: hand them to the file (a write, no fsync wait), update
   * the status, start the once-a-second state write in the background, check the incr bound.
   */
  /**
   * Without batches (a quiet master pings every 10 s) the tap is still told where the stream
   * stands once a second, so it can cut on time. Never while a batch is being finished; the
   * position is taken before the flush, which writes everything up to it.
   */
  private async idleTick(): Promise<void> {
    const writer = this.writer;
    if (!this.tap || this.batchBusy || !writer || !this.stream) return;
    this.batchBusy = true;
    try {
      const pos = this.position();
      await writer.flush();
      if (this.writer === writer && this.tap.afterBatch(pos)) {
        await this.saving;
        await this.writeStateNow();
        this.tap.afterStateWrite();
      }
    } catch (e) {
      this.backgroundError ??= e;
    } finally {
      this.batchBusy = false;
    }
  }

  private async afterBatch(): Promise<void> {
    this.batchBusy = true;
    try {
      await this.finishBatch();
    } finally {
      this.batchBusy = false;
    }
  }

  private async finishBatch(): Promise<void> {
    const stream = this.stream!;
    const writer = this.writer!;
    const failure = this.backgroundError ?? this.syncer?.failure;
    if (failure) throw failure;
    await writer.flush();
    this.status.offset = stream.offset;
    this.status.commands = stream.commands;
    this.status.incrBytes = this.incrStart + writer.bytesWritten;
    if (this.tap?.afterBatch(this.position())) {
      // A segment was cut: its range must be in the state file before the stream goes on.
      await this.saving;
      await this.writeStateNow();
      this.tap.afterStateWrite();
    } else if (!this.saving && Date.now() - this.lastSave >= SECOND) {
      // Everything up to stream.offset is in the file now: record exactly that.
      this.saving = this.writeStateNow()
        .catch((e: unknown) => {
          this.backgroundError ??= e;
        })
        .finally(() => {
          this.saving = null;
        });
    }
    if (!this.forceFull && this.status.incrBytes > this.opts.maxIncrBytes) {
      this.log(`incr AOF reached ${this.status.incrBytes} bytes (limit ${this.opts.maxIncrBytes}): starting a new base with a full sync`);
      this.forceFull = true;
      this.link?.kill('new base requested');
    }
  }

  /** Flushes the AOF, then records the offset it now holds (never the other way round). */
  private async saveState(): Promise<void> {
    await this.saving;
    await this.writer?.flush();
    await this.writeStateNow();
  }

  /** Writes the state for what the writer has been given so far (callers flush first). */
  private writeStateNow(): Promise<void> {
    const st = this.state;
    const stream = this.stream;
    const writer = this.writer;
    if (!st || !stream || !writer) return Promise.resolve();
    this.lastSave = Date.now();
    st.offset = stream.offset;
    st.db = stream.db;
    st.incrSize = this.incrStart + writer.bytesWritten;
    Object.assign(st, countersOf(this.status));
    return writeState(this.statePath, this.tap ? { ...st, archive: this.tap.snapshot() } : st);
  }

  private async closeSession(): Promise<void> {
    this.stream?.abandonPartial();
    this.link?.close();
    if (this.link) this.onLinkClosed?.(this.link.bytesIn);
    this.link = null;
    if (this.writer) {
      try {
        await this.saveState();
        await this.writer.close();
        await this.syncer?.close();
      } catch (e) {
        this.log(`could not flush the AOF: ${oneLine(e)}`);
      }
    }
    this.writer = null;
    this.syncer = null;
    this.backgroundError = null;
    this.stream = null;
    if (this.status.link !== 'stopped') this.setLink('down');
    this.status.linkUpSince = null;
  }

  /** Bytes received from the master on the current link (for status). */
  get linkBytes(): number {
    return this.link?.bytesIn ?? 0;
  }

  /** Seconds since the master last sent anything (null without a link). */
  get lastIoAgeSeconds(): number | null {
    return this.link ? (Date.now() - this.link.lastIoMs) / SECOND : null;
  }
}

