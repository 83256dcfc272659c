import { RdbType } from '../codec/rdb/constants.js';
import { formatScore } from '../codec/rdb/encoding.js';
import { hashFieldKey, type RdbKey, type RedisType, type RedisValue, type StreamEntry, type StreamId, type StreamValue } from '../codec/rdb/model.js';
import type { StreamMeta } from '../codec/rdb/value-sink.js';
import { JsonOut } from './json-out.js';

/**
 * One JSON line per key, in the per-key shape of the corpus ground truth (`db`, `key`,
 * `key_base64`, `type`, `expire_at_ms`, `value`). With `base64` every byte string inside a value
 * is base64; with `utf8` valid UTF-8 prints as text and the rest as {"base64": "..."}. Lines are
 * written straight into a JsonOut buffer (no per-key objects or strings) because rdb-dump must
 * keep up with the disk, and a field named "__proto__" must survive.
 */

export type ByteEncoding = 'utf8' | 'base64';

/** A byte string inside a value: b[start, end). */
export function bytes(w: JsonOut, b: Buffer, encoding: ByteEncoding, start = 0, end = b.length): void {
  if (encoding === 'base64') w.base64Str(b, start, end);
  else if (!w.utf8Str(b, start, end)) {
    w.ascii('{"base64":"');
    w.base64(b, start, end);
    w.ascii('"}');
  }
}

/** JSON object keys are strings: base64 text, or the UTF-8 text (base64 with a "base64:" prefix otherwise). */
export function objectKey(w: JsonOut, b: Buffer, encoding: ByteEncoding, start = 0, end = b.length): void {
  if (encoding === 'base64') w.base64Str(b, start, end);
  else if (!w.utf8Str(b, start, end)) {
    w.ascii('"base64:');
    w.base64(b, start, end);
    w.byte(0x22);
  }
}

function id(w: JsonOut, x: StreamId): void {
  w.ascii(`"${x.ms}-${x.seq}"`);
}

export function bytesArray(w: JsonOut, items: readonly Buffer[], encoding: ByteEncoding): void {
  w.byte(0x5b);
  for (let i = 0; i < items.length; i++) {
    if (i) w.byte(0x2c);
    bytes(w, items[i]!, encoding);
  }
  w.byte(0x5d);
}

/** Group and consumer names are names, not payload: text like the ground truth (base64 object if not UTF-8). */
function streamJson(w: JsonOut, s: StreamValue, rdbType: number, encoding: ByteEncoding): void {
  w.ascii('{"entries":[');
  streamEntriesJson(w, s.entries, 0, encoding);
  streamTailJson(w, s, rdbType);
}

/** Stream entries as `[id,[fields]]` items of the `entries` array; `written`: the items before them. */
export function streamEntriesJson(w: JsonOut, entries: readonly StreamEntry[], written: number, encoding: ByteEncoding): void {
  for (let i = 0; i < entries.length; i++) {
    const en = entries[i]!;
    w.ascii(written + i ? ',[' : '[');
    id(w, en.id);
    w.byte(0x2c);
    bytesArray(w, en.fields, encoding);
    w.byte(0x5d);
  }
}

/** A stream value's JSON after its entries: closes the `entries` array, then length, IDs, groups. */
export function streamTailJson(w: JsonOut, s: StreamMeta, rdbType: number): void {
  const v2 = rdbType !== RdbType.STREAM_LISTPACKS;
  const v3 = v2 && rdbType !== RdbType.STREAM_LISTPACKS_2;
  w.ascii(`],"length":${s.length},"last_id":`);
  id(w, s.lastId);
  if (v2) {
    w.ascii(',"max_deleted_entry_id":');
    id(w, s.maxDeletedId);
    w.ascii(`,"entries_added":${s.entriesAdded},"recorded_first_entry_id":`);
    id(w, s.firstId);
  }
  w.ascii(',"groups":[');
  s.groups.forEach((g, gi) => {
    w.ascii(gi ? ',{"name":' : '{"name":');
    bytes(w, g.name, 'utf8');
    w.ascii(',"last_delivered_id":');
    id(w, g.lastDeliveredId);
    if (v2) w.ascii(`,"entries_read":${g.entriesRead === null ? 'null' : String(g.entriesRead)}`);
    const byId = new Map(g.pel.map((p) => [`${p.id.ms}-${p.id.seq}`, p]));
    w.ascii(',"pel":[');
    g.pel.forEach((p, i) => {
      w.ascii(i ? ',[' : '[');
      id(w, p.id);
      w.byte(0x2c);
      bytes(w, p.consumer, 'utf8');
      w.ascii(`,${p.deliveryTimeMs},${p.deliveryCount}]`);
    });
    w.ascii('],"consumers":[');
    g.consumers.forEach((c, ci) => {
      w.ascii(ci ? ',{"name":' : '{"name":');
      bytes(w, c.name, 'utf8');
      w.ascii(`,"seen_time":${c.seenTimeMs}`);
      if (v3) w.ascii(`,"active_time":${c.activeTimeMs}`);
      w.ascii(',"pel":[');
      c.pending.forEach((pid, i) => {
        const p = byId.get(`${pid.ms}-${pid.seq}`)!;
        w.ascii(i ? ',[' : '[');
        id(w, pid);
        w.ascii(`,${p.deliveryTimeMs},${p.deliveryCount}]`);
      });
      w.ascii(']}');
    });
    w.ascii(']');
    // RDB 14: the group's NACK zone (PEL entries no consumer owns; their "pel" owner is "").
    if (g.nacked) {
      w.ascii(',"nacked":[');
      g.nacked.forEach((n, i) => {
        if (i) w.byte(0x2c);
        id(w, n);
      });
      w.byte(0x5d);
    }
    w.byte(0x7d);
  });
  w.ascii(']}');
}

/** The `i`-th `[member, "score"]` of a zset array (with its leading comma). */
function zsetPairJson(w: JsonOut, i: number, m: Buffer, score: number, encoding: ByteEncoding): void {
  w.ascii(i ? ',[' : '[');
  bytes(w, m, encoding);
  scoreJson(w, score);
}

/** The end of a zset pair, after its member: `,"score"]`. */
export function scoreJson(w: JsonOut, score: number): void {
  w.ascii(',"');
  w.ascii(formatScore(score));
  w.ascii('"]');
}

/** The JSON text of a decoded value stored with RDB type `rdbType`. */
export function valueJson(w: JsonOut, v: RedisValue, rdbType: number, encoding: ByteEncoding): void {
  switch (v.type) {
    case 'string':
      bytes(w, v.value, encoding);
      return;
    case 'list':
      bytesArray(w, v.value, encoding);
      return;
    case 'set':
      // Sets have no order; print them sorted by bytes like the ground truth (memcmp order).
      bytesArray(w, [...v.value].sort(Buffer.compare), encoding);
      return;
    case 'zset':
      w.byte(0x5b);
      for (let i = 0; i < v.value.length; i++) {
        const [m, sc] = v.value[i]!;
        zsetPairJson(w, i, m, sc, encoding);
      }
      w.byte(0x5d);
      return;
    case 'hash': {
      w.ascii('{"fields":{');
      for (let i = 0; i < v.value.length; i++) {
        const [f, val] = v.value[i]!;
        if (i) w.byte(0x2c);
        objectKey(w, f, encoding);
        w.byte(0x3a);
        bytes(w, val, encoding);
      }
      w.byte(0x7d);
      if (v.expires) {
        w.ascii(',"field_expire_at_ms":{');
        let first = true;
        for (const [f] of v.value) {
          const at = v.expires.get(hashFieldKey(f));
          if (at === undefined) continue;
          if (!first) w.byte(0x2c);
          first = false;
          objectKey(w, f, encoding);
          w.ascii(`:${at}`);
        }
        w.byte(0x7d);
      }
      w.byte(0x7d);
      return;
    }
    case 'stream':
      streamJson(w, v.value, rdbType, encoding);
      return;
    case 'module':
      w.text(`{"module":${JSON.stringify(v.value.name)},"encver":${v.value.encver},"raw":`);
      w.base64Str(v.value.raw);
      w.byte(0x7d);
      return;
    case 'array': {
      // Indexes (up to 2^64-2) and the insert cursor are decimal strings, as librdb prints them.
      const a = v.value;
      w.ascii(`{"insert_idx":${a.insertIdx === null ? 'null' : `"${a.insertIdx}"`},"elements":[`);
      a.elements.forEach((e, i) => {
        w.ascii(`${i ? ',' : ''}{"idx":"${e.index}","val":`);
        bytes(w, e.value, encoding);
        w.byte(0x7d);
      });
      w.ascii(']}');
      return;
    }
    case 'pathhash':
      // {"paths":{path:{field:value}}}: paths in file order (Valkey writes them in byte order).
      w.ascii('{"paths":{');
      v.value.paths.forEach((p, i) => {
        if (i) w.byte(0x2c);
        objectKey(w, p.path, encoding);
        w.ascii(':{');
        p.fields.forEach(([f, val], j) => {
          if (j) w.byte(0x2c);
          objectKey(w, f, encoding);
          w.byte(0x3a);
          bytes(w, val, encoding);
        });
        w.byte(0x7d);
      });
      w.ascii('}}');
      return;
  }
}

/** A jsonl line up to its value: `{"db":..,"key":..,"type":..,"expire_at_ms":..,"value":`. */
export function keyHeadJson(w: JsonOut, db: number, key: Buffer, start: number, end: number, type: RedisType, expireAtMs: number | null): void {
  // Constant pieces are pre-encoded: per-key template strings were a tenth of rdb-dump's time.
  if (db < HEAD_OPEN.length) w.raw(HEAD_OPEN[db]!);
  else w.ascii(`{"db":${db},"key":`);
  // The key: text when valid UTF-8, else base64 with key_base64 (ground-truth rule).
  if (!w.utf8Str(key, start, end)) {
    w.base64Str(key, start, end);
    w.raw(KEY_BASE64);
  }
  if (expireAtMs === null) w.raw(TYPE_NO_EXPIRE[type]);
  else {
    w.raw(TYPE_OPEN[type]);
    w.ascii(String(expireAtMs));
    w.raw(VALUE_OPEN);
  }
}

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const types = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module', 'array', 'pathhash'] as const;
/** Up to the key, for the 16 databases of a default config. */
const HEAD_OPEN = Array.from({ length: 16 }, (_, db) => enc(`{"db":${db},"key":`));
const KEY_BASE64 = enc(',"key_base64":true');
const VALUE_OPEN = enc(',"value":');
const TYPE_OPEN = Object.fromEntries(types.map((t) => [t, enc(`,"type":"${t}","expire_at_ms":`)])) as Record<RedisType, Buffer>;
const TYPE_NO_EXPIRE = Object.fromEntries(types.map((t) => [t, enc(`,"type":"${t}","expire_at_ms":null,"value":`)])) as Record<RedisType, Buffer>;

/** Writes one jsonl line (with its newline) for a decoded key. */
export function writeKeyJson(w: JsonOut, k: RdbKey, encoding: ByteEncoding): void {
  keyHeadJson(w, k.db, k.key, 0, k.key.length, k.value!.type, k.expireAtMs);
  valueJson(w, k.value!, k.rdbType, encoding);
  w.ascii('}\n');
}

/** One jsonl line (without newline) for a decoded key. */
export function keyJsonLine(k: RdbKey, encoding: ByteEncoding): string {
  const w = new JsonOut(256);
  writeKeyJson(w, k, encoding);
  const line = w.take();
  return line.toString('utf8', 0, line.length - 1);
}

/** Library name and engine from a FUNCTION LOAD body's shebang (`#!lua name=mylib`). */
export function parseFunctionHeader(code: Buffer): { engine: string; name: string } | null {
  const nl = code.indexOf(10);
  const line = code.toString('utf8', 0, nl < 0 ? code.length : nl);
  const m = /^#!(\S+)(.*)$/.exec(line);
  if (!m) return null;
  const name = /(?:^|\s)name=(\S+)/.exec(m[2]!);
  return { engine: m[1]!, name: name ? name[1]! : '' };
}

/** One jsonl line for a function library. */
export function functionJsonLine(code: Buffer): string {
  const h = parseFunctionHeader(code);
  return `{"function":{"library_name":${JSON.stringify(h?.name ?? null)},"engine":${JSON.stringify(h?.engine ?? null)},"code":${JSON.stringify(code.toString('utf8'))}}}`;
}
