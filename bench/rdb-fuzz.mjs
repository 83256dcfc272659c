// Longer fuzz run of the RDB reader over the corpus (after `npx tsc -p .`):
//   node bench/rdb-fuzz.mjs [ITERATIONS=50000] [SEED=1] [MORE.rdb ...]
// (MORE: e.g. a SAVE with rdbcompression no, where damage hits the encodings instead of LZF)
// Prints any input that ends in something other than success or a one-line FormatError, and any
// on which the three readers disagree: the model, rdb-check's validate-only pass, and rdb-dump's
// jsonl pieces (cut at random sizes, printed on this thread), which must print exactly the model's
// lines before the first defect and fail with rdb-check's message (the suite runs the same check
// on a few hundred inputs: test/inspect/rdb-dump-pieces.test.ts).
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteSource } from '../dist/util/byte-source.js';
import { FormatError, NewerVersionError } from '../dist/util/errors.js';
import { RdbDecoder } from '../dist/codec/rdb/reader.js';
import { dumpRdb } from '../dist/inspect/rdb-dump.js';
import { functionJsonLine, keyJsonLine } from '../dist/inspect/key-json.js';

const iterations = Number(process.argv[2] ?? 50000);
let s = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const pick = (n) => Math.floor(rnd() * n);
const corpus = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const walk = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : n.endsWith('.rdb') ? [p] : []; });
const files = [...walk(join(corpus, 'rdb')), ...walk(join(corpus, 'third-party')), ...process.argv.slice(4)].map((f) => ({ f, data: readFileSync(f) }));

/** Drains a decoder one record per batch (every record before a defect is kept); a thrown error is returned. */
async function drain(b, opts, onRecord) {
  const dec = new RdbDecoder(ByteSource.fromBuffer(b, 'fuzz'), opts);
  try {
    for (let batch = await dec.nextBatch(1); batch; batch = await dec.nextBatch(1)) batch.forEach(onRecord);
    return null;
  } catch (e) {
    return e;
  }
}

/** A one-line FormatError is an expected outcome; anything else is returned as a finding. */
const unexpected = (e) => (e === null || ((e instanceof FormatError || e instanceof NewerVersionError) && !e.message.includes('\n')) ? null : `${e?.constructor?.name}: ${e?.message}`);

async function check(b) {
  const lines = [];
  const modelError = await drain(b, { verifyChecksum: true }, (r) => {
    if (r.kind === 'function') lines.push(`${functionJsonLine(r.code)}\n`);
    else if (r.kind === 'key') lines.push(`${keyJsonLine(r.entry, 'utf8')}\n`);
  });
  let printed = 0;
  const checkError = await drain(b, { verifyChecksum: true, validateOnly: true }, (r) => { if (r.kind === 'key' || r.kind === 'function') printed++; });
  const parts = [];
  const dumpError = await dumpRdb(ByteSource.fromBuffer(b, 'fuzz'), { format: 'jsonl', encoding: 'utf8', pieceBytes: 1 + pick(4000) }, (c) => void parts.push(Buffer.from(c))).then(() => null, (e) => e);
  const odd = unexpected(modelError) ?? unexpected(checkError) ?? unexpected(dumpError);
  if (odd) return odd;
  if ((modelError === null) !== (checkError === null)) return `model ${modelError?.message ?? 'accepts'}; rdb-check ${checkError?.message ?? 'accepts'}`;
  if (dumpError?.message !== checkError?.message) return `rdb-dump ${dumpError?.message ?? 'accepts'}; rdb-check ${checkError?.message ?? 'accepts'}`;
  if (Buffer.concat(parts).toString('utf8') !== lines.slice(0, printed).join('')) return 'rdb-dump printed other lines than the model';
  return null;
}

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
  const finding = await check(b);
  if (finding === null) continue;
  bad++;
  const out = `/tmp/rdb-fuzz-fail-${i}.rdb`;
  writeFileSync(out, b);
  console.log(`iteration ${i} (${f}, mutation ${kind}): ${finding} -> saved ${out}`);
}
console.log(`${iterations} iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${bad} unexpected outcomes`);
process.exitCode = bad ? 1 : 0;
