import type { Keyspace } from '../keyspace.js';
import { CommandError, SYNTAX } from '../errors.js';
import { mustInt } from '../numbers.js';
import type { CommandTable, CommandSpec } from './index.js';
import { mpopArgs, popCount, upper } from '../args.js';
import { List } from '../list.js';

function push(left: boolean, onlyExisting: boolean): CommandSpec {
  return {
    arity: -3,
    run: (ks, argv) => {
      const key = argv[1]!;
      const cur = ks.get(key, 'list');
      if (!cur && onlyExisting) return;
      const list = cur ?? ks.getOrCreate(key, 'list', () => List.from([]));
      for (let i = 2; i < argv.length; i++) {
        if (left) list.pushFront(argv[i]!);
        else list.pushBack(argv[i]!);
      }
    },
  };
}

/** Pops up to `count` elements from one end; removes the key when it empties. */
function popN(ks: Keyspace, key: Buffer, left: boolean, count: number): Buffer[] {
  const list = ks.get(key, 'list');
  if (!list) return [];
  const out = left ? list.popFront(count) : list.popBack(count);
  ks.deleteIfEmpty(key, list.length);
  return out;
}

function pop(left: boolean): CommandSpec {
  return {
    arity: -2,
    run: (ks, argv) => {
      popN(ks, argv[1]!, left, popCount(argv));
    },
  };
}

function side(b: Buffer): boolean {
  const s = upper(b);
  if (s === 'LEFT') return true;
  if (s === 'RIGHT') return false;
  throw new CommandError(SYNTAX);
}

function lmove(ks: Keyspace, src: Buffer, dst: Buffer, fromLeft: boolean, toLeft: boolean): void {
  const list = ks.get(src, 'list');
  if (!list) return;
  ks.checkType(dst, 'list');
  const [item] = popN(ks, src, fromLeft, 1);
  const target = ks.getOrCreate(dst, 'list', () => List.from([]));
  if (toLeft) target.pushFront(item!);
  else target.pushBack(item!);
}

/** Blocking pops replayed from a stream never block: the master only sent them when data was there. */
function bpop(left: boolean): CommandSpec {
  return {
    arity: -3,
    run: (ks, argv) => {
      for (let i = 1; i < argv.length - 1; i++) {
        const list = ks.get(argv[i]!, 'list');
        if (list && list.length) {
          popN(ks, argv[i]!, left, 1);
          return;
        }
      }
    },
  };
}

/** LMPOP numkeys key... LEFT|RIGHT [COUNT n], from argument index `at`. */
function mpop(ks: Keyspace, argv: Buffer[], at: number): void {
  const { keys, first: left, count } = mpopArgs(argv, at, ['LEFT', 'RIGHT']);
  for (const k of keys) {
    const list = ks.get(k, 'list');
    if (list && list.length) {
      popN(ks, k, left, count);
      return;
    }
  }
}

export const listCommands: CommandTable = {
  lpush: push(true, false),
  rpush: push(false, false),
  lpushx: push(true, true),
  rpushx: push(false, true),
  lpop: pop(true),
  rpop: pop(false),
  blpop: bpop(true),
  brpop: bpop(false),
  lmpop: { arity: -4, run: (ks, argv) => mpop(ks, argv, 1) },
  blmpop: { arity: -5, run: (ks, argv) => mpop(ks, argv, 2) },
  linsert: {
    arity: 5,
    run: (ks, [, key, where, pivot, elem]) => {
      const w = upper(where!);
      if (w !== 'BEFORE' && w !== 'AFTER') throw new CommandError(SYNTAX);
      const list = ks.get(key!, 'list');
      if (!list) return;
      const items = list.toArray();
      const i = items.findIndex((x) => x.equals(pivot!));
      if (i < 0) return;
      items.splice(w === 'BEFORE' ? i : i + 1, 0, elem!);
      list.replace(items);
    },
  },
  lset: {
    arity: 4,
    run: (ks, [, key, idx, elem]) => {
      const list = ks.get(key!, 'list');
      if (!list) throw new CommandError('ERR no such key');
      let i = mustInt(idx!);
      if (i < 0) i += list.length;
      if (i < 0 || i >= list.length) throw new CommandError('ERR index out of range');
      list.set(i, elem!);
    },
  },
  lrem: {
    arity: 4,
    run: (ks, [, key, cnt, elem]) => {
      const count = mustInt(cnt!);
      const l = ks.get(key!, 'list');
      if (!l) return;
      const list = l.toArray();
      let removed = 0;
      const limit = count === 0 ? Infinity : Math.abs(count);
      if (count >= 0) {
        for (let i = 0; i < list.length && removed < limit; ) {
          if (list[i]!.equals(elem!)) {
            list.splice(i, 1);
            removed++;
          } else i++;
        }
      } else {
        for (let i = list.length - 1; i >= 0 && removed < limit; i--) {
          if (list[i]!.equals(elem!)) {
            list.splice(i, 1);
            removed++;
          }
        }
      }
      l.replace(list);
      ks.deleteIfEmpty(key!, list.length);
    },
  },
  ltrim: {
    arity: 4,
    run: (ks, [, key, s, e]) => {
      let start = mustInt(s!);
      let end = mustInt(e!);
      const list = ks.get(key!, 'list');
      if (!list) return;
      const len = list.length;
      if (start < 0) start += len;
      if (end < 0) end += len;
      if (start < 0) start = 0;
      // Trimming only drops from the ends: O(removed), as in Redis, so capped lists stay linear.
      if (start > end || start >= len) list.dropFront(len);
      else {
        list.dropBack(len - 1 - Math.min(end, len - 1));
        list.dropFront(start);
      }
      ks.deleteIfEmpty(key!, list.length);
    },
  },
  rpoplpush: { arity: 3, run: (ks, [, src, dst]) => lmove(ks, src!, dst!, false, true) },
  brpoplpush: { arity: 4, run: (ks, [, src, dst]) => lmove(ks, src!, dst!, false, true) },
  lmove: { arity: 5, run: (ks, [, src, dst, a, b]) => lmove(ks, src!, dst!, side(a!), side(b!)) },
  blmove: { arity: 6, run: (ks, [, src, dst, a, b]) => lmove(ks, src!, dst!, side(a!), side(b!)) },
};
