import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { expireAllowed, parseExpireCond } from '../expire.js';
import { copyValue } from '../copy-value.js';
import { mustInt } from '../numbers.js';
import { bkey } from '../values.js';
import { valueFromModel } from '../convert.js';
import { restoredValue } from '../payloads.js';
import type { CommandTable, CommandSpec } from './index.js';
import { upper } from '../args.js';

function del(ks: Keyspace, argv: Buffer[]): void {
  for (let i = 1; i < argv.length; i++) ks.delete(argv[i]!);
}

/**
 * EXPIRE family. While loading or applying a master's stream Redis stores a TTL already in
 * the past instead of deleting the key (the deletion arrives later as DEL), and so do we.
 */
function expire(unit: 's' | 'ms', absolute: boolean, name: string): CommandSpec {
  return {
    arity: -3,
    run: (ks, argv) => {
      const key = argv[1]!;
      const n = mustInt(argv[2]!);
      const cond = parseExpireCond(argv.slice(3));
      let at = unit === 's' ? n * 1000 : n;
      if (!absolute) at += ks.clock();
      if (!Number.isSafeInteger(at) || Math.abs(at) > 2 ** 63) throw new CommandError(`ERR invalid expire time in '${name}' command`);
      const e = ks.lookup(key);
      if (!e) return;
      if (!expireAllowed(cond, e.expireAt, at)) return;
      ks.setExpireAt(key, at);
    },
  };
}

function rename(ks: Keyspace, argv: Buffer[], nx: boolean): void {
  const [, src, dst] = argv as [Buffer, Buffer, Buffer];
  const e = ks.lookup(src);
  if (!e) throw new CommandError('ERR no such key');
  if (bkey(src) === bkey(dst)) return;
  if (nx && ks.has(dst)) return;
  ks.delete(src);
  ks.set(dst, e.value, { expireAt: e.expireAt });
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. */
function restore(ks: Keyspace, argv: Buffer[]): void {
  const [, key, ttlArg, payload] = argv as [Buffer, Buffer, Buffer, Buffer];
  let replace = false;
  let absttl = false;
  for (let i = 4; i < argv.length; i++) {
    const o = upper(argv[i]!);
    if (o === 'REPLACE') replace = true;
    else if (o === 'ABSTTL') absttl = true;
    else if ((o === 'IDLETIME' || o === 'FREQ') && argv[i + 1]) {
      const n = mustInt(argv[++i]!);
      if (n < 0 || (o === 'FREQ' && n > 255)) throw new CommandError(`ERR Invalid ${o} value, must be >= 0${o === 'FREQ' ? ' and <= 255' : ''}`);
    } else throw new CommandError(SYNTAX);
  }
  const ttl = mustInt(ttlArg);
  if (ttl < 0) throw new CommandError('ERR Invalid TTL value, must be >= 0');
  if (!replace && ks.has(key)) throw new CommandError('BUSYKEY Target key name already exists.');
  const value = valueFromModel(restoredValue(payload));
  ks.set(key, value, { expireAt: ttl === 0 ? null : absttl ? ttl : ks.clock() + ttl });
}

export const keyCommands: CommandTable = {
  restore: { arity: -4, run: restore },
  'restore-asking': { arity: -4, run: restore },
  del: { arity: -2, run: del },
  unlink: { arity: -2, run: del },
  expire: expire('s', false, 'expire'),
  pexpire: expire('ms', false, 'pexpire'),
  expireat: expire('s', true, 'expireat'),
  pexpireat: expire('ms', true, 'pexpireat'),
  persist: {
    arity: 2,
    run: (ks, [, key]) => {
      ks.setExpireAt(key!, null);
    },
  },
  rename: { arity: 3, run: (ks, argv) => rename(ks, argv, false) },
  renamenx: { arity: 3, run: (ks, argv) => rename(ks, argv, true) },
  move: {
    arity: 3,
    run: (ks, [, key, dbArg]) => {
      const dst = ks.checkDb(mustInt(dbArg!, 'ERR DB index is out of range'));
      if (dst === ks.selectedDb) throw new CommandError('ERR source and destination objects are the same');
      const e = ks.lookup(key!);
      if (!e || ks.has(key!, dst)) return;
      ks.delete(key!);
      ks.set(key!, e.value, { expireAt: e.expireAt, db: dst });
    },
  },
  copy: {
    arity: -3,
    run: (ks, argv) => {
      const [, src, dst] = argv as [Buffer, Buffer, Buffer];
      let db = ks.selectedDb;
      let replace = false;
      for (let i = 3; i < argv.length; i++) {
        const opt = upper(argv[i]!);
        if (opt === 'REPLACE') replace = true;
        else if (opt === 'DB' && argv[i + 1]) db = ks.checkDb(mustInt(argv[++i]!, 'ERR DB index is out of range'));
        else throw new CommandError(SYNTAX);
      }
      if (db === ks.selectedDb && bkey(src) === bkey(dst)) throw new CommandError('ERR source and destination objects are the same');
      const e = ks.lookup(src);
      if (!e) return;
      if (ks.has(dst, db) && !replace) return;
      ks.set(dst, copyValue(e.value), { expireAt: e.expireAt, db });
    },
  },
  swapdb: {
    arity: 3,
    run: (ks, [, a, b]) => {
      const i = ks.checkDb(mustInt(a!, 'ERR invalid first DB index'));
      const j = ks.checkDb(mustInt(b!, 'ERR invalid second DB index'));
      const t = ks.dbs[i]!;
      ks.dbs[i] = ks.dbs[j]!;
      ks.dbs[j] = t;
    },
  },
  flushdb: {
    arity: -1,
    run: (ks, argv) => {
      if (argv.length > 2 || (argv[1] && !['ASYNC', 'SYNC'].includes(upper(argv[1])))) throw new CommandError(SYNTAX);
      ks.db().clear();
    },
  },
  flushall: {
    arity: -1,
    run: (ks, argv) => {
      if (argv.length > 2 || (argv[1] && !['ASYNC', 'SYNC'].includes(upper(argv[1])))) throw new CommandError(SYNTAX);
      for (const db of ks.dbs) db.clear();
    },
  },
  select: {
    arity: 2,
    run: (ks, [, n]) => {
      ks.selectedDb = ks.checkDb(mustInt(n!, 'ERR value is not an integer or out of range'));
    },
  },
};

