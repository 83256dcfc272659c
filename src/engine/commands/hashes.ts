import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX, NOT_INTEGER } from '../errors.js';
import { expireAllowed, parseExpireCond, toAbsoluteMs, type ExpireCond } from '../expire.js';
import { inI64, mustI64, mustInt, parseI64 } from '../numbers.js';
import { incrByFloatText } from '../long-double.js';
import { bkey } from '../values.js';
import { Hash } from '../hash.js';
import type { CommandTable, CommandSpec } from './index.js';
import { upper } from '../args.js';

/** Sets a field; its TTL is cleared unless keepTtl (HINCRBY keeps it, HSET does not). */
function hset(h: Hash, field: Buffer, value: Buffer, keepTtl = false): void {
  h.set(bkey(field), value, keepTtl);
}

function hsetCmd(ks: Keyspace, argv: Buffer[]): void {
  if (argv.length % 2) throw new CommandError(`ERR wrong number of arguments for '${argv[0]!.toString('latin1').toLowerCase()}' command`);
  const h = ks.getOrCreate(argv[1]!, 'hash', () => new Hash());
  for (let i = 2; i < argv.length; i += 2) hset(h, argv[i]!, argv[i + 1]!);
}

/** Parses "FIELDS n f1 ... fn" at argv[at]; the count must match what follows. */
function parseFields(argv: Buffer[], at: number, perField = 1): Buffer[] {
  if (at >= argv.length || upper(argv[at]!) !== 'FIELDS') throw new CommandError('ERR Mandatory argument FIELDS is missing or not at the right position');
  const n = mustInt(argv[at + 1] ?? Buffer.alloc(0), 'ERR Number of fields must be a positive integer');
  if (n <= 0) throw new CommandError('ERR Number of fields must be a positive integer');
  if (argv.length - (at + 2) !== n * perField) throw new CommandError('ERR The `numfields` parameter must match the number of arguments');
  return argv.slice(at + 2);
}

const FIELD_TTL_MAX = 2 ** 48 - 1;

function hexpire(unit: 's' | 'ms', absolute: boolean): CommandSpec {
  return {
    arity: -6,
    run: (ks, argv) => {
      const key = argv[1]!;
      const n = mustInt(argv[2]!);
      if (n < 0) throw new CommandError(`ERR invalid expire time, must be >= 0 and <= ${FIELD_TTL_MAX}`);
      let at = unit === 's' ? n * 1000 : n;
      if (!absolute) at += ks.clock();
      if (at > FIELD_TTL_MAX) throw new CommandError(`ERR invalid expire time, must be >= 0 and <= ${FIELD_TTL_MAX}`);
      let i = 3;
      const flags: Buffer[] = [];
      while (i < argv.length && upper(argv[i]!) !== 'FIELDS') flags.push(argv[i++]!);
      const cond: ExpireCond = parseExpireCond(flags);
      const fields = parseFields(argv, i);
      const h = ks.get(key, 'hash');
      if (!h) return;
      for (const f of fields) {
        const k = bkey(f);
        if (!h.has(k) || !expireAllowed(cond, h.expireAt(k), at)) continue;
        h.setExpireAt(k, at);
      }
    },
  };
}

function hincrby(ks: Keyspace, key: Buffer, field: Buffer, by: bigint): void {
  const h = ks.get(key, 'hash');
  const cur = h?.get(bkey(field));
  const old = cur ? parseI64(cur) : 0n;
  if (old === null) throw new CommandError('ERR hash value is not an integer');
  const next = old + by;
  if (!inI64(next)) throw new CommandError('ERR increment or decrement would overflow');
  hset(h ?? ks.getOrCreate(key, 'hash', () => new Hash()), field, Buffer.from(next.toString()), true);
}

/** HSETEX key [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] FIELDS n f v ... (Redis 8.0). */
function hsetex(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  let i = 2;
  let fnx = false;
  let fxx = false;
  let keepTtl = false;
  let expireAt: number | null = null;
  for (; i < argv.length && upper(argv[i]!) !== 'FIELDS'; i++) {
    const o = upper(argv[i]!);
    if (o === 'FNX') fnx = true;
    else if (o === 'FXX') fxx = true;
    else if (o === 'KEEPTTL') keepTtl = true;
    else if ((o === 'EX' || o === 'PX' || o === 'EXAT' || o === 'PXAT') && argv[i + 1]) {
      expireAt = toAbsoluteMs(argv[++i]!, o.startsWith('E') ? 's' : 'ms', o.endsWith('AT'), ks.clock(), 'hsetex');
    } else throw new CommandError(SYNTAX);
  }
  const rest = parseFields(argv, i, 2);
  const h = ks.get(key, 'hash');
  const exists = (f: Buffer): boolean => !!h?.has(bkey(f));
  const names = rest.filter((_, j) => j % 2 === 0);
  if (fnx && names.some(exists)) return;
  if (fxx && !names.every(exists)) return;
  const target = h ?? ks.getOrCreate(key, 'hash', () => new Hash());
  for (let j = 0; j < rest.length; j += 2) {
    hset(target, rest[j]!, rest[j + 1]!, keepTtl);
    if (expireAt !== null) target.setExpireAt(bkey(rest[j]!), expireAt);
  }
}

/** HGETEX key [EX|PX|EXAT|PXAT time | PERSIST] FIELDS n f ... (Redis 8.0): only the TTL changes. */
function hgetex(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  let i = 2;
  let change: number | null | undefined;
  for (; i < argv.length && upper(argv[i]!) !== 'FIELDS'; i++) {
    const o = upper(argv[i]!);
    if (o === 'PERSIST') change = null;
    else if ((o === 'EX' || o === 'PX' || o === 'EXAT' || o === 'PXAT') && argv[i + 1]) {
      change = toAbsoluteMs(argv[++i]!, o.startsWith('E') ? 's' : 'ms', o.endsWith('AT'), ks.clock(), 'hgetex');
    } else throw new CommandError(SYNTAX);
  }
  const fields = parseFields(argv, i);
  const h = ks.get(key, 'hash');
  if (!h || change === undefined) return;
  for (const f of fields) if (h.has(bkey(f))) h.setExpireAt(bkey(f), change);
}

function hdelFields(ks: Keyspace, key: Buffer, fields: Buffer[]): void {
  const h = ks.get(key, 'hash');
  if (!h) return;
  for (const f of fields) h.delete(bkey(f));
  ks.deleteIfEmpty(key, h.size);
}

export const hashCommands: CommandTable = {
  hset: { arity: -4, run: hsetCmd },
  hmset: { arity: -4, run: hsetCmd },
  hsetnx: {
    arity: 4,
    run: (ks, [, key, field, value]) => {
      const h = ks.get(key!, 'hash');
      if (h?.has(bkey(field!))) return;
      hset(h ?? ks.getOrCreate(key!, 'hash', () => new Hash()), field!, value!);
    },
  },
  hdel: { arity: -3, run: (ks, argv) => hdelFields(ks, argv[1]!, argv.slice(2)) },
  hgetdel: { arity: -5, run: (ks, argv) => hdelFields(ks, argv[1]!, parseFields(argv, 2)) },
  hincrby: { arity: 4, run: (ks, [, key, field, by]) => hincrby(ks, key!, field!, mustI64(by!, NOT_INTEGER)) },
  hincrbyfloat: {
    arity: 4,
    run: (ks, [, key, field, by]) => {
      const h = ks.get(key!, 'hash');
      const cur = h?.get(bkey(field!));
      const text = incrByFloatText(cur ? cur.toString('latin1') : '0', by!.toString('latin1'));
      hset(h ?? ks.getOrCreate(key!, 'hash', () => new Hash()), field!, Buffer.from(text), true);
    },
  },
  hexpire: hexpire('s', false),
  hpexpire: hexpire('ms', false),
  hexpireat: hexpire('s', true),
  hpexpireat: hexpire('ms', true),
  hpersist: {
    arity: -5,
    run: (ks, argv) => {
      const fields = parseFields(argv, 2);
      const h = ks.get(argv[1]!, 'hash');
      if (!h) return;
      for (const f of fields) if (h.has(bkey(f))) h.setExpireAt(bkey(f), null);
    },
  },
  hsetex: { arity: -6, run: hsetex },
  hgetex: { arity: -5, run: hgetex },
};
