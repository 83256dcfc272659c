import type { Keyspace } from '../keyspace.js';
import { CommandError } from '../errors.js';
import { Hll, INVALID_HLL, createHll, invalidateCache, isHll } from '../hyperloglog.js';
import type { CommandTable } from './index.js';

/** The HLL at `key` as a private copy (values may be shared between keys), or undefined. */
function loadHll(ks: Keyspace, key: Buffer): Hll | undefined {
  const cur = ks.get(key, 'string');
  if (cur === undefined) return undefined;
  if (!isHll(cur)) throw new CommandError(INVALID_HLL);
  return new Hll(Buffer.from(cur), ks.hllSparseMaxBytes);
}

function store(ks: Keyspace, key: Buffer, h: Hll): void {
  ks.set(key, { type: 'string', v: h.buf }, { keepTtl: true });
}

export const hllCommands: CommandTable = {
  pfadd: {
    arity: -2,
    run: (ks, argv) => {
      const key = argv[1]!;
      let h = loadHll(ks, key);
      let updated = 0;
      if (!h) {
        h = new Hll(createHll(), ks.hllSparseMaxBytes);
        updated++;
      }
      for (let i = 2; i < argv.length; i++) if (h.add(argv[i]!)) updated++;
      if (!updated) return;
      invalidateCache(h.buf);
      store(ks, key, h);
    },
  },
  pfmerge: {
    arity: -2,
    run: (ks, argv) => {
      const max = new Uint8Array(1 << 14);
      let useDense = false;
      for (let j = 1; j < argv.length; j++) {
        const h = loadHll(ks, argv[j]!);
        if (!h) continue;
        if (h.dense) useDense = true;
        const regs = h.registers();
        for (let i = 0; i < regs.length; i++) if (regs[i]! > max[i]!) max[i] = regs[i]!;
      }
      const dest = argv[1]!;
      const h = loadHll(ks, dest) ?? new Hll(createHll(), ks.hllSparseMaxBytes);
      if (useDense) h.toDense();
      for (let i = 0; i < max.length; i++) if (max[i]) h.set(i, max[i]!);
      invalidateCache(h.buf);
      store(ks, dest, h);
    },
  },
  // PFCOUNT writes the cached cardinality into the value; Redis propagates it when it did.
  pfcount: {
    arity: -2,
    run: (ks, argv) => {
      if (argv.length !== 2) {
        for (let j = 1; j < argv.length; j++) loadHll(ks, argv[j]!);
        return;
      }
      const h = loadHll(ks, argv[1]!);
      if (!h || h.cacheValid()) return;
      h.setCache(h.count());
      store(ks, argv[1]!, h);
    },
  },
};
