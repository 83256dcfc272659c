import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { RestorePipe } from './restore-pipe.js';

/** A restore pipeline with the db it has SELECTed. */
export interface Conn {
  pipe: RestorePipe;
  db: number;
  /** Senders waiting for the window to open. */
  waiters: Array<() => void>;
  /** Writes are being gathered for one writev (see KeySender). */
  corked: boolean;
}

/**
 * Connections to the target's nodes, opened on first use with the seed's credentials (cluster
 * nodes share them; redirects may name nodes not seen before): `perNode` restore pipelines each,
 * plus one ordinary client for control commands and big keys.
 */
export class NodePool {
  private readonly nodes = new Map<string, Promise<Conn[]>>();
  /** Pipelines already open, for the synchronous fast path. */
  private readonly ready = new Map<string, Conn[]>();
  private readonly controls = new Map<string, Promise<RedisClient>>();
  private rr = 0;

  constructor(
    readonly seed: RedisEndpoint,
    private readonly perNode: number,
  ) {}

  static address(host: string, port: number): string {
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  get seedAddress(): string {
    return NodePool.address(this.seed.host, this.seed.port);
  }

  endpointFor(address: string): RedisEndpoint {
    const i = address.lastIndexOf(':');
    const host = address.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(i + 1));
    if (host === this.seed.host && port === this.seed.port) return this.seed;
    return { ...this.seed, host, port, db: undefined, display: `${this.seed.tls ? 'rediss' : 'redis'}://${address}` };
  }

  /** All pipelines to a node (opened once). */
  conns(address: string): Promise<Conn[]> {
    let p = this.nodes.get(address);
    if (!p) {
      const ep = this.endpointFor(address);
      p = Promise.all(Array.from({ length: this.perNode }, async () => ({ pipe: await RestorePipe.open(ep), db: 0, waiters: [], corked: false }) satisfies Conn));
      p.then(
        (list) => this.ready.set(address, list),
        () => this.nodes.delete(address),
      );
      this.nodes.set(address, p);
    }
    return p;
  }

  /** Every open pipeline, of every node. */
  *openPipes(): Iterable<Conn> {
    for (const list of this.ready.values()) yield* list;
  }

  /** The next open pipeline of a node without waiting, or null when it is not connected yet. */
  pickReady(address: string): Conn | null {
    const list = this.ready.get(address);
    return list ? list[this.rr++ % list.length]! : null;
  }

  /** The next pipeline of a node, round-robin (spreads keys over the parallel pipelines). */
  async pick(address: string): Promise<Conn> {
    const list = await this.conns(address);
    return list[this.rr++ % list.length]!;
  }

  /** The node's ordinary client (control commands, big keys); db 0 selected unless changed. */
  control(address: string): Promise<RedisClient> {
    let c = this.controls.get(address);
    if (!c) {
      const ep = this.endpointFor(address);
      c = RedisClient.connect({ ...ep, db: undefined });
      c.catch(() => this.controls.delete(address));
      this.controls.set(address, c);
    }
    return c;
  }

  async close(): Promise<void> {
    for (const p of this.nodes.values()) for (const c of await p.catch(() => [] as Conn[])) c.pipe.close();
    for (const c of this.controls.values()) (await c.catch(() => null))?.close();
    this.nodes.clear();
    this.ready.clear();
    this.controls.clear();
  }
}
