import { open, type FileHandle } from 'node:fs/promises';

/**
 * `appendfsync everysec` the way Redis does it: the fsync runs beside the writes, once a second,
 * and a new one starts only when the previous finished. Awaiting it inline would stall the
 * replication stream for as long as the disk takes to absorb a second of writes. fsync applies
 * to the file, so a separate read-only handle serves.
 */
export class BackgroundFsync {
  private inFlight: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  /** The first fsync failure (reported by the owner: the AOF is then not durable). */
  failure: unknown = null;

  private constructor(private readonly fh: FileHandle) {
    this.timer = setInterval(() => this.kick(), 1000);
    this.timer.unref();
  }

  static async open(path: string): Promise<BackgroundFsync> {
    return new BackgroundFsync(await open(path, 'r'));
  }

  private kick(): void {
    if (this.inFlight) return;
    this.inFlight = this.fh
      .sync()
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.inFlight = null;
      });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.fh.close();
  }
}
