import type { RedisType } from '../codec/rdb/model.js';
import { globMatch } from './glob.js';

/** rdb-dump's selection: --db, --type, --match. */
export interface KeyFilter {
  db?: number;
  type?: RedisType;
  match?: Buffer;
}

/** Whether the key b[start, end) of `type` in `db` is selected. */
export function keySelected(f: KeyFilter, db: number, b: Buffer, start: number, end: number, type: RedisType): boolean {
  return (f.db === undefined || db === f.db) && (f.type === undefined || type === f.type) && (!f.match || globMatch(f.match, b.subarray(start, end)));
}
