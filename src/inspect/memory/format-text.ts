import { formatBytes } from '../../util/format-bytes.js';
import type { KeyRow, MemoryReportData, Share } from './report.js';

/** Columns padded to their widest cell; `right` lists the right-aligned (numeric) columns. */
function table(head: string[], rows: string[][], right: Set<number>): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].map((l) => `  ${l}`);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (n: number) => n.toLocaleString('en-US');

/** A key shown on one line: control characters escaped, very long keys cut. */
function shownKey(k: string): string {
  const t = k.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

export function ttlText(ms: number | null): string {
  if (ms === null) return '-';
  if (ms <= 0) return 'expired';
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function shares(title: string, label: string, list: Share[]): string[] {
  return [
    title,
    ...table(
      [label, 'keys', 'bytes', 'human', 'share'],
      list.map((s) => [s.name, num(s.keys), String(s.bytes), formatBytes(s.bytes), pct(s.share)]),
      new Set([1, 2, 3, 4]),
    ),
  ];
}

function keys(title: string, list: KeyRow[]): string[] {
  if (list.length === 0) return [title, '  (none)'];
  return [
    title,
    ...table(
      ['db', 'key', 'type', 'encoding', 'bytes', 'elements', 'largest', 'ttl'],
      list.map((k) => [String(k.db), shownKey(k.key), k.type, k.encoding, String(k.bytes), num(k.elements), num(k.largest), ttlText(k.ttlMs)]),
      new Set([0, 4, 5, 6]),
    ),
  ];
}

/** The aligned human report (the default output of rdb-memory). */
export function formatText(r: MemoryReportData): string {
  const o = r.options;
  const out: string[] = [];
  out.push(`${r.source}: RDB ${r.rdbVersion}${r.redisVersion ? `, written by Redis ${r.redisVersion}` : ''}; costs as Redis ${r.model} MEMORY USAGE (SAMPLES 0)`);
  out.push(`total: ${num(r.keys)} keys, ${r.bytes} bytes (${formatBytes(r.bytes)}) for keys and values`);
  out.push(`  + ${r.keyspaceOverhead} bytes (${formatBytes(r.keyspaceOverhead)}) keyspace overhead not in MEMORY USAGE (dict buckets, expires entries)`);
  out.push('', ...shares('by db', 'db', r.byDb));
  out.push('', ...shares('by type', 'type', r.byType));
  out.push('', ...shares('by encoding', 'type/encoding', r.byEncoding));
  out.push('', ...keys(`top ${o.top} keys by memory`, r.topByBytes));
  out.push('', ...keys(`top ${o.top} keys by elements`, r.topByElements));
  out.push('', `key prefixes (separators ${JSON.stringify(o.separators)}, depth ${o.depth})`);
  if (r.prefixes.length === 0) out.push('  (no key has a separator)');
  else {
    out.push(
      ...table(
        ['prefix', 'keys', 'bytes', 'human', 'share'],
        r.prefixes.map((p) => [
          `${'  '.repeat(p.depth - 1)}${p.others ? `${shownKey(p.prefix)}* (${num(p.others)} more prefixes)` : shownKey(p.prefix)}${p.folded ? ` (+${num(p.folded.branches)} folded)` : ''}`, num(p.keys), String(p.bytes), formatBytes(p.bytes), pct(r.bytes ? p.bytes / r.bytes : 0)]),
        new Set([1, 2, 3, 4]),
      ),
    );
  }
  const f = r.prefixesFolded;
  if (f.branches > 0) out.push(`  folded to stay bounded: ${num(f.branches)} smallest branches (${num(f.keys)} keys, ${formatBytes(f.bytes)} when folded); their totals stay in their parents`);
  out.push('', 'TTL');
  out.push(
    ...table(
      ['ttl', 'keys', 'bytes', 'human', 'share'],
      r.ttl.map((t) => [t.bucket, num(t.keys), String(t.bytes), formatBytes(t.bytes), pct(r.bytes ? t.bytes / r.bytes : 0)]),
      new Set([1, 2, 3, 4]),
    ),
  );
  out.push(`  will expire: ${formatBytes(r.expiringBytes)}; already expired (a master drops them at load): ${formatBytes(r.expiredBytes)}`);
  out.push('', `big keys: ${num(r.bigKeysTotal)} (--big-key-bytes ${o.bigKeyBytes}, --big-key-elements ${o.bigKeyElements})`);
  for (const b of r.bigKeys.slice(0, o.top)) out.push(`  db ${b.db} ${shownKey(b.key)} (${b.type}/${b.encoding}, ${formatBytes(b.bytes)}): ${b.reasons.join('; ')}`);
  if (r.bigKeys.length > o.top) out.push(`  ... ${num(r.bigKeysTotal - o.top)} more (see --json or --csv)`);
  return `${out.join('\n')}\n`;
}
