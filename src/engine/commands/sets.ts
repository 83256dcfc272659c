import { bkey } from '../values.js';
import { UnsupportedCommandError } from '../errors.js';
import { mustInt } from '../numbers.js';
import type { CommandTable, CommandSpec } from './index.js';

function setOp(kind: 'inter' | 'union' | 'diff'): CommandSpec {
  return {
    arity: -3,
    run: (ks, argv) => {
      const dest = argv[1]!;
      const sets = argv.slice(2).map((k) => ks.get(k, 'set'));
      let out: Set<string>;
      if (kind === 'inter') {
        if (sets.some((s) => !s)) out = new Set();
        else {
          const sorted = (sets as Set<string>[]).slice().sort((a, b) => a.size - b.size);
          out = new Set([...sorted[0]!].filter((k) => sorted.every((s) => s.has(k))));
        }
      } else if (kind === 'union') {
        out = new Set();
        for (const s of sets) if (s) for (const k of s) out.add(k);
      } else {
        out = new Set(sets[0] ?? []);
        for (const s of sets.slice(1)) if (s) for (const k of s) out.delete(k);
      }
      if (out.size === 0) ks.delete(dest);
      else ks.set(dest, { type: 'set', v: out });
    },
  };
}

export const setCommands: CommandTable = {
  sadd: {
    arity: -3,
    run: (ks, argv) => {
      const set = ks.getOrCreate(argv[1]!, 'set', () => new Set());
      for (let i = 2; i < argv.length; i++) set.add(bkey(argv[i]!));
    },
  },
  srem: {
    arity: -3,
    run: (ks, argv) => {
      const set = ks.get(argv[1]!, 'set');
      if (!set) return;
      for (let i = 2; i < argv.length; i++) set.delete(bkey(argv[i]!));
      ks.deleteIfEmpty(argv[1]!, set.size);
    },
  },
  smove: {
    arity: 4,
    run: (ks, [, src, dst, member]) => {
      const from = ks.get(src!, 'set');
      ks.checkType(dst!, 'set');
      if (!from || !from.has(bkey(member!))) return;
      if (bkey(src!) === bkey(dst!)) return;
      from.delete(bkey(member!));
      ks.deleteIfEmpty(src!, from.size);
      ks.getOrCreate(dst!, 'set', () => new Set()).add(bkey(member!));
    },
  },
  // Redis propagates SPOP as SREM of the chosen members (or DEL when it took them all); a raw
  // SPOP is only deterministic when it empties the set.
  spop: {
    arity: -2,
    run: (ks, argv) => {
      const set = ks.get(argv[1]!, 'set');
      if (!set) return;
      const count = argv.length > 2 ? mustInt(argv[2]!) : 1;
      if (count >= set.size) ks.delete(argv[1]!);
      else if (count > 0) throw new UnsupportedCommandError('SPOP', 'random pop (Redis replicates it as SREM; this stream holds the raw command)');
    },
  },
  sinterstore: setOp('inter'),
  sunionstore: setOp('union'),
  sdiffstore: setOp('diff'),
};
