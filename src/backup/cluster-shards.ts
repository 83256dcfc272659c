import { RespError, type RespValue } from '../codec/resp/types.js';
import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { IoError, ToolError, UsageError, oneLine } from '../util/errors.js';

/** A node of a cluster as a backup sees it. */
export interface ClusterNode {
  id: string;
  /** host:port (IPv6 in brackets), the client port. */
  address: string;
  role: 'master' | 'replica';
  /** Reachable and serving (not failed, not loading, link up). */
  healthy: boolean;
  /** Replication offset when the server reports it (CLUSTER SHARDS). */
  offset: number | null;
}

/** One shard: a master, its replicas and the slot ranges it owns. */
export interface ClusterShard {
  /** Position in slot order (the shard holding slot 0 first). */
  index: number;
  slots: Array<[number, number]>;
  master: ClusterNode;
  replicas: ClusterNode[];
}

export interface ClusterLayout {
  shards: ClusterShard[];
  via: 'CLUSTER SHARDS' | 'CLUSTER NODES';
  /** Slots no master serves (a cluster that is not ok). */
  unassigned: number;
}

const str = (v: RespValue): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v ?? ''));

/** A flat RESP map (key, value, key, value...) as an object. */
function asMap(v: RespValue): Record<string, RespValue> {
  const out: Record<string, RespValue> = {};
  if (!Array.isArray(v)) return out;
  for (let i = 0; i + 1 < v.length; i += 2) out[str(v[i]!)] = v[i + 1]!;
  return out;
}

export function addressOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The endpoint of another node, with the seed's credentials and TLS (cluster nodes share them). */
export function endpointAt(seed: RedisEndpoint, address: string): RedisEndpoint {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return { ...seed, host, port, db: undefined, display: `${seed.tls ? 'rediss' : 'redis'}://${address}` };
}

/** Slot ranges as "0-5460,10923" for logs and READMEs. */
export function formatRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
}

function shardsReply(reply: RespValue, seedHost: string): ClusterShard[] {
  const shards: ClusterShard[] = [];
  for (const raw of Array.isArray(reply) ? reply : []) {
    const m = asMap(raw);
    const flat = Array.isArray(m.slots) ? m.slots.map(Number) : [];
    const slots: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) slots.push([flat[i]!, flat[i + 1]!]);
    const nodes = (Array.isArray(m.nodes) ? m.nodes : []).map((n) => {
      const f = asMap(n);
      const ip = str(f.ip ?? f.endpoint ?? '');
      const host = !ip || ip === '?' ? seedHost : ip;
      const port = Number(f.port ?? f['tls-port']);
      return {
        id: str(f.id),
        address: addressOf(host, port),
        role: str(f.role) === 'master' ? 'master' : 'replica',
        healthy: str(f.health) === 'online',
        offset: f['replication-offset'] !== undefined ? Number(f['replication-offset']) : null,
      } satisfies ClusterNode;
    });
    const master = nodes.find((n) => n.role === 'master');
    if (!master || slots.length === 0) continue;
    shards.push({ index: 0, slots, master, replicas: nodes.filter((n) => n !== master) });
  }
  return shards;
}

/** One line of CLUSTER NODES, split into what a backup needs. */
export interface NodesLine {
  id: string;
  address: string;
  flags: string[];
  masterId: string | null;
  connected: boolean;
  slots: Array<[number, number]>;
  /** [slot->-node] and [slot-<-node] entries (only on the node's own line). */
  migrating: Array<[number, string]>;
  importing: Array<[number, string]>;
}

export function parseNodesLines(text: string, seedHost: string): NodesLine[] {
  const out: NodesLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    const addr = f[1]!.split('@')[0]!.split(',')[0]!;
    const colon = addr.lastIndexOf(':');
    const host = addr.slice(0, colon) || seedHost;
    const n: NodesLine = {
      id: f[0]!,
      address: addressOf(host.replace(/^\[|\]$/g, ''), Number(addr.slice(colon + 1))),
      flags: f[2]!.split(','),
      masterId: f[3] === '-' ? null : f[3]!,
      connected: f[7] === 'connected',
      slots: [],
      migrating: [],
      importing: [],
    };
    for (const s of f.slice(8)) {
      let m = /^\[(\d+)->-([0-9a-f]+)\]$/.exec(s);
      if (m) n.migrating.push([Number(m[1]), m[2]!]);
      else if ((m = /^\[(\d+)-<-([0-9a-f]+)\]$/.exec(s))) n.importing.push([Number(m[1]), m[2]!]);
      else if ((m = /^(\d+)(?:-(\d+))?$/.exec(s))) n.slots.push([Number(m[1]), Number(m[2] ?? m[1])]);
    }
    out.push(n);
  }
  return out;
}

function shardsFromNodes(lines: NodesLine[]): ClusterShard[] {
  const healthy = (l: NodesLine): boolean => l.connected && !l.flags.some((x) => x === 'fail' || x === 'fail?' || x === 'handshake' || x === 'noaddr');
  const node = (l: NodesLine): ClusterNode => ({ id: l.id, address: l.address, role: l.flags.includes('master') ? 'master' : 'replica', healthy: healthy(l), offset: null });
  return lines
    .filter((l) => l.flags.includes('master') && l.slots.length > 0)
    .map((m) => ({ index: 0, slots: m.slots, master: node(m), replicas: lines.filter((r) => r.masterId === m.id).map(node) }));
}

/**
 * The shards of the cluster `seed` belongs to: CLUSTER SHARDS (Redis 7+, with node health and
 * offsets), else CLUSTER NODES (every version since 3.0). Shards are numbered in slot order.
 */
export async function discoverShards(seed: RedisEndpoint, client: RedisClient): Promise<ClusterLayout> {
  let via: ClusterLayout['via'] = 'CLUSTER SHARDS';
  const reply = await client.send('CLUSTER', 'SHARDS');
  let shards: ClusterShard[];
  if (reply instanceof RespError) {
    via = 'CLUSTER NODES';
    shards = shardsFromNodes(parseNodesLines(await client.text('CLUSTER', 'NODES'), seed.host));
  } else shards = shardsReply(reply, seed.host);
  if (shards.length === 0) throw new IoError(`${seed.display}: the cluster has no master with slots (${via})`);
  shards.sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
  shards.forEach((s, i) => (s.index = i));
  let assigned = 0;
  for (const s of shards) for (const [a, b] of s.slots) assigned += b - a + 1;
  return { shards, via, unassigned: 16384 - assigned };
}

/** Compact "1-3,7" form of a sorted slot list. */
export function rangesOf(slots: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const s of slots) {
    const last = out[out.length - 1];
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/** The cluster's layout, refused unless the seed is a cluster node and the cluster is ok. */
export async function readLayout(seed: RedisEndpoint): Promise<ClusterLayout> {
  const c = await RedisClient.connect(seed).catch((e: unknown) => {
    throw e instanceof ToolError ? e : new IoError(`${seed.display}: ${oneLine(e)}`);
  });
  try {
    if ((await c.info('cluster')).cluster_enabled !== '1') throw new UsageError(`${seed.display} is not a Redis Cluster node (cluster_enabled:0): back it up without --cluster`);
    const state = /cluster_state:(\w+)/.exec(await c.text('CLUSTER', 'INFO'))?.[1];
    const layout = await discoverShards(seed, c);
    if (state !== 'ok' || layout.unassigned > 0) {
      throw new IoError(`${seed.display}: cluster_state:${state ?? '?'}${layout.unassigned ? `, ${layout.unassigned} slots unassigned` : ''}: a set would miss keys; fix the cluster first`);
    }
    return layout;
  } finally {
    c.close();
  }
}

/** The shard serving `original`'s first slot now (after a failover: the promoted replica's). */
export async function currentShard(seed: RedisEndpoint, original: ClusterShard): Promise<ClusterShard> {
  const addresses = [original.master, ...original.replicas].map((n) => n.address);
  for (const address of addresses) {
    const c = await RedisClient.connect(endpointAt(seed, address), { connectTimeoutMs: 3000 }).catch(() => null);
    if (!c) continue;
    try {
      const layout = await discoverShards(seed, c);
      const slot = original.slots[0]![0];
      const now = layout.shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
      if (now) return now;
    } catch {
      // another node may know better
    } finally {
      c.close();
    }
  }
  throw new IoError(`shard #${original.index}: no node of the shard answers`);
}

/** Each master's master_repl_offset now (a master that does not answer is left out). */
export async function masterOffsets(seed: RedisEndpoint, layout: ClusterLayout): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(
    layout.shards.map(async (s) => {
      const c = await RedisClient.connect(endpointAt(seed, s.master.address), { connectTimeoutMs: 3000 }).catch(() => null);
      if (!c) return;
      try {
        out.set(s.master.address, Number((await c.info('replication')).master_repl_offset ?? 0));
      } catch {
        // its shard's own attempt reports the problem
      } finally {
        c.close();
      }
    }),
  );
  return out;
}

/** Keys the node holds in slots outside `keep` (CLUSTER COUNTKEYSINSLOT, pipelined); -1 when it cannot tell. */
export async function countOutside(ep: RedisEndpoint, keep: Uint8Array): Promise<number> {
  const c = await RedisClient.connect(ep);
  try {
    const replies: Array<Promise<unknown>> = [];
    for (let s = 0; s < 16384; s++) if (!keep[s]) replies.push(c.send('CLUSTER', 'COUNTKEYSINSLOT', s));
    let total = 0;
    for (const r of await Promise.all(replies)) {
      if (r instanceof RespError) return -1;
      total += Number(r);
    }
    return total;
  } finally {
    c.close();
  }
}
