import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';

/** A pipelined connection with the db it has SELECTed and how many replies it still awaits. */
export interface Conn {
  client: RedisClient;
  db: number;
  inFlight: number;
  waiters: Array<() => void>;
  /** Writes are being gathered for one writev (see KeySender.acquire). */
  corked: boolean;
}

/**
 * Connections to the target's nodes, `perNode` each, opened on first use with the seed's
 * credentials (cluster nodes share them). Redirects may name nodes not seen before.
 */
export class NodePool {
  private readonly nodes = new Map<string, Promise<Conn[]>>();
  /** Connections already open, for the synchronous fast path. */
  private readonly ready = new Map<string, Conn[]>();
  private rr = 0;

  constructor(
    readonly seed: RedisEndpoint,
    private readonly perNode: number,
  ) {}

  static address(host: string, port: number): string {
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  endpointFor(host: string, port: number): RedisEndpoint {
    if (host === this.seed.host && port === this.seed.port) return this.seed;
    const display = `${this.seed.tls ? 'rediss' : 'redis'}://${NodePool.address(host, port)}`;
    return { ...this.seed, host, port, db: undefined, display };
  }

  /** All connections to a node (opened once). */
  conns(address: string): Promise<Conn[]> {
    let p = this.nodes.get(address);
    if (!p) {
      const i = address.lastIndexOf(':');
      const ep = this.endpointFor(address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1)));
      p = Promise.all(
        Array.from({ length: this.perNode }, async () => {
          const client = await RedisClient.connect(ep);
          return { client, db: ep.db ?? 0, inFlight: 0, waiters: [], corked: false } satisfies Conn;
        }),
      );
      p.then(
        (list) => this.ready.set(address, list),
        () => this.nodes.delete(address),
      );
      this.nodes.set(address, p);
    }
    return p;
  }

  /** The next open connection of a node without waiting, or null when it is not connected yet. */
  pickReady(address: string): Conn | null {
    const list = this.ready.get(address);
    return list ? list[this.rr++ % list.length]! : null;
  }

  /** The next connection of a node, round-robin (spreads keys over the parallel pipelines). */
  async pick(address: string): Promise<Conn> {
    const list = await this.conns(address);
    return list[this.rr++ % list.length]!;
  }

  /** One control connection per node (the first), for commands that must run everywhere. */
  async first(address: string): Promise<Conn> {
    return (await this.conns(address))[0]!;
  }

  async close(): Promise<void> {
    for (const p of this.nodes.values()) {
      const list = await p.catch(() => [] as Conn[]);
      for (const c of list) c.client.close();
    }
    this.nodes.clear();
    this.ready.clear();
  }
}
