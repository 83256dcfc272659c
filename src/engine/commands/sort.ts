import type { Keyspace } from '../keyspace.js';
import { upper } from '../args.js';
import { CommandError, SYNTAX, WRONGTYPE } from '../errors.js';
import { mustInt } from '../numbers.js';
import { List } from '../list.js';
import { bkey, kbuf } from '../values.js';
import type { CommandTable } from './index.js';

/**
 * SORT ... STORE (Redis propagates it as it is). Follows sortCommandGeneric: numeric ties broken
 * by comparing the elements (so the result is deterministic), ALPHA compared bytewise when
 * storing, BY without '*' means no sorting (a set is then sorted ALPHA, as Redis forces for
 * STORE), GET patterns with '#' and '->field'. SORT without STORE is a read and changes nothing.
 */

/** lookupKeyByPattern: the string (or hash field) a pattern names for one element, or null. */
function byPattern(ks: Keyspace, pattern: Buffer, elem: Buffer): Buffer | null {
  if (pattern.length === 1 && pattern[0] === 0x23) return elem; // "#"
  const star = pattern.indexOf(0x2a);
  if (star < 0) return null;
  const arrow = pattern.indexOf('->', star + 1);
  const field = arrow >= 0 && arrow + 2 < pattern.length ? pattern.subarray(arrow + 2) : null;
  const key = Buffer.concat([pattern.subarray(0, star), elem, pattern.subarray(star + 1, field ? arrow : pattern.length)]);
  const e = ks.lookup(key);
  if (!e) return null;
  if (field) return e.value.type === 'hash' ? (e.value.v.get(bkey(field)) ?? null) : null;
  return e.value.type === 'string' ? e.value.v : null;
}

/** strtod as SORT uses it: leading spaces allowed, the whole rest must parse, no NaN/overflow. */
function sortScore(b: Buffer): number | null {
  const s = b.toString('latin1').replace(/^[ \t\n\v\f\r]+/, '');
  if (s === '') return 0;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

function sort(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  let desc = false;
  let alpha = false;
  let start = 0;
  let count = -1;
  let store: Buffer | null = null;
  let sortby: Buffer | null = null;
  let dontsort = false;
  const gets: Buffer[] = [];
  for (let j = 2; j < argv.length; j++) {
    const o = upper(argv[j]!);
    const left = argv.length - j - 1;
    if (o === 'ASC') desc = false;
    else if (o === 'DESC') desc = true;
    else if (o === 'ALPHA') alpha = true;
    else if (o === 'LIMIT' && left >= 2) {
      start = mustInt(argv[j + 1]!);
      count = mustInt(argv[j + 2]!);
      j += 2;
    } else if (o === 'STORE' && left >= 1) store = argv[++j]!;
    else if (o === 'BY' && left >= 1) {
      sortby = argv[++j]!;
      if (sortby.indexOf(0x2a) < 0) dontsort = true;
    } else if (o === 'GET' && left >= 1) gets.push(argv[++j]!);
    else throw new CommandError(SYNTAX);
  }
  const e = ks.lookup(key);
  if (e && e.value.type !== 'list' && e.value.type !== 'set' && e.value.type !== 'zset') throw new CommandError(WRONGTYPE);
  if (!store) return;
  if (sortby && dontsort && e?.value.type === 'set') {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  let elems: Buffer[] = [];
  if (e?.value.type === 'list') elems = e.value.v.toArray();
  else if (e?.value.type === 'set') elems = [...e.value.v].map(kbuf);
  else if (e?.value.type === 'zset') {
    elems = e.value.v.nodes().map((n) => n.member);
    if (dontsort && desc) elems.reverse();
  }
  const n = elems.length;
  if (start < 0) start = 0;
  let end = count < 0 ? n - 1 : start + count - 1;
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;
  if (!dontsort) {
    const items = elems.map((obj) => {
      const byval = sortby ? byPattern(ks, sortby, obj) : obj;
      let score = 0;
      if (!alpha && byval) {
        const s = sortScore(byval);
        if (s === null) throw new CommandError("ERR One or more scores can't be converted into double");
        score = s;
      }
      return { obj, score, cmpobj: alpha && sortby ? byval : null };
    });
    items.sort((a, b) => {
      let cmp: number;
      if (!alpha) cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : Buffer.compare(a.obj, b.obj);
      else if (sortby) cmp = !a.cmpobj || !b.cmpobj ? (a.cmpobj === b.cmpobj ? 0 : !a.cmpobj ? -1 : 1) : Buffer.compare(a.cmpobj, b.cmpobj);
      else cmp = Buffer.compare(a.obj, b.obj);
      return desc ? -cmp : cmp;
    });
    elems = items.map((i) => i.obj);
  }
  const out: Buffer[] = [];
  for (let j = start; j <= end; j++) {
    if (!gets.length) out.push(elems[j]!);
    else for (const g of gets) out.push(byPattern(ks, g, elems[j]!) ?? Buffer.alloc(0));
  }
  if (out.length) ks.set(store, { type: 'list', v: List.from(out) });
  else ks.delete(store);
}

export const sortCommands: CommandTable = {
  sort: { arity: -2, run: sort },
  sort_ro: { arity: -2, run: () => {} },
};
