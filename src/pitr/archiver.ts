import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BackupStore } from '../backup/store/store.js';
import { recipientIds } from '../backup/crypto.js';
import type { ReplicaTap, StreamPosition } from '../replica/replica.js';
import type { ReplicaState } from '../replica/state-file.js';
import { IoError, oneLine } from '../util/errors.js';
import { buildEngineBase } from './engine-base.js';
import { PITR_FORMAT, type ChainRecord, type PitrManifest } from './manifest.js';
import { newChainId, objectName, stemOf } from './names.js';
import { packStream, removeQuietly, segmentPrelude, writeSegmentPlain, type PackOptions } from './pack.js';
import { ArchiveQueue, seqName, type QueueItem } from './queue.js';
import { TargetUploader, type TargetState } from './uploader.js';

const require = createRequire(import.meta.url);
const { version: toolVersion } = require('../../package.json') as { version: string };

export interface ArchiverOptions {
  name: string;
  /** The replica's --dir: the queue lives in DIR/archive. */
  dir: string;
  targets: Array<{ target: string; store: BackupStore }>;
  pack: PackOptions;
  segmentSeconds: number;
  segmentBytes: number;
  queueMaxBytes: number;
  /** A base built with the engine at least this often (ms). */
  baseEveryMs: number;
  log: (line: string) => void;
  /** How long a clean stop keeps uploading (ms). */
  stopUploadMs?: number;
}

/** The open segment: it starts at `offset`, which is byte `incrPos` of `incrFile`. */
interface OpenSegment {
  offset: number;
  incrFile: string;
  incrPos: number;
  /** DB and `#TS:` second in effect at its start (its prelude). */
  db: number;
  ts: number;
  openedAt: number;
  firstWriteMs: number | null;
}

type Pending =
  | {
      kind: 'segment';
      seq: number;
      chain: string;
      replid: string;
      linkedFrom: string | null;
      startOffset: number;
      endOffset: number;
      incrFile: string;
      from: number;
      to: number;
      db: number;
      ts: number;
      openedAt: number;
      closedAt: number;
      firstWriteMs: number | null;
    }
  | { kind: 'base'; seq: number; chain: string; replid: string; offset: number; takenAt: number; source: 'full-sync'; baseFile: string; keys: number }
  | { kind: 'base'; seq: number; chain: string; replid: string; offset: number; takenAt: number; source: 'engine'; baseFile: string; incrFile: string; incrPos: number }
  | { kind: 'chain'; seq: number; record: ChainRecord };

/** What the archive keeps in replica-state.json (written atomically with the replica's offset). */
export interface ArchiveState {
  name: string;
  chain: string;
  replid: string;
  linkedFrom: string | null;
  open: OpenSegment;
  nextSeq: number;
  pending: Pending[];
  lastBaseAt: number;
}

export interface ArchiveStatus {
  name: string;
  chain: string | null;
  lagSeconds: number;
  queue: { items: number; bytes: number; pendingObjects: number; maxBytes: number; full: boolean };
  segments: number;
  bases: number;
  lastError: string | null;
  targets: Array<TargetState & { lagSeconds: number }>;
}

/**
 * The archiving side of `replicate --archive` (a ReplicaTap): decides where segments are cut,
 * which chain the stream belongs to, packs what was cut into the local queue and runs one
 * uploader per target. The open segment is not copied anywhere while it grows: it is the
 * replica's incr AOF from `open.incrPos`, and the cut ranges wait in `pending` (persisted in the
 * replica state) until packed, so a kill -9 at any moment resumes with nothing lost.
 */
export class Archiver implements ReplicaTap {
  private st: ArchiveState | null = null;
  private last: StreamPosition | null = null;
  private readonly queue: ArchiveQueue;
  private readonly uploaders: TargetUploader[];
  private readonly archiveDir: string;
  private packing: Promise<void> | null = null;
  private packError: string | null = null;
  private fullSince = 0;
  private segmentsMade = 0;
  private basesMade = 0;
  private appendDir = '';
  private interrupted = false;
  /** Why the next full sync starts a new chain, when resume() found the files could not continue it. */
  private newChainReason: string | null = null;

  constructor(private readonly opts: ArchiverOptions) {
    this.archiveDir = join(opts.dir, 'archive');
    this.queue = new ArchiveQueue(this.archiveDir);
    this.uploaders = opts.targets.map((t) => new TargetUploader(t.target, t.store, this.queue, () => this.uploaded(), opts.log));
  }

  /** Loads the queue and starts the uploaders (before the replica runs). */
  async start(appendDirPath: string): Promise<void> {
    this.appendDir = appendDirPath;
    await mkdir(this.archiveDir, { recursive: true });
    await this.queue.clean();
    await this.queue.load();
    for (const u of this.uploaders) {
      u.status.cursor = this.queue.cursors[u.target] ?? -1;
      u.start();
    }
  }

  private get name(): string {
    return this.opts.name;
  }

  // ---- ReplicaTap ----

  async resume(state: ReplicaState | null): Promise<boolean> {
    const a = (state?.archive ?? null) as ArchiveState | null;
    if (state && state.offset < 0 && a && a.name === this.name) {
      // The replica found its files changed under it: keep the chain's history for the record.
      this.st = a;
      this.newChainReason = `full sync: the replica's files in ${this.opts.dir} no longer matched its state`;
      await this.packAll().catch(() => {});
      return true;
    }
    if (!state || state.offset < 0) return true; // a full sync follows anyway
    if (!a || a.name !== this.name) {
      this.opts.log(`archive ${this.name}: no archive state in ${this.opts.dir} for this name: a full sync gives the archive its base`);
      return false;
    }
    this.st = a;
    this.last = { replid: state.replid, offset: state.offset, incrFile: state.incrFile, incrPos: state.incrSize, db: state.db, ts: 0, commands: 0 };
    // Pending ranges already packed before the kill are in the queue; the rest are packed now.
    a.pending = a.pending.filter((p) => !this.queue.has(p.seq));
    if (a.open.incrFile !== state.incrFile || a.open.incrPos > state.incrSize) {
      this.newChainReason = `full sync: the open segment (offset ${a.open.offset}) was no longer in the replica's incr AOF`;
      this.opts.log(`archive ${this.name}: the open segment (offset ${a.open.offset}) is not in ${state.incrFile}: a full sync starts a new chain`);
      return false;
    }
    await this.packAll();
    return true;
  }

  /** A stop was asked for: stop waiting for room in the queue. */
  interrupt(): void {
    this.interrupted = true;
  }

  async beforeConnect(): Promise<void> {
    while (this.queueFull() && !this.interrupted) {
      if (Date.now() - this.fullSince >= 60_000) {
        this.fullSince = Date.now();
        this.opts.log(`!!! ERROR: archive queue full (${this.queueBytes()} bytes, --archive-queue-max ${this.opts.queueMaxBytes}): not reading from the master until targets take it (${this.targetSummary()})`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  onContinue(pos: StreamPosition, previousReplid: string): boolean {
    const a = this.st;
    this.last = pos;
    if (!a || pos.replid === a.replid) return false;
    // One replid per segment: what came before the failover is cut, the rest is linked to it.
    if (pos.offset > a.open.offset) this.cut(pos, Date.now());
    a.linkedFrom = previousReplid;
    a.replid = pos.replid;
    return true;
  }

  async beforeNewGeneration(): Promise<void> {
    const a = this.st;
    if (a && this.last && this.last.offset > a.open.offset && this.last.incrFile === a.open.incrFile) this.cut(this.last, Date.now());
    await this.packAll();
  }

  onFullSync(info: { replid: string; offset: number; baseFile: string; incrFile: string; keys: number }): void {
    const now = Date.now();
    const prev = this.st;
    const end = prev ? { replid: prev.replid, offset: this.last?.offset ?? prev.open.offset } : null;
    const a: ArchiveState = prev ?? { name: this.name, chain: '', replid: info.replid, linkedFrom: null, open: null as unknown as OpenSegment, nextSeq: this.nextSeqFromQueue(), pending: [], lastBaseAt: now };
    const continues = end !== null && end.replid === info.replid && end.offset === info.offset && prev!.chain !== '';
    if (!continues) {
      a.chain = newChainId(new Date(now));
      const reason = !end
        ? 'the first sync of this archive'
        : this.newChainReason
          ? this.newChainReason
          : end.replid === info.replid
          ? `full sync: the master's backlog no longer held offset ${end.offset + 1} (it sent its data at offset ${info.offset})`
          : `full sync from another replication history (replid ${info.replid} at ${info.offset}; the archive had ${end.replid} up to ${end.offset})`;
      const record: ChainRecord = {
        format: PITR_FORMAT,
        kind: 'chain',
        name: this.name,
        chain: a.chain,
        startedAt: new Date(now).toISOString(),
        replid: info.replid,
        offset: info.offset,
        reason,
        previous: prev && end ? { chain: prev.chain, replid: end.replid, endOffset: end.offset } : null,
      };
      a.pending.push({ kind: 'chain', seq: a.nextSeq++, record });
      this.opts.log(`archive ${this.name}: new chain ${a.chain}: ${reason}`);
    }
    this.newChainReason = null;
    a.replid = info.replid;
    a.linkedFrom = null;
    a.pending.push({ kind: 'base', seq: a.nextSeq++, chain: a.chain, replid: info.replid, offset: info.offset, takenAt: now, source: 'full-sync', baseFile: info.baseFile, keys: info.keys });
    a.lastBaseAt = now;
    a.open = { offset: info.offset, incrFile: info.incrFile, incrPos: 0, db: 0, ts: 0, openedAt: now, firstWriteMs: null };
    this.st = a;
    this.last = { replid: info.replid, offset: info.offset, incrFile: info.incrFile, incrPos: 0, db: 0, ts: 0, commands: 0 };
  }

  afterBatch(pos: StreamPosition): boolean {
    const a = this.st;
    if (!a || pos.incrFile !== a.open.incrFile || pos.offset < a.open.offset || (this.last && this.last.incrFile === pos.incrFile && pos.offset < this.last.offset)) return false;
    const now = Date.now();
    if (this.last && pos.commands !== this.last.commands && a.open.firstWriteMs === null && pos.offset > a.open.offset) a.open.firstWriteMs = now;
    this.last = pos;
    if (this.queueFull()) throw new IoError(`archive queue full (${this.queueBytes()} bytes, --archive-queue-max ${this.opts.queueMaxBytes}); targets: ${this.targetSummary()}`);
    const due = now - a.open.openedAt >= this.opts.segmentSeconds * 1000 || pos.incrPos - a.open.incrPos >= this.opts.segmentBytes;
    if (!due || pos.offset === a.open.offset) return false;
    this.cut(pos, now);
    if (now - a.lastBaseAt >= this.opts.baseEveryMs) {
      a.pending.push({ kind: 'base', seq: a.nextSeq++, chain: a.chain, replid: a.replid, offset: pos.offset, takenAt: now, source: 'engine', baseFile: '', incrFile: pos.incrFile, incrPos: pos.incrPos });
      a.lastBaseAt = now;
    }
    return true;
  }

  snapshot(): unknown {
    return this.st ?? undefined;
  }

  afterStateWrite(): void {
    void this.packAll().catch(() => {});
  }

  /** Clean stop: cut what is open, pack it, give the uploaders a little time. Returns true when the state changed. */
  async onStop(): Promise<boolean> {
    const a = this.st;
    const changed = !!(a && this.last && this.last.offset > a.open.offset && this.last.incrFile === a.open.incrFile);
    if (changed) this.cut(this.last!, Date.now());
    return changed;
  }

  async close(): Promise<void> {
    try {
      await this.packAll();
    } catch (e) {
      this.opts.log(`archive ${this.name}: could not pack the last segment (it stays pending for the next start): ${oneLine(e)}`);
    }
    const deadline = Date.now() + (this.opts.stopUploadMs ?? 10_000);
    await Promise.all(this.uploaders.map((u) => u.stop(deadline)));
    const left = this.uploaders.filter((u) => u.pending().length > 0);
    for (const u of left) this.opts.log(`archive ${u.status.where}: ${u.pending().length} object(s) still queued; uploaded at the next start`);
  }

  // ---- internals ----

  private cut(pos: StreamPosition, now: number): void {
    const a = this.st!;
    const o = a.open;
    a.pending.push({
      kind: 'segment',
      seq: a.nextSeq++,
      chain: a.chain,
      replid: a.replid,
      linkedFrom: a.linkedFrom,
      startOffset: o.offset,
      endOffset: pos.offset,
      incrFile: o.incrFile,
      from: o.incrPos,
      to: pos.incrPos,
      db: o.db,
      ts: o.ts,
      openedAt: o.openedAt,
      closedAt: now,
      firstWriteMs: o.firstWriteMs,
    });
    a.linkedFrom = null;
    a.open = { offset: pos.offset, incrFile: pos.incrFile, incrPos: pos.incrPos, db: pos.db >= 0 ? pos.db : o.db, ts: pos.ts > 0 ? pos.ts : o.ts, openedAt: now, firstWriteMs: null };
  }

  private nextSeqFromQueue(): number {
    return (this.queue.list.at(-1)?.seq ?? -1) + 1;
  }

  /** Packs every pending item into the queue, in order (one packer at a time). */
  packAll(): Promise<void> {
    // Reset in a then-callback: the loop may finish synchronously when there is nothing to pack.
    this.packing ??= this.packLoop().finally(() => {
      this.packing = null;
    });
    return this.packing;
  }

  private async packLoop(): Promise<void> {
    try {
      while (this.st && this.st.pending.length) {
        const p = this.st.pending[0]!;
        if (p.kind === 'segment' && !(await this.rangeOnDisk(p))) {
          // Only when the replica's files were replaced outside our control (a deleted or cut incr):
          // the chain then ends before it and the next full sync starts a new one, with the gap shown.
          this.opts.log(`!!! ERROR: archive ${this.name}: ${p.incrFile} bytes ${p.from}..${p.to} (offsets ${p.startOffset}..${p.endOffset}) are gone from ${this.appendDir}; the archive cannot hold them`);
        } else if (!this.queue.has(p.seq)) await this.packOne(p);
        this.st.pending.shift();
        for (const u of this.uploaders) u.poke();
      }
      this.packError = null;
    } catch (e) {
      this.packError = oneLine(e);
      this.opts.log(`archive ${this.name}: packing failed (kept pending, retried): ${this.packError}`);
      throw e;
    }
  }

  private async rangeOnDisk(p: Extract<Pending, { kind: 'segment' }>): Promise<boolean> {
    const st = await stat(join(this.appendDir, p.incrFile)).catch(() => null);
    return st !== null && st.size >= p.to;
  }

  private async packOne(p: Pending): Promise<void> {
    const tmp = join(this.queue.dir, `${seqName(p.seq)}.data.tmp`);
    if (p.kind === 'chain') {
      await this.queue.add({ seq: p.seq, record: p.record, firstWriteMs: null, size: 0 }, null);
      return;
    }
    const enc = this.opts.pack.encryption;
    const encryption: PitrManifest['encryption'] = enc.mode === 'none' ? { mode: 'none' } : enc.mode === 'passphrase' ? { mode: 'passphrase' } : { mode: 'recipients', recipients: recipientIds(enc.keys) };
    const gz = this.opts.pack.compression === 'gzip';
    const common = { format: PITR_FORMAT, name: this.name, chain: p.chain, seq: p.seq, replid: p.replid, compression: this.opts.pack.compression, encryption, tool: { name: 'tsredis-ops' as const, version: toolVersion } };
    let item: QueueItem;
    if (p.kind === 'segment') {
      const plainPath = join(this.queue.dir, `${seqName(p.seq)}.plain.tmp`);
      try {
        const facts = await writeSegmentPlain(join(this.appendDir, p.incrFile), p.from, p.to, segmentPrelude(p.ts, p.db), plainPath);
        const packed = await packStream(createReadStream(plainPath, { highWaterMark: 1 << 20 }), tmp, this.opts.pack);
        const stem = stemOf(this.name, p.chain, 's', p.startOffset);
        const m: PitrManifest = {
          ...common,
          kind: 'segment',
          object: objectName(stem, 's', gz, enc.mode !== 'none'),
          linkedFrom: p.linkedFrom,
          startOffset: p.startOffset,
          endOffset: p.endOffset,
          openedAt: new Date(p.openedAt).toISOString(),
          closedAt: new Date(p.closedAt).toISOString(),
          ...facts,
          ...packed,
        };
        item = { seq: p.seq, manifest: m, firstWriteMs: p.firstWriteMs, size: packed.stored.size };
        this.segmentsMade++;
      } finally {
        await removeQuietly(plainPath);
      }
    } else {
      let source = p.source === 'full-sync' ? join(this.appendDir, p.baseFile) : join(this.queue.dir, `${seqName(p.seq)}.rdb.tmp`);
      let keys = p.source === 'full-sync' ? p.keys : 0;
      try {
        if (p.source === 'engine') {
          const built = await buildEngineBase(this.appendDir, p.incrFile, p.incrPos, source, this.queue.dir);
          keys = built.keys;
        }
        const size = (await stat(source)).size;
        const packed = await packStream(createReadStream(source, { highWaterMark: 1 << 20 }), tmp, this.opts.pack);
        if (packed.plain.size !== size) throw new IoError(`${source}: read ${packed.plain.size} bytes, the file has ${size}`);
        const stem = stemOf(this.name, p.chain, 'b', p.offset);
        const t = new Date(p.takenAt).toISOString();
        const m: PitrManifest = {
          ...common,
          kind: 'base',
          object: objectName(stem, 'b', gz, enc.mode !== 'none'),
          linkedFrom: null,
          startOffset: p.offset,
          endOffset: p.offset,
          openedAt: t,
          closedAt: t,
          firstTs: null,
          lastTs: null,
          commands: 0,
          flushes: [],
          keys,
          source: p.source,
          ...packed,
        };
        item = { seq: p.seq, manifest: m, firstWriteMs: null, size: packed.stored.size };
        this.basesMade++;
      } finally {
        if (p.source === 'engine') await removeQuietly(source);
        source = '';
      }
    }
    await this.queue.add(item, tmp);
  }

  private async uploaded(): Promise<void> {
    await this.queue.dropDone(this.uploaders.map((u) => u.target));
  }

  private queueBytes(): number {
    const a = this.st;
    const pendingBytes = (a?.pending ?? []).reduce((n, p) => n + (p.kind === 'segment' ? p.to - p.from : 0), 0);
    return this.queue.bytes + pendingBytes;
  }

  private queueFull(): boolean {
    const full = this.queueBytes() > this.opts.queueMaxBytes;
    if (!full) this.fullSince = 0;
    return full;
  }

  private targetSummary(): string {
    return this.uploaders.map((u) => `${u.status.where} ${u.status.state}${u.status.lastError ? ` (${u.status.lastError})` : ''}`).join('; ');
  }

  /** Age (s) of the oldest write not yet verified on the target whose cursor is `cursor`. */
  private lagFor(cursor: number, now: number): number {
    let oldest: number | null = null;
    const see = (ms: number | null) => {
      if (ms !== null && (oldest === null || ms < oldest)) oldest = ms;
    };
    for (const it of this.queue.list) if (it.seq > cursor) see(it.firstWriteMs);
    for (const p of this.st?.pending ?? []) if (p.kind === 'segment') see(p.firstWriteMs);
    see(this.st?.open.firstWriteMs ?? null);
    return oldest === null ? 0 : Math.max(0, (now - oldest) / 1000);
  }

  status(): ArchiveStatus {
    const now = Date.now();
    const targets = this.uploaders.map((u) => ({ ...u.status, lagSeconds: this.lagFor(u.status.cursor, now) }));
    return {
      name: this.name,
      chain: this.st?.chain ?? null,
      lagSeconds: Math.max(0, ...targets.map((t) => t.lagSeconds)),
      queue: { items: this.queue.list.length, bytes: this.queueBytes(), pendingObjects: this.st?.pending.length ?? 0, maxBytes: this.opts.queueMaxBytes, full: this.queueBytes() > this.opts.queueMaxBytes },
      segments: this.segmentsMade,
      bases: this.basesMade,
      lastError: this.packError,
      targets,
    };
  }
}

/** Prometheus lines for the archive (appended to the replica's). */
export function archiveMetrics(s: ArchiveStatus): string {
  const lines: string[] = [];
  const head = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  head('tsredis_archive_lag_seconds', 'gauge', 'Age of the oldest write not yet verified on every archive target (0 when all is).');
  lines.push(`tsredis_archive_lag_seconds ${s.lagSeconds.toFixed(3)}`);
  head('tsredis_archive_queue_bytes', 'gauge', 'Bytes waiting in the local archive queue (packed and not yet packed).');
  lines.push(`tsredis_archive_queue_bytes ${s.queue.bytes}`);
  head('tsredis_archive_queue_items', 'gauge', 'Objects in the local archive queue.');
  lines.push(`tsredis_archive_queue_items ${s.queue.items}`);
  head('tsredis_archive_queue_full', 'gauge', '1 while the queue is over --archive-queue-max (the replica stops reading).');
  lines.push(`tsredis_archive_queue_full ${s.queue.full ? 1 : 0}`);
  head('tsredis_archive_target_up', 'gauge', '1 when the last upload to the target succeeded.');
  for (const t of s.targets) lines.push(`tsredis_archive_target_up{target="${esc(t.where)}"} ${t.state === 'retrying' ? 0 : 1}`);
  head('tsredis_archive_target_lag_seconds', 'gauge', 'Age of the oldest write not yet verified on the target.');
  for (const t of s.targets) lines.push(`tsredis_archive_target_lag_seconds{target="${esc(t.where)}"} ${t.lagSeconds.toFixed(3)}`);
  head('tsredis_archive_target_uploaded_total', 'counter', 'Objects verified on the target by this run.');
  for (const t of s.targets) lines.push(`tsredis_archive_target_uploaded_total{target="${esc(t.where)}"} ${t.uploaded}`);
  return `${lines.join('\n')}\n`;
}
