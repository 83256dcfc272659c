import { RedisClient } from '../net/redis-client.js';
import type { RedisEndpoint } from '../net/redis-url.js';
import { endpointAt, parseNodesLines, rangesOf, type ClusterLayout } from './cluster-shards.js';

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
