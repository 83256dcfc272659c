import type { StreamEntry, StreamId } from '../codec/rdb/model.js';

export type Id = StreamId;

export const ID_ZERO: Id = { ms: 0n, seq: 0n };
export const U64_MAX = 2n ** 64n - 1n;
export const ID_MAX: Id = { ms: U64_MAX, seq: U64_MAX };

export function idCmp(a: Id, b: Id): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function idKey(id: Id): string {
  return `${id.ms}-${id.seq}`;
}

export function idText(id: Id): string {
  return `${id.ms}-${id.seq}`;
}

export interface Nack {
  id: Id;
  deliveryTime: number;
  deliveryCount: number;
  consumer: Consumer;
}

export interface Consumer {
  name: Buffer;
  seenTime: number;
  activeTime: number;
  pel: Map<string, Nack>;
}

export interface Group {
  name: Buffer;
  lastId: Id;
  /** Redis's SCG_INVALID_ENTRIES_READ is kept as null. */
  entriesRead: bigint | null;
  pel: Map<string, Nack>;
  consumers: Map<string, Consumer>;
}

/**
 * A stream: entries kept in ID order (items[head..], so trimming from the front, the common case
 * of capped streams, costs only the removed entries) plus the metadata Redis persists.
 */
export class Stream {
  private items: StreamEntry[] = [];
  private head = 0;
  lastId: Id = ID_ZERO;
  firstId: Id = ID_ZERO;
  maxDeletedId: Id = ID_ZERO;
  entriesAdded = 0n;
  readonly groups = new Map<string, Group>();
  idmpRaw?: Buffer;

  get length(): number {
    return this.items.length - this.head;
  }

  entry(i: number): StreamEntry {
    return this.items[this.head + i]!;
  }

  append(e: StreamEntry): void {
    this.items.push(e);
  }

  removeAt(i: number): void {
    this.items.splice(this.head + i, 1);
  }

  /** Drops the n oldest entries. */
  dropFront(n: number): void {
    this.head += n;
    if (this.head > 1024 && this.head > this.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  toArray(): StreamEntry[] {
    return this.items.slice(this.head);
  }

  setEntries(entries: StreamEntry[]): void {
    this.items = entries;
    this.head = 0;
  }

  /** Index of the first entry with id >= `id`. */
  lowerBound(id: Id): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idCmp(this.entry(mid).id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  find(id: Id): number {
    const i = this.lowerBound(id);
    return i < this.length && idCmp(this.entry(i).id, id) === 0 ? i : -1;
  }

  /** Recomputes the recorded first ID after removals (0-0 when empty). */
  refreshFirstId(): void {
    this.firstId = this.length ? this.entry(0).id : ID_ZERO;
  }
}
