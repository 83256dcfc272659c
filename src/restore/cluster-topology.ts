import { RespError } from '../codec/resp/types.js';
import type { RedisClient } from '../net/redis-client.js';
import { IoError } from '../util/errors.js';
import { NodePool } from './node-pool.js';

/** Slot → master address, from CLUSTER SLOTS; refreshed after a MOVED redirect. */
export class ClusterTopology {
  private slots: string[] = new Array<string>(16384).fill('');
  private refreshing: Promise<void> | null = null;

  constructor(private readonly seedHost: string) {}

  get masters(): string[] {
    return [...new Set(this.slots.filter(Boolean))];
  }

  masterFor(slot: number): string {
    const a = this.slots[slot];
    if (!a) throw new IoError(`cluster: slot ${slot} is not served by any master (cluster state not ok)`);
    return a;
  }

  /** Learns a slot's owner from a MOVED reply without waiting for a full refresh. */
  moved(slot: number, address: string): void {
    this.slots[slot] = address;
  }

  async load(c: RedisClient): Promise<void> {
    const r = await c.send('CLUSTER', 'SLOTS');
    if (r instanceof RespError || !Array.isArray(r)) throw new IoError(`cluster: CLUSTER SLOTS failed: ${r instanceof RespError ? r.message : 'bad reply'}`);
    const slots = new Array<string>(16384).fill('');
    for (const range of r) {
      if (!Array.isArray(range) || range.length < 3) continue;
      const [start, end, master] = range as [number, number, unknown[]];
      const hostRaw = master[0];
      let host = Buffer.isBuffer(hostRaw) ? hostRaw.toString() : String(hostRaw ?? '');
      if (!host || host === '?') host = this.seedHost; // "unknown endpoint": the address we used
      const addr = NodePool.address(host, Number(master[1]));
      for (let s = Number(start); s <= Number(end); s++) slots[s] = addr;
    }
    this.slots = slots;
  }

  /** One refresh at a time, shared by every redirect that triggers it. */
  refresh(c: () => Promise<RedisClient>): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        await this.load(await c());
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
