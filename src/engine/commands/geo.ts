import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX, UnsupportedCommandError } from '../errors.js';
import { SortedSet } from '../sorted-set.js';
import { crAsin, crCos, crSin } from '../geo-math.js';
import { mustDouble, mustInt } from '../numbers.js';
import type { CommandTable } from './index.js';
import { upper } from '../args.js';

const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const STEP = 26;

/** Spreads the 32 bits of v to the even bit positions of a 64-bit value. */
function spread(v: number): bigint {
  let out = 0n;
  for (let i = 0; i < 32; i++) if ((v >>> i) & 1) out |= 1n << BigInt(2 * i);
  return out;
}

/**
 * The sorted-set score GEOADD stores: Redis's 52-bit interleaved geohash (step 26, latitude in
 * the even bits). It must match bit for bit, so the fixed-point conversion mirrors geohash.c.
 */
export function geohashScore(lon: number, lat: number): number {
  const latOff = ((lat - LAT_MIN) / (LAT_MAX - LAT_MIN)) * 2 ** STEP;
  const lonOff = ((lon + 180) / 360) * 2 ** STEP;
  const bits = spread(Math.trunc(latOff) >>> 0) | (spread(Math.trunc(lonOff) >>> 0) << 1n);
  return Number(bits);
}

// ---- searches that store their result (GEOSEARCHSTORE, GEORADIUS[BYMEMBER] ... STORE) ----
// Membership is decided per member with Redis's own arithmetic (cell-centre decoding of the
// 52-bit hash, haversine on a 6372797.560856 m sphere); Redis only uses geohash boxes to prune.

const EARTH_RADIUS = 6372797.560856;
const D_R = Math.PI / 180.0;
const UNITS: Record<string, number> = { M: 1, KM: 1000, FT: 0.3048, MI: 1609.34 };

function unit(b: Buffer): number {
  const u = UNITS[upper(b)];
  if (u === undefined) throw new CommandError('ERR unsupported unit provided. please use M, KM, FT, MI');
  return u;
}

function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS * Math.abs(lat2 * D_R - lat1 * D_R);
}

function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = lon1 * D_R;
  const lon2r = lon2 * D_R;
  const v = crSin((lon2r - lon1r) / 2);
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = lat1 * D_R;
  const lat2r = lat2 * D_R;
  const u = crSin((lat2r - lat1r) / 2);
  const a = u * u + crCos(lat1r) * crCos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS * crAsin(Math.sqrt(a));
}

/** The centre of the step-26 cell a GEOADD score encodes (geohashDecodeToLongLatWGS84). */
export function geohashDecode(score: number): [number, number] {
  // Redis casts the score to uint64_t (any sorted set can be searched, not only GEOADD's).
  const bits = Number.isFinite(score) ? BigInt.asUintN(64, BigInt(Math.trunc(score))) : 0n;
  let lat = 0;
  let lon = 0;
  for (let i = 0; i < 32; i++) {
    if ((bits >> BigInt(2 * i)) & 1n) lat += 2 ** i;
    if ((bits >> BigInt(2 * i + 1)) & 1n) lon += 2 ** i;
  }
  const latScale = LAT_MAX - LAT_MIN;
  const cells = 2 ** STEP;
  const latMin = LAT_MIN + (lat * 1.0 / cells) * latScale;
  const latMax = LAT_MIN + ((lat + 1) * 1.0 / cells) * latScale;
  const lonMin = -180 + (lon * 1.0 / cells) * 360;
  const lonMax = -180 + ((lon + 1) * 1.0 / cells) * 360;
  const x = Math.min(180, Math.max(-180, (lonMin + lonMax) / 2));
  const y = Math.min(LAT_MAX, Math.max(LAT_MIN, (latMin + latMax) / 2));
  return [x, y];
}

interface GeoQuery {
  src: Buffer;
  center: { member: Buffer } | { lon: number; lat: number };
  shape: { radius: number } | { width: number; height: number };
  conv: number;
  sort: 'ASC' | 'DESC' | null;
  count: number;
  any: boolean;
  dest: Buffer | null;
  storeDist: boolean;
}

function runGeoQuery(ks: Keyspace, q: GeoQuery): void {
  const z = ks.get(q.src, 'zset');
  let cx: number;
  let cy: number;
  if ('member' in q.center) {
    const s = z?.score(q.center.member);
    if (s === undefined) {
      if (!z) return storeGeo(ks, q, []);
      throw new CommandError('ERR could not decode requested zset member');
    }
    [cx, cy] = geohashDecode(s);
  } else [cx, cy] = [q.center.lon, q.center.lat];
  const hits: Array<{ member: Buffer; score: number; dist: number }> = [];
  for (const n of z?.nodes() ?? []) {
    const [x, y] = geohashDecode(n.score);
    let d: number;
    if ('radius' in q.shape) {
      d = distance(cx, cy, x, y);
      if (d > q.shape.radius) continue;
    } else {
      if (latDistance(y, cy) > q.shape.height / 2) continue;
      if (distance(x, y, cx, y) > q.shape.width / 2) continue;
      d = distance(cx, cy, x, y);
    }
    hits.push({ member: n.member, score: n.score, dist: d });
  }
  if (q.any && q.count && hits.length > q.count) {
    throw new UnsupportedCommandError('GEOSEARCHSTORE', 'COUNT ... ANY keeps the first matches in geohash-box order, which the engine does not reproduce');
  }
  let sort = q.sort;
  if (q.count && !sort && !q.any) sort = 'ASC';
  if (sort === 'ASC') hits.sort((a, b) => a.dist - b.dist);
  else if (sort === 'DESC') hits.sort((a, b) => b.dist - a.dist);
  storeGeo(ks, q, q.count ? hits.slice(0, q.count) : hits);
}

function storeGeo(ks: Keyspace, q: GeoQuery, hits: Array<{ member: Buffer; score: number; dist: number }>): void {
  if (!q.dest) return;
  if (hits.length === 0) {
    ks.delete(q.dest);
    return;
  }
  const z = new SortedSet();
  for (const h of hits) z.set(h.member, q.storeDist ? h.dist / q.conv : h.score);
  ks.set(q.dest, { type: 'zset', v: z });
}

function lonLat(lonArg: Buffer, latArg: Buffer): { lon: number; lat: number } {
  const lon = mustDouble(lonArg);
  const lat = mustDouble(latArg);
  if (lon < -180 || lon > 180 || lat < LAT_MIN || lat > LAT_MAX) {
    throw new CommandError(`ERR invalid longitude,latitude pair ${lon.toFixed(6)},${lat.toFixed(6)}`);
  }
  return { lon, lat };
}

/** Parses [ASC|DESC] [COUNT n [ANY]] and the STORE options common to both command forms. */
function parseTail(argv: Buffer[], i: number, q: GeoQuery, legacy: boolean): void {
  for (; i < argv.length; i++) {
    const o = upper(argv[i]!);
    if (o === 'ASC' || o === 'DESC') q.sort = o;
    else if (o === 'COUNT' && argv[i + 1]) {
      q.count = mustInt(argv[++i]!);
      if (q.count <= 0) throw new CommandError('ERR COUNT must be > 0');
    } else if (o === 'ANY') q.any = true;
    else if (o === 'WITHDIST' || o === 'WITHHASH' || o === 'WITHCOORD') {
      if (!legacy) throw new CommandError(SYNTAX);
    } else if (legacy && (o === 'STORE' || o === 'STOREDIST') && argv[i + 1]) {
      q.dest = argv[++i]!;
      q.storeDist = o === 'STOREDIST';
    } else if (!legacy && o === 'STOREDIST') q.storeDist = true;
    else throw new CommandError(SYNTAX);
  }
  if (q.any && !q.count) throw new CommandError('ERR the ANY argument requires COUNT argument');
}

/** GEORADIUS key lon lat r unit ... / GEORADIUSBYMEMBER key member r unit ...: only STORE writes. */
function georadius(ks: Keyspace, argv: Buffer[], byMember: boolean): void {
  const at = byMember ? 3 : 4;
  const center = byMember ? { member: argv[2]! } : lonLat(argv[2]!, argv[3]!);
  const conv = unit(argv[at + 1]!);
  const r = mustDouble(argv[at]!, 'ERR need numeric radius');
  if (r < 0) throw new CommandError('ERR radius cannot be negative');
  const q: GeoQuery = { src: argv[1]!, center, shape: { radius: r * conv }, conv, sort: null, count: 0, any: false, dest: null, storeDist: false };
  parseTail(argv, at + 2, q, true);
  if (q.dest) runGeoQuery(ks, q);
}

/** GEOSEARCHSTORE dst src FROMMEMBER m | FROMLONLAT lon lat  BYRADIUS r unit | BYBOX w h unit ... */
function geosearchstore(ks: Keyspace, argv: Buffer[]): void {
  const q: GeoQuery = { src: argv[2]!, center: { lon: 0, lat: 0 }, shape: { radius: 0 }, conv: 1, sort: null, count: 0, any: false, dest: argv[1]!, storeDist: false };
  let i = 3;
  let from = false;
  let by = false;
  const tail: Buffer[] = [];
  while (i < argv.length) {
    const o = upper(argv[i]!);
    if (o === 'FROMMEMBER' && argv[i + 1] && !from) {
      q.center = { member: argv[i + 1]! };
      from = true;
      i += 2;
    } else if (o === 'FROMLONLAT' && argv[i + 2] && !from) {
      q.center = lonLat(argv[i + 1]!, argv[i + 2]!);
      from = true;
      i += 3;
    } else if (o === 'BYRADIUS' && argv[i + 2] && !by) {
      q.conv = unit(argv[i + 2]!);
      q.shape = { radius: mustDouble(argv[i + 1]!, 'ERR need numeric radius') * q.conv };
      by = true;
      i += 3;
    } else if (o === 'BYBOX' && argv[i + 3] && !by) {
      q.conv = unit(argv[i + 3]!);
      q.shape = { width: mustDouble(argv[i + 1]!, 'ERR need numeric width') * q.conv, height: mustDouble(argv[i + 2]!, 'ERR need numeric height') * q.conv };
      by = true;
      i += 4;
    } else tail.push(argv[i++]!);
  }
  if (!from) throw new CommandError('ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearchstore');
  if (!by) throw new CommandError('ERR exactly one of BYRADIUS and BYBOX can be specified for geosearchstore');
  parseTail(tail, 0, q, false);
  runGeoQuery(ks, q);
}

// Redis itself turns GEOADD into ZADD before propagating it; a raw GEOADD (a replication stream
// from another tool, a hand-made AOF) is applied the same way.
export const geoCommands: CommandTable = {
  geoadd: {
    arity: -5,
    run: (ks: Keyspace, argv: Buffer[]) => {
      let i = 2;
      const flags: Buffer[] = [];
      while (i < argv.length && ['NX', 'XX', 'CH'].includes(upper(argv[i]!))) flags.push(argv[i++]!);
      const rest = argv.slice(i);
      if (rest.length === 0 || rest.length % 3) throw new CommandError(SYNTAX);
      const zadd: Buffer[] = [Buffer.from('ZADD'), argv[1]!, ...flags];
      for (let j = 0; j < rest.length; j += 3) {
        const lon = mustDouble(rest[j]!);
        const lat = mustDouble(rest[j + 1]!);
        if (lon < -180 || lon > 180 || lat < LAT_MIN || lat > LAT_MAX) {
          throw new CommandError(`ERR invalid longitude,latitude pair ${lon.toFixed(6)},${lat.toFixed(6)}`);
        }
        zadd.push(Buffer.from(String(geohashScore(lon, lat))), rest[j + 2]!);
      }
      ks.apply(zadd);
    },
  },
  georadius: { arity: -6, run: (ks, argv) => georadius(ks, argv, false) },
  georadius_ro: { arity: -6, run: () => {} },
  georadiusbymember: { arity: -5, run: (ks, argv) => georadius(ks, argv, true) },
  georadiusbymember_ro: { arity: -5, run: () => {} },
  geosearchstore: { arity: -8, run: geosearchstore },
};
