import { keyText } from './report.js';
import type { KeyMemory } from './value-cost.js';

/** The header of redis-rdb-tools' memory report (`rdb -c memory`), so existing sheets keep working. */
export const CSV_HEADER = 'database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n';

/** RFC 4180: quoted when the field holds a comma, quote, CR or LF; quotes doubled. */
function field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One key's row (expiry as ISO 8601 UTC, empty without a TTL). */
export function csvRow(k: KeyMemory): string {
  // Dates JavaScript cannot represent (a TTL set to year 300000) print as unix ms.
  const expiry = k.expireAtMs === null ? '' : Math.abs(k.expireAtMs) <= 8.64e15 ? new Date(k.expireAtMs).toISOString() : String(k.expireAtMs);
  return `${k.db},${k.type},${field(keyText(k.key))},${k.bytes},${k.encoding},${k.elements},${k.largest},${expiry}\n`;
}
