// Differential fuzz of rdb-check against the real redis-check-rdb (after `npx tsc -p .`):
//   node bench/rdb-check-vs-c.mjs [ITERATIONS=1000] [SEED=1] [MORE.rdb ...]
// Damages corpus files (and MORE, e.g. a SAVE with rdbcompression no, where flips hit the
// encodings instead of LZF) that the installed redis-check-rdb can read (RDB version up to its own),
// often with the checksum zeroed so that the structure alone decides, and prints every input that
// one checker accepts and the other rejects (saved under /tmp). The corrupt cases of the corpus
// are judged by the same rule: rejected where redis-check-rdb rejects, accepted where it accepts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteSource } from '../dist/util/byte-source.js';
import { RdbDecoder } from '../dist/codec/rdb/reader.js';

const iterations = Number(process.argv[2] ?? 1000);
let s = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const pick = (n) => Math.floor(rnd() * n);
const probe = spawnSync('redis-check-rdb', ['--version'], { encoding: 'utf8' });
if (probe.error) throw new Error('redis-check-rdb is missing: apt-get install redis-server');
const release = /(\d+)\.(\d+)\./.exec(probe.stdout);
if (!release) throw new Error(`cannot tell the version of redis-check-rdb from ${JSON.stringify(probe.stdout)}`);
// The RDB version each release writes and reads up to (see ../shared/docs/redis-formats.md).
const own = { '7.0': 10, '7.2': 11 }[`${release[1]}.${release[2]}`] ?? (Number(release[1]) < 7 ? 9 : 12);
const corpus = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const walk = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : n.endsWith('.rdb') ? [p] : []; });
const files = [...walk(join(corpus, 'rdb')), ...process.argv.slice(4)]
  .map((f) => ({ f, data: readFileSync(f) }))
  .filter(({ data }) => data.subarray(0, 5).toString('latin1') === 'REDIS' && Number(data.subarray(5, 9).toString('latin1')) <= own);
console.log(`${files.length} files of RDB version <= ${own} (${probe.stdout.trim()})`);

async function ours(b) {
  const dec = new RdbDecoder(ByteSource.fromBuffer(b, 'input.rdb'), { validateOnly: true });
  try {
    while (await dec.nextBatch(4096));
    return null;
  } catch (e) {
    return e.message;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rdb-vs-c-'));
const input = join(dir, 'input.rdb');
let disagreements = 0;
let rejected = 0;
const t0 = Date.now();
for (let i = 0; i < iterations; i++) {
  const { f, data } = files[pick(files.length)];
  const b = Buffer.from(data);
  const version = Number(b.subarray(5, 9).toString('latin1'));
  for (let k = 0, n = 1 + pick(2); k < n; k++) b[9 + pick(b.length - 9)] ^= rnd() < 0.5 ? 0xff : 1 << pick(8);
  if (version >= 5 && rnd() < 0.7) b.fill(0, b.length - 8); // no checksum: the structure decides
  writeFileSync(input, b);
  const c = spawnSync('redis-check-rdb', [input], { encoding: 'utf8', timeout: 60000 });
  const mine = await ours(b);
  if (c.status !== 0) rejected++;
  if ((c.status === 0) === (mine === null)) continue;
  disagreements++;
  const out = `/tmp/rdb-vs-c-${i}.rdb`;
  writeFileSync(out, b);
  const theirs = c.stdout.split('\n').find((l) => /RDB ERROR|Internal error|error/i.test(l) && !l.includes('DETECTED')) ?? `exit ${c.status}`;
  console.log(`iteration ${i} (${f.startsWith(corpus) ? f.slice(corpus.length) : f}): redis-check-rdb ${c.status === 0 ? 'accepts' : `rejects (${theirs.trim()})`}; rdb-check ${mine ?? 'accepts'} -> saved ${out}`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`${iterations} iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s: redis-check-rdb rejected ${rejected}, ${disagreements} disagreements`);
process.exitCode = disagreements ? 1 : 0;
