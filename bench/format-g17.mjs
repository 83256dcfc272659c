// Cost of formatG17 (printf "%.17g") per score, beside toPrecision(17) (its fast path alone, which
// rounds exact ties the wrong way) and String(x) (formatScore), after `npx tsc -p .`:
//   node bench/format-g17.mjs [COUNT=1000000]
// Three sets of doubles: scores as applications write them (decimals of 3 places), random bit
// patterns, and exact 17-digit ties (every one goes through the BigInt check).
import { formatG17 } from '../dist/codec/rdb/format-g17.js';

const count = Number(process.argv[2] ?? 1_000_000);
let s = 20;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const view = new DataView(new ArrayBuffer(8));
const sets = {
  'app scores': Array.from({ length: count }, () => Number(((rnd() - 0.5) * 2e6).toFixed(3))),
  'random bits': Array.from({ length: count }, () => {
    for (;;) {
      view.setUint32(0, rnd() * 2 ** 32);
      view.setUint32(4, rnd() * 2 ** 32);
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) return x;
    }
  }),
  'exact ties': Array.from({ length: count }, () => {
    for (;;) {
      const k = 2 + Math.floor(rnd() * 24);
      const m = Math.floor(rnd() * 2 ** 53) | 1;
      const digits = (BigInt(m) * 5n ** BigInt(k)).toString().length;
      if (digits === 18) return m / 2 ** k;
    }
  }),
};
const fns = { formatG17, 'toPrecision(17)': (x) => x.toPrecision(17), 'String(x)': (x) => String(x) };
for (const [set, xs] of Object.entries(sets)) {
  for (const [name, f] of Object.entries(fns)) {
    let len = 0;
    for (let i = 0; i < Math.min(xs.length, 100_000); i++) len += f(xs[i]).length; // warm-up
    const t0 = process.hrtime.bigint();
    for (const x of xs) len += f(x).length;
    const ns = Number(process.hrtime.bigint() - t0) / xs.length;
    console.log(`${set.padEnd(12)} ${name.padEnd(16)} ${ns.toFixed(0).padStart(5)} ns/score (${len} chars)`);
  }
}
