import { UsageError } from '../util/errors.js';

/** `--db-map 0:3,1:0`: source db → target db; unlisted dbs keep their number. */
export type DbMap = ReadonlyMap<number, number>;

export function parseDbMap(spec: string | undefined): DbMap {
  const map = new Map<number, number>();
  if (!spec) return map;
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m) throw new UsageError(`--db-map: expected SRC:DST pairs like 0:3,1:0, got "${part}"`);
    const src = Number(m[1]);
    if (map.has(src)) throw new UsageError(`--db-map: db ${src} is mapped twice`);
    map.set(src, Number(m[2]));
  }
  return map;
}

export function mapDb(map: DbMap, db: number): number {
  return map.get(db) ?? db;
}
