import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { mustDouble } from '../numbers.js';
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
  georadius: { arity: -6, run: () => {}, unsupported: 'GEORADIUS ... STORE is not implemented by the engine yet' },
  georadiusbymember: { arity: -5, run: () => {}, unsupported: 'GEORADIUSBYMEMBER ... STORE is not implemented by the engine yet' },
  geosearchstore: { arity: -8, run: () => {}, unsupported: 'GEOSEARCHSTORE is not implemented by the engine yet' },
};
