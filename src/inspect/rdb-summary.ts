import { crcAccumulator } from './crc-thread.js';
import { RdbDecoder } from '../codec/rdb/reader.js';
import { rdbTypeName, redisTypeOf } from '../codec/rdb/constants.js';
import type { ByteSource } from '../util/byte-source.js';
import { parseFunctionHeader } from './key-json.js';

/** What `rdb-check` reports about a file: header, aux fields, per-db counts, functions, checksum. */

export interface DbSummary {
  db: number;
  keys: number;
  /** Keys with a TTL, and those whose TTL is already in the past (a master would drop them). */
  expiring: number;
  expired: number;
  /** Keys per logical type (string, list, ...) and per stored encoding (RDB type name). */
  types: Record<string, number>;
  encodings: Record<string, number>;
  /** RESIZEDB hint as stored, if any. */
  resizeHint?: { keys: number; expires: number };
}

export interface RdbSummary {
  file: string;
  bytes: number;
  rdbVersion: number;
  flavor: 'redis' | 'valkey';
  aux: Record<string, string>;
  databases: DbSummary[];
  totalKeys: number;
  expiringKeys: number;
  expiredKeys: number;
  functions: Array<{ library: string; engine: string; bytes: number }>;
  moduleAux: Array<{ module: string; when: number }>;
  moduleKeys: Record<string, number>;
  /** 'ok' verified; 'disabled' stored as 0 (rdbchecksum no); 'absent' RDB < 5 has none. */
  checksum: 'ok' | 'disabled' | 'absent';
  checksumValue: string;
  notices: string[];
  /** RDB 15: hash templates in the template section (present when there are any). */
  hashTemplates?: number;
  /** Valkey RDB 81: UPDATE commands of a forkless save (present when there are any). */
  updateCommands?: number;
}


export async function summarizeRdb(
  src: ByteSource,
  opts: { now?: number; onProgress?: (offset: number) => void; allowNewer?: boolean } = {},
): Promise<RdbSummary> {
  const now = opts.now ?? Date.now();
  const notices: string[] = [];
  const dec = new RdbDecoder(src, { validateOnly: true, allowNewer: opts.allowNewer, crc: crcAccumulator(), onNotice: (m, at) => notices.length < 1000 && notices.push(`byte ${at}: ${m}`) });
  const s: RdbSummary = {
    file: src.name,
    bytes: 0,
    rdbVersion: 0,
    flavor: 'redis',
    aux: {},
    databases: [],
    totalKeys: 0,
    expiringKeys: 0,
    expiredKeys: 0,
    functions: [],
    moduleAux: [],
    moduleKeys: {},
    checksum: 'absent',
    checksumValue: '',
    notices,
  };
  const dbs = new Map<number, DbSummary>();
  const dbOf = (db: number): DbSummary => {
    let d = dbs.get(db);
    if (!d) {
      d = { db, keys: 0, expiring: 0, expired: 0, types: {}, encodings: {} };
      dbs.set(db, d);
    }
    return d;
  };
  let currentDb = 0;
  let valkey = false;
  const encodingNames: string[] = [];
  for (;;) {
    const batch = await dec.nextBatch();
    if (!batch) break;
    opts.onProgress?.(src.offset);
    for (const r of batch) {
      switch (r.kind) {
        case 'header':
          s.rdbVersion = r.version;
          s.flavor = r.flavor;
          valkey = r.flavor === 'valkey';
          break;
        case 'aux':
          s.aux[r.key.toString('utf8')] = r.value.toString('utf8');
          break;
        case 'selectdb':
          currentDb = r.db;
          break;
        case 'resizedb':
          dbOf(currentDb).resizeHint = { keys: r.dbSize, expires: r.expiresSize };
          break;
        case 'function': {
          const h = parseFunctionHeader(r.code);
          s.functions.push({ library: h?.name ?? '?', engine: h?.engine ?? '?', bytes: r.code.length });
          break;
        }
        case 'module-aux':
          s.moduleAux.push({ module: r.module.name, when: r.when });
          break;
        case 'hash-template':
          s.hashTemplates = (s.hashTemplates ?? 0) + 1;
          break;
        case 'update':
          s.updateCommands = (s.updateCommands ?? 0) + 1;
          break;
        case 'key': {
          const k = r.entry;
          const d = dbOf(k.db);
          d.keys++;
          const t = redisTypeOf(k.rdbType, valkey);
          d.types[t] = (d.types[t] ?? 0) + 1;
          const enc = encodingNames[k.rdbType] ?? (encodingNames[k.rdbType] = rdbTypeName(k.rdbType, valkey));
          d.encodings[enc] = (d.encodings[enc] ?? 0) + 1;
          if (k.value?.type === 'module') s.moduleKeys[k.value.value.name] = (s.moduleKeys[k.value.value.name] ?? 0) + 1;
          if (k.expireAtMs !== null) {
            d.expiring++;
            if (k.expireAtMs < now) d.expired++;
          }
          break;
        }
        case 'eof':
          s.bytes = r.end;
          s.checksum = s.rdbVersion < 5 ? 'absent' : r.checksum === null ? 'disabled' : 'ok';
          s.checksumValue = `0x${r.computed.toString(16).padStart(16, '0')}`;
          break;
        default:
          break;
      }
    }
  }
  s.databases = [...dbs.values()].filter((d) => d.keys > 0 || d.resizeHint).sort((a, b) => a.db - b.db);
  for (const d of s.databases) {
    s.totalKeys += d.keys;
    s.expiringKeys += d.expiring;
    s.expiredKeys += d.expired;
  }
  return s;
}

/** The human report of `rdb-check`. */
export function formatSummary(s: RdbSummary): string {
  const lines: string[] = [];
  lines.push(`file: ${s.file} (${s.bytes} bytes)`);
  lines.push(`format: ${s.flavor === 'valkey' ? 'VALKEY' : 'REDIS'} RDB version ${s.rdbVersion}`);
  const aux = Object.entries(s.aux);
  if (aux.length > 0) {
    lines.push('aux fields:');
    for (const [k, v] of aux) {
      let shown = v.length > 120 ? `${v.slice(0, 117)}...` : v;
      if (k === 'ctime' && /^\d+$/.test(v)) shown += ` (${new Date(Number(v) * 1000).toISOString()})`;
      lines.push(`  ${k} = ${shown.replace(/[\r\n]/g, ' ')}`);
    }
  }
  if (s.functions.length > 0) {
    lines.push(`functions: ${s.functions.length} librar${s.functions.length === 1 ? 'y' : 'ies'}: ${s.functions.map((f) => `${f.library} (${f.engine})`).join(', ')}`);
  }
  for (const m of s.moduleAux) lines.push(`module aux: ${m.module} (${m.when === 1 ? 'before' : 'after'} keys)`);
  if (s.hashTemplates) lines.push(`hash templates: ${s.hashTemplates} (template section, RDB 15)`);
  if (s.updateCommands) lines.push(`update commands: ${s.updateCommands} (Valkey forkless save, replayed after the keys before them)`);
  for (const d of s.databases) {
    const types = Object.entries(d.types).map(([t, n]) => `${t} ${n}`).join(', ');
    const encs = Object.entries(d.encodings).map(([t, n]) => `${t} ${n}`).join(', ');
    lines.push(`db ${d.db}: ${d.keys} keys (${d.expiring} expiring, ${d.expired} already expired): ${types}`);
    lines.push(`  encodings: ${encs || '-'}`);
  }
  lines.push(`total: ${s.totalKeys} keys in ${s.databases.length} database(s), ${s.expiringKeys} with a TTL, ${s.expiredKeys} already expired`);
  for (const n of s.notices) lines.push(`note: ${n}`);
  lines.push(
    s.checksum === 'ok'
      ? `checksum: OK (${s.checksumValue})`
      : s.checksum === 'disabled'
        ? 'checksum: not checked (written with rdbchecksum no)'
        : 'checksum: none (RDB version < 5 has no checksum)',
  );
  lines.push('RDB looks OK');
  return lines.join('\n');
}
