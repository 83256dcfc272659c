import { i64le, lenBytes, strBytes, type StringEncodeOptions } from './encoding.js';
import { ListpackBuilder } from './listpack-writer.js';
import type { StreamEntry, StreamId, StreamValue } from './model.js';

/**
 * Stream value layout (formats digest §2.9) for stream format 1 (RDB 9), 2 (RDB 10) or 3
 * (RDB 11/12). Live entries are packed into listpack nodes as Redis's streamAppendItem does with
 * the default stream-node-max-bytes 4096 / stream-node-max-entries 100; deleted entries are not
 * kept in our model, so every node has a deleted count of 0.
 */

const NODE_MAX_BYTES = 4096;
const NODE_MAX_ENTRIES = 100;
const FLAG_SAMEFIELDS = 2;
const U64 = 1n << 64n;
const I64_MAX = (1n << 63n) - 1n;
/** SCG_INVALID_ENTRIES_READ (-1) as rdbSaveLen writes it: the uint64 all-ones. */
const ENTRIES_READ_UNKNOWN = U64 - 1n;

export function encodeStream(s: StreamValue, format: 1 | 2 | 3, opts: StringEncodeOptions): Buffer[] {
  const parts: Buffer[] = [];
  const nodes = packNodes(s.entries);
  parts.push(lenBytes(nodes.length));
  for (const node of nodes) {
    parts.push(...strBytes(rawId(node.master), opts), ...strBytes(node.lp, opts));
  }
  parts.push(lenBytes(s.length), lenBytes(s.lastId.ms), lenBytes(s.lastId.seq));
  if (format >= 2) {
    parts.push(lenBytes(s.firstId.ms), lenBytes(s.firstId.seq), lenBytes(s.maxDeletedId.ms), lenBytes(s.maxDeletedId.seq), lenBytes(s.entriesAdded));
  }
  parts.push(lenBytes(s.groups.length));
  for (const g of s.groups) {
    parts.push(...strBytes(g.name, opts), lenBytes(g.lastDeliveredId.ms), lenBytes(g.lastDeliveredId.seq));
    if (format >= 2) parts.push(lenBytes(g.entriesRead === null || g.entriesRead < 0n ? ENTRIES_READ_UNKNOWN : g.entriesRead));
    parts.push(lenBytes(g.pel.length));
    for (const p of g.pel) parts.push(rawId(p.id), i64le(p.deliveryTimeMs), lenBytes(p.deliveryCount));
    parts.push(lenBytes(g.consumers.length));
    for (const c of g.consumers) {
      parts.push(...strBytes(c.name, opts), i64le(c.seenTimeMs));
      if (format >= 3) parts.push(i64le(c.activeTimeMs));
      parts.push(lenBytes(c.pending.length));
      for (const id of c.pending) parts.push(rawId(id));
    }
  }
  return parts;
}

/** The 16-byte big-endian form of an ID (node keys, PEL entries). */
function rawId(id: StreamId): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(id.ms, 0);
  b.writeBigUInt64BE(id.seq, 8);
  return b;
}

/** a − b as the int64 Redis stores in a node (uint64 arithmetic, wrapped). */
function delta(a: bigint, b: bigint): bigint {
  const d = (((a - b) % U64) + U64) % U64;
  return d > I64_MAX ? d - U64 : d;
}

function packNodes(entries: readonly StreamEntry[]): Array<{ master: StreamId; lp: Buffer }> {
  const nodes: Array<{ master: StreamId; lp: Buffer }> = [];
  let i = 0;
  while (i < entries.length) {
    const first = entries[i]!;
    const master = first.id;
    const masterFields: Buffer[] = [];
    for (let f = 0; f < first.fields.length; f += 2) masterFields.push(first.fields[f]!);
    const body = new ListpackBuilder();
    let count = 0;
    let approx = 0;
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      let size = 0;
      for (const x of e.fields) size += x.length;
      if (count > 0 && (approx + size >= NODE_MAX_BYTES || count >= NODE_MAX_ENTRIES)) break;
      const same = e.fields.length === masterFields.length * 2 && masterFields.every((f, k) => f.equals(e.fields[k * 2]!));
      const nf = e.fields.length / 2;
      body.addInt(same ? FLAG_SAMEFIELDS : 0).addInt(delta(e.id.ms, master.ms)).addInt(delta(e.id.seq, master.seq));
      if (same) {
        for (let k = 1; k < e.fields.length; k += 2) body.add(e.fields[k]!);
        body.addInt(nf + 3);
      } else {
        body.addInt(nf);
        for (const x of e.fields) body.add(x);
        body.addInt(2 * nf + 4);
      }
      count++;
      approx = body.bytes + 16 + masterFields.reduce((a, f) => a + f.length + 2, 0);
    }
    nodes.push({ master, lp: withMasterEntry(count, masterFields, body) });
  }
  return nodes;
}

/** Prefixes the master entry (count, deleted 0, fields, 0) to the entries built so far. */
function withMasterEntry(count: number, masterFields: Buffer[], body: ListpackBuilder): Buffer {
  const lp = new ListpackBuilder().addInt(count).addInt(0).addInt(masterFields.length);
  for (const f of masterFields) lp.add(f);
  lp.addInt(0);
  const head = lp.finish();
  const tail = body.finish();
  // Splice the two entry runs into one listpack: header of the sum, head entries, body entries, FF.
  const total = head.length - 1 + (tail.length - 7) + 1;
  const out = Buffer.allocUnsafe(total);
  head.copy(out, 0, 0, head.length - 1);
  tail.copy(out, head.length - 1, 6, tail.length);
  out.writeUInt32LE(total, 0);
  const n = head.readUInt16LE(4) + body.count;
  out.writeUInt16LE(n < 65535 ? n : 65535, 4);
  return out;
}
