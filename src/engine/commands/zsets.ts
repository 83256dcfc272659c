import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { mustDouble, mustInt, parseDouble } from '../numbers.js';
import { SortedSet, type ZNode } from '../sorted-set.js';
import type { CommandTable, CommandSpec } from './index.js';
import { mpopArgs, popCount, upper } from '../args.js';
import { kbuf } from '../values.js';

function zadd(ks: Keyspace, argv: Buffer[]): void {
  const key = argv[1]!;
  let i = 2;
  const f = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };
  for (; i < argv.length; i++) {
    const o = upper(argv[i]!);
    if (o === 'NX') f.nx = true;
    else if (o === 'XX') f.xx = true;
    else if (o === 'GT') f.gt = true;
    else if (o === 'LT') f.lt = true;
    else if (o === 'CH') f.ch = true;
    else if (o === 'INCR') f.incr = true;
    else break;
  }
  const rest = argv.slice(i);
  if (rest.length === 0 || rest.length % 2) throw new CommandError(SYNTAX);
  if (f.nx && f.xx) throw new CommandError('ERR XX and NX options at the same time are not compatible');
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    throw new CommandError('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (f.incr && rest.length > 2) throw new CommandError('ERR INCR option supports a single increment-element pair');
  const pairs: Array<[number, Buffer]> = [];
  for (let j = 0; j < rest.length; j += 2) pairs.push([mustDouble(rest[j]!), rest[j + 1]!]);
  const cur = ks.get(key, 'zset');
  if (!cur && f.xx) return;
  const z = cur ?? new SortedSet();
  for (const [score, member] of pairs) {
    const old = z.score(member);
    if (old !== undefined) {
      if (f.nx) continue;
      let next = score;
      if (f.incr) {
        next = old + score;
        if (Number.isNaN(next)) throw new CommandError('ERR resulting score is not a number (NaN)');
      }
      if ((f.gt && next <= old) || (f.lt && next >= old)) continue;
      z.set(member, next);
    } else {
      if (f.xx) continue;
      z.set(member, score);
    }
  }
  if (!cur && z.size) ks.set(key, { type: 'zset', v: z });
}

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreBound(b: Buffer): { v: number; ex: boolean } {
  const s = b.toString('latin1');
  const ex = s.startsWith('(');
  const v = parseDouble(ex ? s.slice(1) : s);
  if (v === null) throw new CommandError('ERR min or max is not a float');
  return { v, ex };
}

function parseScoreRange(a: Buffer, b: Buffer): ScoreRange {
  const lo = parseScoreBound(a);
  const hi = parseScoreBound(b);
  return { min: lo.v, minex: lo.ex, max: hi.v, maxex: hi.ex };
}

function inScore(r: ScoreRange, s: number): boolean {
  return (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max);
}

interface LexRange {
  min: Buffer | '-' | '+';
  max: Buffer | '-' | '+';
  minex: boolean;
  maxex: boolean;
}

function parseLexBound(b: Buffer): { v: Buffer | '-' | '+'; ex: boolean } {
  const c = b[0];
  if (b.length === 1 && c === 0x2b) return { v: '+', ex: true };
  if (b.length === 1 && c === 0x2d) return { v: '-', ex: true };
  if (c === 0x28) return { v: b.subarray(1), ex: true };
  if (c === 0x5b) return { v: b.subarray(1), ex: false };
  throw new CommandError('ERR min or max not valid string range item');
}

function parseLexRange(a: Buffer, b: Buffer): LexRange {
  const lo = parseLexBound(a);
  const hi = parseLexBound(b);
  return { min: lo.v, minex: lo.ex, max: hi.v, maxex: hi.ex };
}

function lexGte(m: Buffer, bound: Buffer | '-' | '+', ex: boolean): boolean {
  if (bound === '-') return true;
  if (bound === '+') return false;
  const c = Buffer.compare(m, bound);
  return ex ? c > 0 : c >= 0;
}

function lexLte(m: Buffer, bound: Buffer | '-' | '+', ex: boolean): boolean {
  if (bound === '+') return true;
  if (bound === '-') return false;
  const c = Buffer.compare(m, bound);
  return ex ? c < 0 : c <= 0;
}

function inLex(r: LexRange, m: Buffer): boolean {
  return lexGte(m, r.min, r.minex) && lexLte(m, r.max, r.maxex);
}

function removeWhere(ks: Keyspace, key: Buffer, pick: (nodes: readonly ZNode[]) => ZNode[]): void {
  const z = ks.get(key, 'zset');
  if (!z) return;
  for (const n of pick(z.nodes())) z.delete(n.member);
  ks.deleteIfEmpty(key, z.size);
}

/** Reads a Z*STORE source: a sorted set, or a set whose members all score 1. */
function sourceNodes(ks: Keyspace, key: Buffer): Map<string, ZNode> | undefined {
  const e = ks.lookup(key);
  if (!e) return undefined;
  const out = new Map<string, ZNode>();
  if (e.value.type === 'zset') for (const n of e.value.v.nodes()) out.set(n.member.toString('latin1'), n);
  else if (e.value.type === 'set') for (const k of e.value.v) out.set(k, { member: kbuf(k), score: 1 });
  else ks.get(key, 'zset'); // WRONGTYPE
  return out;
}

function aggregate(kind: string, a: number, b: number): number {
  if (kind === 'SUM') {
    const s = a + b;
    return Number.isNaN(s) ? 0 : s;
  }
  if (kind === 'MIN') return a < b ? a : b;
  return a > b ? a : b;
}

function zsetStore(kind: 'union' | 'inter' | 'diff'): CommandSpec {
  return {
    arity: -4,
    run: (ks, argv) => {
      const dest = argv[1]!;
      const numkeys = mustInt(argv[2]!);
      if (numkeys < 1) throw new CommandError(`ERR at least 1 input key is needed for '${argv[0]!.toString('latin1').toLowerCase()}' command`);
      if (3 + numkeys > argv.length) throw new CommandError(SYNTAX);
      const keys = argv.slice(3, 3 + numkeys);
      const weights = keys.map(() => 1);
      let agg = 'SUM';
      for (let i = 3 + numkeys; i < argv.length; i++) {
        const o = upper(argv[i]!);
        if (o === 'WEIGHTS' && kind !== 'diff' && i + numkeys < argv.length) {
          for (let j = 0; j < numkeys; j++) weights[j] = mustDouble(argv[i + 1 + j]!, 'ERR weight value is not a float');
          i += numkeys;
        } else if (o === 'AGGREGATE' && kind !== 'diff' && i + 1 < argv.length) {
          agg = upper(argv[++i]!);
          if (agg !== 'SUM' && agg !== 'MIN' && agg !== 'MAX') throw new CommandError(SYNTAX);
        } else throw new CommandError(SYNTAX);
      }
      const srcs = keys.map((k) => sourceNodes(ks, k));
      const weigh = (s: number, w: number): number => {
        const v = s * w;
        return Number.isNaN(v) ? 0 : v;
      };
      const out = new Map<string, ZNode>();
      if (kind === 'union') {
        srcs.forEach((src, j) => {
          if (!src) return;
          for (const [k, n] of src) {
            const v = weigh(n.score, weights[j]!);
            const have = out.get(k);
            out.set(k, { member: n.member, score: have ? aggregate(agg, have.score, v) : v });
          }
        });
      } else if (kind === 'inter') {
        if (srcs.every((s) => s)) {
          const first = srcs[0]!;
          for (const [k, n] of first) {
            let score = weigh(n.score, weights[0]!);
            let all = true;
            for (let j = 1; j < srcs.length && all; j++) {
              const m = srcs[j]!.get(k);
              if (!m) all = false;
              else score = aggregate(agg, score, weigh(m.score, weights[j]!));
            }
            if (all) out.set(k, { member: n.member, score });
          }
        }
      } else if (srcs[0]) {
        for (const [k, n] of srcs[0]) if (!srcs.slice(1).some((s) => s?.has(k))) out.set(k, { member: n.member, score: n.score });
      }
      if (out.size === 0) ks.delete(dest);
      else ks.set(dest, { type: 'zset', v: SortedSet.from(out.values()) });
    },
  };
}

function popNodes(ks: Keyspace, key: Buffer, max: boolean, count: number): void {
  const z = ks.get(key, 'zset');
  if (!z || count <= 0) return;
  const n = Math.min(count, z.size);
  if (max) z.deleteRange(z.size - n, z.size - 1);
  else z.deleteRange(0, n - 1);
  ks.deleteIfEmpty(key, z.size);
}

function zpop(max: boolean): CommandSpec {
  return {
    arity: -2,
    run: (ks, argv) => {
      popNodes(ks, argv[1]!, max, popCount(argv));
    },
  };
}

function bzpop(max: boolean): CommandSpec {
  return {
    arity: -3,
    run: (ks, argv) => {
      for (let i = 1; i < argv.length - 1; i++) {
        const z = ks.get(argv[i]!, 'zset');
        if (z && z.size) return popNodes(ks, argv[i]!, max, 1);
      }
    },
  };
}

function zmpop(ks: Keyspace, argv: Buffer[], at: number): void {
  const { keys, first: min, count } = mpopArgs(argv, at, ['MIN', 'MAX']);
  for (const k of keys) {
    const z = ks.get(k, 'zset');
    if (z && z.size) return popNodes(ks, k, !min, count);
  }
}

function clampRank(len: number, s: number, e: number): [number, number] | null {
  if (s < 0) s += len;
  if (e < 0) e += len;
  if (s < 0) s = 0;
  if (s > e || s >= len) return null;
  if (e >= len) e = len - 1;
  return [s, e];
}

function zrangestore(ks: Keyspace, argv: Buffer[]): void {
  const [, dst, src, a, b] = argv as [Buffer, Buffer, Buffer, Buffer, Buffer];
  let by: 'rank' | 'score' | 'lex' = 'rank';
  let rev = false;
  let offset = 0;
  let limit = -1;
  let hasLimit = false;
  for (let i = 5; i < argv.length; i++) {
    const o = upper(argv[i]!);
    if (o === 'BYSCORE') by = 'score';
    else if (o === 'BYLEX') by = 'lex';
    else if (o === 'REV') rev = true;
    else if (o === 'LIMIT' && i + 2 < argv.length) {
      offset = mustInt(argv[i + 1]!);
      limit = mustInt(argv[i + 2]!);
      hasLimit = true;
      i += 2;
    } else throw new CommandError(SYNTAX);
  }
  if (hasLimit && by === 'rank') throw new CommandError('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  const z = ks.get(src, 'zset');
  let picked: ZNode[] = [];
  if (z) {
    const nodes = z.nodes();
    if (by === 'rank') {
      const r = clampRank(nodes.length, mustInt(a), mustInt(b));
      if (r) {
        const ordered = rev ? nodes.slice().reverse() : nodes;
        picked = ordered.slice(r[0], r[1] + 1);
      }
    } else {
      const lo = rev ? b : a;
      const hi = rev ? a : b;
      const test =
        by === 'score'
          ? ((r) => (n: ZNode) => inScore(r, n.score))(parseScoreRange(lo, hi))
          : ((r) => (n: ZNode) => inLex(r, n.member))(parseLexRange(lo, hi));
      let all = nodes.filter(test);
      if (rev) all = all.reverse();
      if (offset < 0) all = [];
      else all = all.slice(offset, limit < 0 ? undefined : offset + limit);
      picked = all;
    }
  }
  if (picked.length === 0) ks.delete(dst);
  else ks.set(dst, { type: 'zset', v: SortedSet.from(picked.map((n) => ({ member: n.member, score: n.score }))) });
}

export const zsetCommands: CommandTable = {
  zadd: { arity: -4, run: zadd },
  zincrby: {
    arity: 4,
    run: (ks, [, key, by, member]) => {
      const incr = mustDouble(by!);
      const z = ks.get(key!, 'zset');
      const old = z?.score(member!) ?? 0;
      const next = old + incr;
      if (Number.isNaN(next)) throw new CommandError('ERR resulting score is not a number (NaN)');
      (z ?? ks.getOrCreate(key!, 'zset', () => new SortedSet())).set(member!, next);
    },
  },
  zrem: {
    arity: -3,
    run: (ks, argv) => {
      const z = ks.get(argv[1]!, 'zset');
      if (!z) return;
      for (let i = 2; i < argv.length; i++) z.delete(argv[i]!);
      ks.deleteIfEmpty(argv[1]!, z.size);
    },
  },
  zremrangebyscore: {
    arity: 4,
    run: (ks, [, key, a, b]) => {
      const r = parseScoreRange(a!, b!);
      const z = ks.get(key!, 'zset');
      if (!z) return;
      // The range is contiguous in score order: O(log n + removed) as in Redis, no walk of the set.
      const start = z.rankWhere((s) => (r.minex ? s > r.min : s >= r.min));
      const end = z.rankWhere((s) => (r.maxex ? s >= r.max : s > r.max));
      if (end > start) z.deleteRange(start, end - 1);
      ks.deleteIfEmpty(key!, z.size);
    },
  },
  zremrangebylex: {
    arity: 4,
    run: (ks, [, key, a, b]) => {
      const r = parseLexRange(a!, b!);
      removeWhere(ks, key!, (nodes) => nodes.filter((n) => inLex(r, n.member)));
    },
  },
  zremrangebyrank: {
    arity: 4,
    run: (ks, [, key, a, b]) => {
      const s = mustInt(a!);
      const e = mustInt(b!);
      const z = ks.get(key!, 'zset');
      if (!z) return;
      const r = clampRank(z.size, s, e);
      if (r) z.deleteRange(r[0], r[1]);
      ks.deleteIfEmpty(key!, z.size);
    },
  },
  zunionstore: zsetStore('union'),
  zinterstore: zsetStore('inter'),
  zdiffstore: zsetStore('diff'),
  zpopmin: zpop(false),
  zpopmax: zpop(true),
  bzpopmin: bzpop(false),
  bzpopmax: bzpop(true),
  zmpop: { arity: -4, run: (ks, argv) => zmpop(ks, argv, 1) },
  bzmpop: { arity: -5, run: (ks, argv) => zmpop(ks, argv, 2) },
  zrangestore: { arity: -5, run: zrangestore },
};
