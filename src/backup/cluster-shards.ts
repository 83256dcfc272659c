import { RespError, type RespValue } from '../codec/resp/types.js';
import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { IoError } from '../util/errors.js';

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

/**
 * What every reachable node claims right now, from its own CLUSTER NODES line: the slots each
 * master serves and the slots it is migrating or importing. Two claims compared tell whether any
 * slot moved, or was moving, in between.
 */
export interface SlotClaims {
  /** Slot → shard index of the claiming master (-1 none, -2 claimed by two shards or an unknown node). */
  owner: Int16Array;
  /** Per shard index: the slots its master claims (two may claim one while a SETSLOT NODE spreads). */
  claimed: Map<number, Uint8Array>;
  /** Slots some master reported MIGRATING or IMPORTING. */
  moving: Set<number>;
  /** Per shard index: slots its master reported IMPORTING (keys arrive there before it owns them). */
  importing: Map<number, Set<number>>;
  /** Shard indexes whose master reported MIGRATING slots (it may be running MIGRATE). */
  migrating: Set<number>;
}

export async function captureClaims(seed: RedisEndpoint, layout: ClusterLayout, shardOf: Map<string, number>): Promise<SlotClaims> {
  const claims: SlotClaims = { owner: new Int16Array(16384).fill(-1), claimed: new Map(), moving: new Set(), importing: new Map(), migrating: new Set() };
  const addresses = layout.shards.flatMap((s) => [s.master, ...s.replicas].map((n) => n.address));
  const replies = await Promise.all(
    addresses.map(async (addr) => {
      const c = await RedisClient.connect(endpointAt(seed, addr), { connectTimeoutMs: 3000 }).catch(() => null);
      if (!c) return null; // a dead node claims nothing; its shard's own checks fail it
      try {
        return await c.text('CLUSTER', 'NODES').catch(() => null);
      } finally {
        c.close();
      }
    }),
  );
  for (const text of replies) {
    if (!text) continue;
    const me = parseNodesLines(text, seed.host).find((l) => l.flags.includes('myself'));
    if (!me || !me.flags.includes('master')) continue;
    const shard = shardOf.get(me.id) ?? -2;
    const mine = new Uint8Array(16384);
    if (shard >= 0) claims.claimed.set(shard, mine);
    for (const [a, b] of me.slots) {
      mine.fill(1, a, b + 1);
      for (let s = a; s <= b; s++) claims.owner[s] = claims.owner[s] === -1 || claims.owner[s] === shard ? shard : -2;
    }
    for (const [s] of me.migrating) claims.moving.add(s);
    if (me.migrating.length && shard >= 0) claims.migrating.add(shard);
    for (const [s] of me.importing) {
      claims.moving.add(s);
      if (shard >= 0) {
        const set = claims.importing.get(shard) ?? new Set<number>();
        set.add(s);
        claims.importing.set(shard, set);
      }
    }
  }
  return claims;
}

/**
 * Slots whose owning shard differs between claims, is disputed, or that were moving in any of
 * them (a slot no master answered for, a dead one, does not count as a change).
 */
export function slotsInMotion(all: SlotClaims[]): number[] {
  const out: number[] = [];
  for (let s = 0; s < 16384; s++) {
    let owner = -1;
    let moving = false;
    for (const c of all) {
      const o = c.owner[s]!;
      if (c.moving.has(s) || o === -2 || (o >= 0 && owner >= 0 && o !== owner)) moving = true;
      if (o >= 0) owner = o;
    }
    if (moving) out.push(s);
  }
  return out;
}

/** The slot ranges a shard's master claimed. */
export function claimedRanges(claims: SlotClaims, shard: number): Array<[number, number]> {
  const mine = claims.claimed.get(shard);
  const slots: number[] = [];
  if (mine) for (let s = 0; s < 16384; s++) if (mine[s]) slots.push(s);
  return rangesOf(slots);
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
