import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { ChainRecord, PitrManifest } from './manifest.js';

/**
 * The local queue (DIR/archive/queue): objects closed and packed, waiting until every target has
 * verified them. An item is `<seq>.data` (the stored bytes, already compressed and encrypted) and
 * `<seq>.item.json` (its manifest, or a chain record), written in that order, each atomically;
 * the item exists once its json does. Targets upload items in seq order and keep their place in
 * targets.json, so one that was down catches up in order.
 */
export interface QueueItem {
  seq: number;
  manifest?: PitrManifest;
  record?: ChainRecord;
  /** Local only: wall-clock ms of the first write it holds (for the lag), null without writes. */
  firstWriteMs: number | null;
  /** Bytes of its data file (0 for a chain record). */
  size: number;
}

const ITEM_RE = /^(\d{12})\.item\.json$/;

export const seqName = (seq: number): string => String(seq).padStart(12, '0');

export class ArchiveQueue {
  readonly dir: string;
  private readonly cursorsPath: string;
  /** Per target: the highest seq verified there. */
  cursors: Record<string, number> = {};
  /** The items, in seq order (the directory is read once, at start). */
  list: QueueItem[] = [];

  constructor(archiveDir: string) {
    this.dir = join(archiveDir, 'queue');
    this.cursorsPath = join(archiveDir, 'targets.json');
  }

  dataPath(seq: number): string {
    return join(this.dir, `${seqName(seq)}.data`);
  }

  itemPath(seq: number): string {
    return join(this.dir, `${seqName(seq)}.item.json`);
  }

  async loadCursors(): Promise<void> {
    try {
      this.cursors = JSON.parse(await readFile(this.cursorsPath, 'utf8')) as Record<string, number>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async saveCursor(target: string, seq: number): Promise<void> {
    this.cursors[target] = seq;
    await writeFileAtomic(this.cursorsPath, `${JSON.stringify(this.cursors, null, 2)}\n`);
  }

  /** Puts a packed data file (already fsynced at `tmpData`) and its item into the queue. */
  async add(item: QueueItem, tmpData: string | null): Promise<void> {
    if (tmpData) await rename(tmpData, this.dataPath(item.seq));
    await writeFileAtomic(this.itemPath(item.seq), `${JSON.stringify(item)}\n`);
    this.list.push(item);
    this.list.sort((a, b) => a.seq - b.seq);
  }

  get bytes(): number {
    return this.list.reduce((n, it) => n + it.size, 0);
  }

  has(seq: number): boolean {
    return this.list.some((it) => it.seq === seq);
  }

  /** Reads the directory (at start). */
  async load(): Promise<void> {
    await this.loadCursors();
    this.list = await this.readItems();
  }

  private async readItems(): Promise<QueueItem[]> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => ITEM_RE.test(n)).sort();
    const out: QueueItem[] = [];
    for (const n of names) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as QueueItem);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // removed meanwhile
      }
    }
    return out;
  }

  /** Removes items every target has verified. */
  async dropDone(targets: string[]): Promise<void> {
    if (targets.length === 0) return;
    const done = Math.min(...targets.map((t) => this.cursors[t] ?? -1));
    while (this.list.length && this.list[0]!.seq <= done) {
      const it = this.list.shift()!;
      await rm(this.itemPath(it.seq), { force: true });
      await rm(this.dataPath(it.seq), { force: true });
    }
  }

  /** Creates the directory and removes temp files of a killed run (never an item: items appear by rename). */
  async clean(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const n of await readdir(this.dir).catch(() => [] as string[])) if (n.includes('.tmp')) await rm(join(this.dir, n), { force: true });
  }
}
