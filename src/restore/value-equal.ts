import { hashFieldKey, type RedisValue, type StreamId, type StreamValue } from '../codec/rdb/model.js';

/**
 * Whether two decoded values hold the same data, ignoring how each server chose to encode it
 * (listpack vs hashtable, member order of sets and hashes). Returns the first difference, or null.
 */
export function valueDifference(a: RedisValue, b: RedisValue): string | null {
  if (a.type !== b.type) return `type ${b.type}, expected ${a.type}`;
  switch (a.type) {
    case 'string':
      return a.value.equals((b as typeof a).value) ? null : 'string value differs';
    case 'list':
      return sameSeq(a.value, (b as typeof a).value) ? null : 'list elements differ';
    case 'set':
      return sameSeq(sorted(a.value), sorted((b as typeof a).value)) ? null : 'set members differ';
    case 'zset': {
      const other = new Map((b as typeof a).value.map(([m, s]) => [m.toString('latin1'), s]));
      if (other.size !== a.value.length) return `zset has ${other.size} members, expected ${a.value.length}`;
      for (const [m, s] of a.value) {
        // -0 and 0 are one score to Redis (a listpack stores -0 as the integer 0).
        const t = other.get(m.toString('latin1'));
        if (t !== s && !(Number.isNaN(t) && Number.isNaN(s))) return 'zset members or scores differ';
      }
      return null;
    }
    case 'hash': {
      const bb = b as typeof a;
      const other = new Map(bb.value.map(([f, v]) => [hashFieldKey(f), v]));
      if (other.size !== a.value.length) return `hash has ${other.size} fields, expected ${a.value.length}`;
      for (const [f, v] of a.value) if (!other.get(hashFieldKey(f))?.equals(v)) return 'hash fields differ';
      const ea = a.expires ?? new Map<string, number>();
      const eb = bb.expires ?? new Map<string, number>();
      if (ea.size !== eb.size) return 'hash field TTLs differ';
      for (const [f, t] of ea) if (eb.get(f) !== t) return 'hash field TTLs differ';
      return null;
    }
    case 'stream':
      return streamDifference(a.value, (b as typeof a).value);
    case 'module': {
      const bm = (b as typeof a).value;
      return a.value.id === bm.id && a.value.raw.equals(bm.raw) ? null : 'module value differs';
    }
    case 'array': {
      const ba = (b as typeof a).value;
      if (a.value.insertIdx !== ba.insertIdx) return 'array insert index differs';
      const other = new Map(ba.elements.map((e) => [e.index, e.value]));
      if (other.size !== a.value.elements.length) return `array has ${other.size} elements, expected ${a.value.elements.length}`;
      for (const e of a.value.elements) if (!other.get(e.index)?.equals(e.value)) return 'array elements differ';
      return null;
    }
    case 'pathhash': {
      // Paths and fields are maps: compared by name, whatever order each side stored them in.
      const other = new Map((b as typeof a).value.paths.map((p) => [hashFieldKey(p.path), p.fields]));
      if (other.size !== a.value.paths.length) return `path hash has ${other.size} paths, expected ${a.value.paths.length}`;
      for (const p of a.value.paths) {
        const fields = other.get(hashFieldKey(p.path));
        if (!fields) return 'path hash paths differ';
        const why = valueDifference({ type: 'hash', value: p.fields }, { type: 'hash', value: fields });
        if (why) return `path hash path ${JSON.stringify(p.path.toString('latin1'))}: ${why}`;
      }
      return null;
    }
  }
}

const id = (x: StreamId): string => `${x.ms}-${x.seq}`;

/** Entries, last id and consumer-group state; times are compared only where every version keeps them. */
function streamDifference(a: StreamValue, b: StreamValue): string | null {
  if (a.length !== b.length || a.entries.length !== b.entries.length) return `stream has ${b.length} entries, expected ${a.length}`;
  if (id(a.lastId) !== id(b.lastId)) return 'stream last id differs';
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i]!;
    const y = b.entries[i]!;
    if (id(x.id) !== id(y.id) || !sameSeq(x.fields, y.fields)) return `stream entry ${id(x.id)} differs`;
  }
  if (a.groups.length !== b.groups.length) return 'stream consumer groups differ';
  const groups = new Map(b.groups.map((g) => [g.name.toString('latin1'), g]));
  for (const g of a.groups) {
    const h = groups.get(g.name.toString('latin1'));
    if (!h || id(h.lastDeliveredId) !== id(g.lastDeliveredId)) return `stream group ${g.name.toString()} differs`;
    const pel = (x: typeof g) => x.pel.map((p) => `${id(p.id)}/${p.consumer.toString('latin1')}/${p.deliveryCount}/${p.deliveryTimeMs}`).sort().join(',');
    if (pel(g) !== pel(h)) return `stream group ${g.name.toString()} pending entries differ`;
    const cons = (x: typeof g) => x.consumers.map((c) => c.name.toString('latin1')).sort().join(',');
    if (cons(g) !== cons(h)) return `stream group ${g.name.toString()} consumers differ`;
  }
  return null;
}

function sorted(xs: Buffer[]): Buffer[] {
  return [...xs].sort(Buffer.compare);
}

function sameSeq(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!a[i]!.equals(b[i]!)) return false;
  return true;
}
