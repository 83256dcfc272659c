import type { Keyspace } from '../keyspace.js';
import { CommandError, NOT_INTEGER, SYNTAX } from '../errors.js';
import { toAbsoluteMs } from '../expire.js';
import { inI64, mustI64, mustInt, parseI64 } from '../numbers.js';
import { incrByFloatText } from '../long-double.js';
import type { CommandTable } from './index.js';
import { upper } from '../args.js';

const MAX_STRING = 512 * 1024 * 1024;

/** SET and the commands Redis builds on it: returns whether the value was stored. */
function setGeneric(ks: Keyspace, argv: Buffer[]): void {
  const [, key, value] = argv as [Buffer, Buffer, Buffer];
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let expireAt: number | null = null;
  let expireSeen = false;
  for (let i = 3; i < argv.length; i++) {
    const opt = upper(argv[i]!);
    const next = argv[i + 1];
    if (opt === 'NX' && !xx) nx = true;
    else if (opt === 'XX' && !nx) xx = true;
    else if (opt === 'GET') get = true;
    else if (opt === 'KEEPTTL' && !expireSeen) keepTtl = true;
    else if ((opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') && !keepTtl && !expireSeen && next) {
      expireSeen = true;
      expireAt = toAbsoluteMs(next, opt.startsWith('E') ? 's' : 'ms', opt.endsWith('AT'), ks.clock(), 'set');
      i++;
    } else throw new CommandError(SYNTAX);
  }
  if (get) ks.checkType(key, 'string'); // WRONGTYPE
  if ((nx || xx) && ks.has(key) === nx) return;
  ks.set(key, { type: 'string', v: value }, { keepTtl, expireAt: expireSeen ? expireAt : undefined });
}

function incrBy(ks: Keyspace, key: Buffer, by: bigint): void {
  // Read and written as text: INCR is a sixth of a redis-benchmark AOF, and Buffers made for each
  // would be most of its cost.
  const cur = ks.getText(key);
  const old = cur === undefined ? 0n : parseI64(cur);
  if (old === null) throw new CommandError(NOT_INTEGER);
  const next = old + by;
  if (!inI64(next)) throw new CommandError('ERR increment or decrement would overflow');
  ks.set(key, next.toString(), { keepTtl: true });
}

/**
 * Views whose spare capacity after their end belongs to them alone (made by appendBytes). Redis
 * appends into an sds with free space; doing the same keeps a long run of APPENDs to one key
 * linear instead of copying the whole value each time. A value shared by COPY keeps the old view,
 * which is no longer in this set, so it copies before growing.
 */
const growable = new WeakSet<Buffer>();

function appendBytes(cur: Buffer, tail: Buffer): Buffer {
  const end = cur.byteOffset + cur.length;
  if (growable.has(cur) && end + tail.length <= cur.buffer.byteLength) {
    const grown = Buffer.from(cur.buffer, cur.byteOffset, cur.length + tail.length);
    tail.copy(grown, cur.length);
    growable.delete(cur);
    growable.add(grown);
    return grown;
  }
  const len = cur.length + tail.length;
  const room = Buffer.allocUnsafeSlow(len < 1 << 20 ? len * 2 : len + (1 << 20));
  cur.copy(room);
  tail.copy(room, cur.length);
  const grown = room.subarray(0, len);
  growable.add(grown);
  return grown;
}

export const stringCommands: CommandTable = {
  set: { arity: -3, run: setGeneric },
  setnx: {
    arity: 3,
    run: (ks, [, key, value]) => {
      if (!ks.has(key!)) ks.set(key!, { type: 'string', v: value! });
    },
  },
  setex: {
    arity: 4,
    run: (ks, [, key, secs, value]) => {
      const at = toAbsoluteMs(secs!, 's', false, ks.clock(), 'setex');
      ks.set(key!, { type: 'string', v: value! }, { expireAt: at });
    },
  },
  psetex: {
    arity: 4,
    run: (ks, [, key, ms, value]) => {
      const at = toAbsoluteMs(ms!, 'ms', false, ks.clock(), 'psetex');
      ks.set(key!, { type: 'string', v: value! }, { expireAt: at });
    },
  },
  getset: {
    arity: 3,
    run: (ks, [, key, value]) => {
      ks.get(key!, 'string');
      ks.set(key!, { type: 'string', v: value! });
    },
  },
  getdel: {
    arity: 2,
    run: (ks, [, key]) => {
      if (ks.get(key!, 'string') !== undefined) ks.delete(key!);
    },
  },
  getex: {
    arity: -2,
    run: (ks, argv) => {
      const key = argv[1]!;
      let expireAt: number | null | undefined;
      for (let i = 2; i < argv.length; i++) {
        const opt = upper(argv[i]!);
        const next = argv[i + 1];
        if (expireAt !== undefined) throw new CommandError(SYNTAX);
        if (opt === 'PERSIST') expireAt = null;
        else if ((opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') && next) {
          expireAt = toAbsoluteMs(next, opt.startsWith('E') ? 's' : 'ms', opt.endsWith('AT'), ks.clock(), 'getex');
          i++;
        } else throw new CommandError(SYNTAX);
      }
      if (ks.get(key, 'string') === undefined || expireAt === undefined) return;
      ks.setExpireAt(key, expireAt);
    },
  },
  mset: {
    arity: -3,
    run: (ks, argv) => {
      if (argv.length % 2 === 0) throw new CommandError("ERR wrong number of arguments for 'mset' command");
      for (let i = 1; i < argv.length; i += 2) ks.set(argv[i]!, { type: 'string', v: argv[i + 1]! });
    },
  },
  msetnx: {
    arity: -3,
    run: (ks, argv) => {
      if (argv.length % 2 === 0) throw new CommandError("ERR wrong number of arguments for 'msetnx' command");
      for (let i = 1; i < argv.length; i += 2) if (ks.has(argv[i]!)) return;
      for (let i = 1; i < argv.length; i += 2) ks.set(argv[i]!, { type: 'string', v: argv[i + 1]! });
    },
  },
  append: {
    arity: 3,
    run: (ks, [, key, tail]) => {
      const cur = ks.get(key!, 'string');
      if (cur === undefined) return void ks.set(key!, { type: 'string', v: tail! });
      if (cur.length + tail!.length > MAX_STRING) throw new CommandError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      ks.set(key!, { type: 'string', v: appendBytes(cur, tail!) }, { keepTtl: true });
    },
  },
  setrange: {
    arity: 4,
    run: (ks, [, key, off, value]) => {
      const offset = mustInt(off!);
      if (offset < 0) throw new CommandError('ERR offset is out of range');
      const cur = ks.get(key!, 'string');
      if (value!.length === 0) return;
      if (offset + value!.length > MAX_STRING) throw new CommandError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      const base = cur ?? Buffer.alloc(0);
      const out = Buffer.alloc(Math.max(base.length, offset + value!.length));
      base.copy(out);
      value!.copy(out, offset);
      ks.set(key!, { type: 'string', v: out }, { keepTtl: true });
    },
  },
  incr: { arity: 2, run: (ks, [, key]) => incrBy(ks, key!, 1n) },
  decr: { arity: 2, run: (ks, [, key]) => incrBy(ks, key!, -1n) },
  incrby: { arity: 3, run: (ks, [, key, by]) => incrBy(ks, key!, mustI64(by!)) },
  decrby: {
    arity: 3,
    run: (ks, [, key, by]) => {
      const n = mustI64(by!);
      if (n === -(2n ** 63n)) throw new CommandError('ERR decrement would overflow');
      incrBy(ks, key!, -n);
    },
  },
  incrbyfloat: {
    arity: 3,
    run: (ks, [, key, by]) => {
      const cur = ks.get(key!, 'string');
      const text = incrByFloatText(cur === undefined ? '0' : cur.toString('latin1'), by!.toString('latin1'));
      ks.set(key!, { type: 'string', v: Buffer.from(text) }, { keepTtl: true });
    },
  },
};
