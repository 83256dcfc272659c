import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { mustI64, mustInt } from '../numbers.js';
import type { CommandTable } from './index.js';
import { upper } from '../args.js';

const MAX_BIT_OFFSET = 4 * 1024 * 1024 * 1024 * 8 - 1; // 512 MiB strings

/**
 * Edits the string at `key` grown (zero padded) to hold `bytes` bytes (created when missing): a
 * private copy is edited, then stored (values may be shared between keys, and small ones are held
 * as text, so the stored value is never edited in place).
 */
function editString(ks: Keyspace, key: Buffer, bytes: number, edit: (buf: Buffer) => void): void {
  const cur = ks.get(key, 'string') ?? Buffer.alloc(0);
  const out = Buffer.alloc(Math.max(bytes, cur.length));
  cur.copy(out);
  edit(out);
  ks.set(key, { type: 'string', v: out }, { keepTtl: true });
}

function parseBitOffset(b: Buffer, hashAllowed = false, bits = 1): number {
  const s = b.toString('latin1');
  let n: number;
  if (hashAllowed && s.startsWith('#')) n = mustInt(b.subarray(1), 'ERR bit offset is not an integer or out of range') * bits;
  else n = mustInt(b, 'ERR bit offset is not an integer or out of range');
  if (n < 0 || n > MAX_BIT_OFFSET) throw new CommandError('ERR bit offset is not an integer or out of range');
  return n;
}

function readBits(buf: Buffer, offset: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    const byte = bit >> 3;
    const b = byte < buf.length ? (buf[byte]! >> (7 - (bit & 7))) & 1 : 0;
    v = (v << 1n) | BigInt(b);
  }
  return v;
}

function writeBits(buf: Buffer, offset: number, bits: number, value: bigint): void {
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    const set = (value >> BigInt(bits - 1 - i)) & 1n;
    const byte = bit >> 3;
    const mask = 1 << (7 - (bit & 7));
    buf[byte] = set ? buf[byte]! | mask : buf[byte]! & ~mask;
  }
}

interface FieldType {
  signed: boolean;
  bits: number;
}

function parseType(b: Buffer): FieldType {
  const s = b.toString('latin1');
  const m = /^([iIuU])([0-9]+)$/.exec(s);
  const bits = m ? Number(m[2]) : 0;
  const signed = m ? m[1]!.toLowerCase() === 'i' : false;
  if (!m || bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) {
    throw new CommandError('ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');
  }
  return { signed, bits };
}

type Overflow = 'WRAP' | 'SAT' | 'FAIL';

/** Applies the overflow policy; null when FAIL refuses the value. */
function fit(t: FieldType, v: bigint, policy: Overflow): bigint | null {
  const min = t.signed ? -(1n << BigInt(t.bits - 1)) : 0n;
  const max = t.signed ? (1n << BigInt(t.bits - 1)) - 1n : (1n << BigInt(t.bits)) - 1n;
  if (v >= min && v <= max) return v;
  if (policy === 'FAIL') return null;
  if (policy === 'SAT') return v < min ? min : max;
  const mod = 1n << BigInt(t.bits);
  let w = ((v % mod) + mod) % mod;
  if (t.signed && w > max) w -= mod;
  return w;
}

function toSigned(t: FieldType, raw: bigint): bigint {
  if (t.signed && raw >> BigInt(t.bits - 1)) return raw - (1n << BigInt(t.bits));
  return raw;
}

function toRaw(t: FieldType, v: bigint): bigint {
  return v < 0n ? v + (1n << BigInt(t.bits)) : v;
}

type BitOp = { kind: 'get' | 'set' | 'incrby'; type: FieldType; offset: number; value: bigint; overflow: Overflow };

function bitfield(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  const ops: BitOp[] = [];
  let overflow: Overflow = 'WRAP';
  for (let i = 2; i < argv.length; ) {
    const sub = upper(argv[i]!);
    if (sub === 'OVERFLOW' && argv[i + 1]) {
      const p = upper(argv[i + 1]!);
      if (p !== 'WRAP' && p !== 'SAT' && p !== 'FAIL') throw new CommandError('ERR Invalid OVERFLOW type specified');
      overflow = p;
      i += 2;
      continue;
    }
    const kind = sub === 'GET' ? 'get' : sub === 'SET' ? 'set' : sub === 'INCRBY' ? 'incrby' : null;
    const need = kind === 'get' ? 3 : 4;
    if (!kind || i + need > argv.length) throw new CommandError(SYNTAX);
    const type = parseType(argv[i + 1]!);
    const offset = parseBitOffset(argv[i + 2]!, true, type.bits);
    const value = kind === 'get' ? 0n : mustI64(argv[i + 3]!);
    ops.push({ kind, type, offset, value, overflow });
    i += need;
  }
  const writes = ops.filter((o) => o.kind !== 'get');
  if (writes.length === 0) {
    ks.get(key, 'string');
    return;
  }
  let highest = 0;
  for (const o of writes) highest = Math.max(highest, o.offset + o.type.bits - 1);
  editString(ks, key, (highest >> 3) + 1, (buf) => {
    for (const op of writes) {
      const old = toSigned(op.type, readBits(buf, op.offset, op.type.bits));
      const next = op.kind === 'set' ? fit(op.type, op.value, op.overflow) : fit(op.type, old + op.value, op.overflow);
      if (next !== null) writeBits(buf, op.offset, op.type.bits, toRaw(op.type, next));
    }
  });
}

function bitop(ks: Keyspace, argv: Buffer[]): void {
  const op = upper(argv[1]!);
  const dest = argv[2]!;
  const srcs = argv.slice(3).map((k) => ks.get(k, 'string') ?? Buffer.alloc(0));
  const known = ['AND', 'OR', 'XOR', 'NOT', 'DIFF', 'DIFF1', 'ANDOR', 'ONE'];
  if (!known.includes(op)) throw new CommandError(SYNTAX);
  if (op === 'NOT' && srcs.length !== 1) throw new CommandError('ERR BITOP NOT must be called with a single source key.');
  if ((op === 'DIFF' || op === 'DIFF1' || op === 'ANDOR') && srcs.length < 2) {
    throw new CommandError(`ERR BITOP ${op} must be called with at least two source keys.`);
  }
  let len = 0;
  for (const s of srcs) len = Math.max(len, s.length);
  if (len === 0) {
    ks.delete(dest);
    return;
  }
  const out = Buffer.alloc(len);
  const at = (s: Buffer, i: number): number => (i < s.length ? s[i]! : 0);
  for (let i = 0; i < len; i++) {
    let r: number;
    if (op === 'NOT') r = ~at(srcs[0]!, i) & 0xff;
    else if (op === 'AND') r = srcs.reduce((a, s) => a & at(s, i), 0xff);
    else if (op === 'OR') r = srcs.reduce((a, s) => a | at(s, i), 0);
    else if (op === 'XOR') r = srcs.reduce((a, s) => a ^ at(s, i), 0);
    else {
      const x = at(srcs[0]!, i);
      const others = srcs.slice(1).reduce((a, s) => a | at(s, i), 0);
      if (op === 'DIFF') r = x & ~others & 0xff;
      else if (op === 'DIFF1') r = ~x & others & 0xff;
      else if (op === 'ANDOR') r = x & others;
      else {
        // ONE: bits set in exactly one source.
        let once = 0;
        let many = 0;
        for (const s of srcs) {
          const b = at(s, i);
          many |= once & b;
          once |= b;
        }
        r = once & ~many & 0xff;
      }
    }
    out[i] = r;
  }
  ks.set(dest, { type: 'string', v: out });
}

export const bitCommands: CommandTable = {
  setbit: {
    arity: 4,
    run: (ks, [, key, off, val]) => {
      const offset = parseBitOffset(off!);
      const v = val!.toString('latin1');
      if (v !== '0' && v !== '1') throw new CommandError('ERR bit is not an integer or out of range');
      editString(ks, key!, (offset >> 3) + 1, (buf) => writeBits(buf, offset, 1, BigInt(v)));
    },
  },
  bitop: { arity: -4, run: bitop },
  bitfield: { arity: -2, run: bitfield },
};
