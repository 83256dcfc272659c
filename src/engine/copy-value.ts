import { List } from './list.js';
import { SortedSet } from './sorted-set.js';
import { Stream, type Consumer, type Group, type Nack } from './stream.js';
import type { Value } from './values.js';

/**
 * A deep copy of a live value (COPY, and the RESTORE-like paths): collections are mutated in
 * place by later commands, so two keys must never share one. Byte strings are immutable here and
 * are shared, but each string key gets a holder of its own (a holder carries its key's TTL).
 */
export function copyValue(v: Value): Value {
  switch (v.type) {
    case 'string':
      return { type: 'string', v: v.v };
    case 'module':
      return v;
    case 'list':
      return { type: 'list', v: List.from(v.v) };
    case 'set':
      return { type: 'set', v: new Set(v.v) };
    case 'zset':
      return { type: 'zset', v: SortedSet.from(v.v.nodes().map((n) => ({ member: n.member, score: n.score }))) };
    case 'hash':
      return { type: 'hash', v: v.v.copy() };
    case 'stream':
      return { type: 'stream', v: copyStream(v.v) };
  }
}

function copyStream(s: Stream): Stream {
  const c = new Stream();
  c.setEntries(s.toArray());
  c.lastId = s.lastId;
  c.firstId = s.firstId;
  c.maxDeletedId = s.maxDeletedId;
  c.entriesAdded = s.entriesAdded;
  if (s.idmpRaw) c.idmpRaw = s.idmpRaw;
  for (const [gk, g] of s.groups) {
    const group: Group = { name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pel: new Map(), consumers: new Map() };
    for (const [ck, con] of g.consumers) {
      const consumer: Consumer = { name: con.name, seenTime: con.seenTime, activeTime: con.activeTime, pel: new Map() };
      group.consumers.set(ck, consumer);
      for (const [nk, n] of con.pel) {
        const nack: Nack = { id: n.id, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount, consumer };
        consumer.pel.set(nk, nack);
      }
    }
    for (const [nk, n] of g.pel) {
      const owner = group.consumers.get(n.consumer.name.toString('latin1'));
      group.pel.set(nk, owner?.pel.get(nk) ?? { ...n });
    }
    c.groups.set(gk, group);
  }
  return c;
}
