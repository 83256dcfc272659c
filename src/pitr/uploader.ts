import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { BackupStore } from '../backup/store/store.js';
import { ExitCode, ToolError, oneLine } from '../util/errors.js';
import { jsonBytes } from './manifest.js';
import { manifestName, parsePitrName } from './names.js';
import type { ArchiveQueue, QueueItem } from './queue.js';

export interface TargetState {
  target: string;
  where: string;
  state: 'up' | 'retrying' | 'idle';
  lastError: string | null;
  lastUploadAt: string | null;
  uploaded: number;
  /** Highest queue seq verified on this target. */
  cursor: number;
}

/**
 * One target's upload loop: the queue's items in seq order, each object put and verified by the
 * store (size + sha256 against the manifest), then its manifest; a failure keeps the item and
 * retries it with backoff (1 s doubling to 30 s), so a target that comes back catches up in order.
 * An item whose manifest is already there (a restart packed it again) is left as it is.
 */
export class TargetUploader {
  readonly status: TargetState;
  private wake: (() => void) | null = null;
  private stopping = false;
  private running: Promise<void> | null = null;

  constructor(
    readonly target: string,
    private readonly store: BackupStore,
    private readonly queue: ArchiveQueue,
    private readonly onProgress: () => Promise<void>,
    private readonly log: (line: string) => void,
  ) {
    this.status = { target, where: store.describe(), state: 'idle', lastError: null, lastUploadAt: null, uploaded: 0, cursor: queue.cursors[target] ?? -1 };
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** New items in the queue. */
  poke(): void {
    this.wake?.();
  }

  /** Uploads what it can until `deadline` (ms), then stops. */
  async stop(deadline: number): Promise<void> {
    const drained = async () => {
      while (Date.now() < deadline && this.pending().length > 0 && this.status.state !== 'retrying') await new Promise((r) => setTimeout(r, 50));
    };
    await drained();
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  pending(): QueueItem[] {
    return this.queue.list.filter((it) => it.seq > this.status.cursor);
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.wake = null;
  }

  private async loop(): Promise<void> {
    let backoff = 1000;
    while (!this.stopping) {
      const next = this.pending()[0];
      if (!next) {
        this.status.state = this.status.state === 'retrying' ? 'retrying' : 'idle';
        await this.sleep(1000);
        continue;
      }
      try {
        await this.upload(next);
        this.status.state = 'up';
        this.status.lastError = null;
        this.status.cursor = next.seq;
        this.status.uploaded++;
        this.status.lastUploadAt = new Date().toISOString();
        await this.queue.saveCursor(this.target, next.seq);
        await this.onProgress();
        backoff = 1000;
      } catch (e) {
        if (this.status.state !== 'retrying') this.log(`archive ${this.status.where}: upload failed, keeping it queued and retrying: ${oneLine(e)}`);
        this.status.state = 'retrying';
        this.status.lastError = oneLine(e);
        if (this.stopping) break;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async upload(it: QueueItem): Promise<void> {
    if (it.record) {
      const file = `${it.record.name}.pitr.${it.record.chain}.chain.json`;
      if (!(await this.store.head(file))) await this.store.put(file, Readable.from([jsonBytes(it.record)]), { contentType: 'application/json' });
      return;
    }
    const m = it.manifest!;
    const stem = parsePitrName(m.object)!;
    if (stem.what !== 'object') throw new ToolError(`queue item ${it.seq}: bad object name ${m.object}`);
    const mf = manifestName(stem.stem);
    if (await this.store.head(mf)) return;
    // The store hashes what it received; that must be the manifest's stored sha256.
    const put = await this.store.put(m.object, createReadStream(this.queue.dataPath(it.seq), { highWaterMark: 1 << 20 }), { sizeHint: m.stored.size });
    if (put.size !== m.stored.size || put.sha256 !== m.stored.sha256) {
      await this.store.delete(m.object).catch(() => {});
      throw new ToolError(`${this.status.where}/${m.object}: the store received ${put.size} bytes (sha256 ${put.sha256}), expected ${m.stored.size} (${m.stored.sha256}); deleted, will retry`, ExitCode.DATA);
    }
    await this.store.put(mf, Readable.from([jsonBytes(m)]), { contentType: 'application/json' });
  }
}
