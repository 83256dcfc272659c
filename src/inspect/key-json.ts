import { isUtf8 } from 'node:buffer';
import { RdbType } from '../codec/rdb/constants.js';
import { formatScore } from '../codec/rdb/encoding.js';
import { hashFieldKey, type RdbKey, type StreamId, type StreamValue } from '../codec/rdb/model.js';

/**
 * One JSON line per key, in the per-key shape of the corpus ground truth (`db`, `key`,
 * `key_base64`, `type`, `expire_at_ms`, `value`). With `base64` every byte string inside a value
 * is base64; with `utf8` valid UTF-8 prints as text and the rest as {"base64": "..."}. Lines are
 * built as strings (JSON.stringify per scalar) because rdb-dump must keep up with the disk and
 * a field named "__proto__" must survive.
 */

export type ByteEncoding = 'utf8' | 'base64';

type Enc = (b: Buffer) => string;

const encBase64: Enc = (b) => `"${b.toString('base64')}"`;
const encUtf8: Enc = (b) => {
  // One decode pass for the common case: only text holding U+FFFD needs the exact validity check.
  const s = b.toString('utf8');
  return !s.includes('\ufffd') || isUtf8(b) ? JSON.stringify(s) : `{"base64":"${b.toString('base64')}"}`;
};

function encoder(encoding: ByteEncoding): Enc {
  return encoding === 'base64' ? encBase64 : encUtf8;
}

/** Group and consumer names are names, not payload: text like the ground truth (base64 object if not UTF-8). */
const nameJson = encUtf8;

const id = (x: StreamId): string => `"${x.ms}-${x.seq}"`;

/** The key part of a line: text when valid UTF-8, else base64 with key_base64 (ground-truth rule). */
function keyFields(key: Buffer): string {
  return isUtf8(key) ? `"key":${JSON.stringify(key.toString('utf8'))}` : `"key":"${key.toString('base64')}","key_base64":true`;
}

function streamJson(s: StreamValue, rdbType: number, e: Enc): string {
  const v2 = rdbType !== RdbType.STREAM_LISTPACKS;
  const v3 = v2 && rdbType !== RdbType.STREAM_LISTPACKS_2;
  const parts: string[] = [];
  const entries = s.entries.map((en) => `[${id(en.id)},[${en.fields.map(e).join(',')}]]`);
  parts.push(`"entries":[${entries.join(',')}]`, `"length":${s.length}`, `"last_id":${id(s.lastId)}`);
  if (v2) {
    parts.push(`"max_deleted_entry_id":${id(s.maxDeletedId)}`, `"entries_added":${s.entriesAdded}`, `"recorded_first_entry_id":${id(s.firstId)}`);
  }
  const groups = s.groups.map((g) => {
    const gp = [`"name":${nameJson(g.name)}`, `"last_delivered_id":${id(g.lastDeliveredId)}`];
    if (v2) gp.push(`"entries_read":${g.entriesRead === null ? 'null' : String(g.entriesRead)}`);
    const byId = new Map(g.pel.map((p) => [`${p.id.ms}-${p.id.seq}`, p]));
    gp.push(`"pel":[${g.pel.map((p) => `[${id(p.id)},${nameJson(p.consumer)},${p.deliveryTimeMs},${p.deliveryCount}]`).join(',')}]`);
    const consumers = g.consumers.map((c) => {
      const cp = [`"name":${nameJson(c.name)}`, `"seen_time":${c.seenTimeMs}`];
      if (v3) cp.push(`"active_time":${c.activeTimeMs}`);
      const pel = c.pending.map((pid) => {
        const p = byId.get(`${pid.ms}-${pid.seq}`)!;
        return `[${id(pid)},${p.deliveryTimeMs},${p.deliveryCount}]`;
      });
      cp.push(`"pel":[${pel.join(',')}]`);
      return `{${cp.join(',')}}`;
    });
    gp.push(`"consumers":[${consumers.join(',')}]`);
    return `{${gp.join(',')}}`;
  });
  parts.push(`"groups":[${groups.join(',')}]`);
  return `{${parts.join(',')}}`;
}

function jsonArray(items: Buffer[], e: Enc): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) out += i ? `,${e(items[i]!)}` : e(items[i]!);
  return `${out}]`;
}

/** The JSON text of a decoded value (`k.value` must be set). */
export function valueJson(k: RdbKey, encoding: ByteEncoding): string {
  const e = encoder(encoding);
  const v = k.value!;
  switch (v.type) {
    case 'string':
      return e(v.value);
    case 'list':
      return jsonArray(v.value, e);
    case 'set':
      // Sets have no order; print them sorted by bytes like the ground truth (memcmp order).
      return jsonArray([...v.value].sort(Buffer.compare), e);
    case 'zset': {
      // Plain loops, not map/join: rdb-dump's speed is bound by allocation.
      let out = '[';
      for (let i = 0; i < v.value.length; i++) {
        const [m, sc] = v.value[i]!;
        out += `${i ? ',' : ''}[${e(m)},"${formatScore(sc)}"]`;
      }
      return `${out}]`;
    }
    case 'hash': {
      let out = '{"fields":{';
      for (let i = 0; i < v.value.length; i++) {
        const [f, val] = v.value[i]!;
        out += `${i ? ',' : ''}${objectKey(f, encoding)}:${e(val)}`;
      }
      out += '}';
      if (v.expires) {
        const ex = v.value.filter(([f]) => v.expires!.has(hashFieldKey(f))).map(([f]) => `${objectKey(f, encoding)}:${v.expires!.get(hashFieldKey(f))}`);
        out += `,"field_expire_at_ms":{${ex.join(',')}}`;
      }
      return `${out}}`;
    }
    case 'stream':
      return streamJson(v.value, k.rdbType, e);
    case 'module':
      return `{"module":${JSON.stringify(v.value.name)},"encver":${v.value.encver},"raw":"${v.value.raw.toString('base64')}"}`;
  }
}

/** JSON object keys are strings: base64 text, or the UTF-8 text (base64 with a "base64:" prefix otherwise). */
function objectKey(b: Buffer, encoding: ByteEncoding): string {
  if (encoding === 'base64') return `"${b.toString('base64')}"`;
  return isUtf8(b) ? JSON.stringify(b.toString('utf8')) : `"base64:${b.toString('base64')}"`;
}

/** One jsonl line (without newline) for a decoded key. */
export function keyJsonLine(k: RdbKey, encoding: ByteEncoding): string {
  const type = k.value!.type;
  return `{"db":${k.db},${keyFields(k.key)},"type":"${type}","expire_at_ms":${k.expireAtMs === null ? 'null' : k.expireAtMs},"value":${valueJson(k, encoding)}}`;
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
