// Longer fuzz run of the RDB reader over the corpus (after `npx tsc -p .`):
//   node bench/rdb-fuzz.mjs [ITERATIONS=50000] [SEED=1]
// Prints any input that ends in something other than success or a one-line FormatError.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteSource } from '../dist/util/byte-source.js';
import { FormatError } from '../dist/util/errors.js';
import { readRdb } from '../dist/codec/rdb/reader.js';

const iterations = Number(process.argv[2] ?? 50000);
let s = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const pick = (n) => Math.floor(rnd() * n);
const corpus = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const walk = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : n.endsWith('.rdb') ? [p] : []; });
const files = [...walk(join(corpus, 'rdb')), ...walk(join(corpus, 'third-party'))].map((f) => ({ f, data: readFileSync(f) }));
let bad = 0;
const t0 = Date.now();
for (let i = 0; i < iterations; i++) {
  const { f, data } = files[pick(files.length)];
  let b = Buffer.from(data);
  const kind = pick(5);
  if (kind === 0) for (let k = 0, n = 1 + pick(4); k < n; k++) b[pick(b.length)] ^= 1 << pick(8);
  else if (kind === 1) b[pick(b.length)] = pick(256);
  else if (kind === 2) b = b.subarray(0, pick(b.length));
  else if (kind === 3) { const p = pick(b.length); b = Buffer.concat([b.subarray(0, p), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), b.subarray(p)]); }
  else { const p = pick(b.length); b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + pick(16))]); }
  try {
    for await (const _ of readRdb(ByteSource.fromBuffer(b, 'fuzz'), { verifyChecksum: rnd() < 0.5, validateOnly: rnd() < 0.5 })) { /* drain */ }
  } catch (e) {
    if (e instanceof FormatError && !e.message.includes('\n')) continue;
    bad++;
    const out = `/tmp/rdb-fuzz-fail-${i}.rdb`;
    writeFileSync(out, b);
    console.log(`iteration ${i} (${f}, mutation ${kind}): ${e?.constructor?.name}: ${e?.message} -> saved ${out}`);
  }
}
console.log(`${iterations} iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${bad} unexpected outcomes`);
process.exitCode = bad ? 1 : 0;
