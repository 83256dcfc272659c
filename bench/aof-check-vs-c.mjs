// Differential fuzz of aof-check against the real redis-check-aof (after `npx tsc -p .`):
//   node bench/aof-check-vs-c.mjs [ITERATIONS=500] [SEED=1] [MORE.aof ...]
// Damages single-file AOFs of the corpus (plain and RDB-preamble, and every file of the 7.0
// multi-part folders on its own) and MORE, then runs both checkers, plain and with --fix, and
// prints every input where the report lines (redis-check-rdb's own lines aside), the exit code or
// the size after the fix differ (saved under /tmp). The corpus's corrupt cases are judged by the same.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAof } from '../dist/aof/check.js';

const iterations = Number(process.argv[2] ?? 500);
let s = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const pick = (n) => Math.floor(rnd() * n);
if (spawnSync('redis-check-aof', ['--help']).error) throw new Error('redis-check-aof is missing: apt-get install redis-server');
const corpus = fileURLToPath(new URL('../../shared/corpus/aof/', import.meta.url));
const walk = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : /\.(aof|rdb)$/.test(n) ? [p] : []; });
const files = [...walk(corpus), ...process.argv.slice(4)].map((f) => ({ f, data: readFileSync(f) })).filter(({ data }) => data.length > 0);
console.log(`${files.length} files`);
const rdbLine = /^\[(offset \d+|info|additional info)\]|^--- RDB ERROR|^\d+:C /;

function mutate(b) {
  const at = pick(b.length + 1);
  switch (pick(7)) {
    case 0: return b.subarray(0, at); // truncated
    case 1: { const c = Buffer.from(b); c[Math.min(at, b.length - 1)] ^= 1 << pick(8); return c; } // flipped bit
    case 2: return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(20) }, () => pick(256))), b.subarray(at)]); // garbage
    case 3: return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(8))]); // bytes lost
    case 4: { const i = b.indexOf('\r\n', at); return i < 0 ? b : Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]); } // a CR lost
    case 5: { const i = b.indexOf('$', at); return i < 0 ? b : Buffer.concat([b.subarray(0, i + 1), Buffer.from(String(pick(30))), b.subarray(b.indexOf('\r', i))]); } // wrong bulk length
    default: { const i = b.indexOf('*', at); return i < 0 ? b : Buffer.concat([b.subarray(0, i), Buffer.from('*3\r\n$5\r\nMULTI\r\n'), b.subarray(i)]); } // stray token
  }
}

const dir = mkdtempSync(join(tmpdir(), 'aof-vs-c-'));
const cRun = (args, stdin) => {
  const r = spawnSync('redis-check-aof', args, { cwd: dir, input: stdin, encoding: 'latin1', timeout: 60000 });
  return { lines: lines(r.stdout), status: r.status };
};
/** Report text as lines, redis-check-rdb's own aside (a byte quoted in a report may be a newline). */
const lines = (text) => text.split('\n').filter((l) => l !== '' && !rdbLine.test(l));
const same = (ours, c) => JSON.stringify(lines(ours.join('\n'))) === JSON.stringify(c);
let disagreements = 0;
let invalid = 0;
const t0 = Date.now();
for (let i = 0; i < iterations; i++) {
  const { f, data } = files[pick(files.length)];
  const name = f.endsWith('.rdb') ? 'input.rdb' : 'input.aof';
  const bad = mutate(data);
  const path = join(dir, name);
  writeFileSync(path, bad);
  const home = process.cwd();
  process.chdir(dir);
  let finding = null;
  try {
    const c = cRun([name]);
    const ours = await checkAof(name);
    if (!ours.valid) invalid++;
    if (!same(ours.transcript, c.lines) || (ours.refusal ? 1 : 0) !== c.status) {
      finding = `check: redis-check-aof exit ${c.status} ${JSON.stringify(c.lines)}; aof-check exit ${ours.refusal ? 1 : 0} ${JSON.stringify(ours.transcript)}`;
    } else {
      const fix = await checkAof(name, { mode: 'fix' });
      const cf = cRun(['--fix', name], 'y\n');
      const sizeC = statSync(path).size;
      const sizeOurs = fix.plan ? fix.plan.toSize : bad.length;
      if (!same(fix.transcript, cf.lines) || (fix.refusal ? 1 : 0) !== cf.status || sizeC !== sizeOurs) {
        finding = `fix: redis-check-aof exit ${cf.status} size ${sizeC} ${JSON.stringify(cf.lines)}; aof-check exit ${fix.refusal ? 1 : 0} size ${sizeOurs} ${JSON.stringify(fix.transcript)}`;
      }
    }
  } finally {
    process.chdir(home);
  }
  if (!finding) continue;
  disagreements++;
  const out = `/tmp/aof-vs-c-${i}-${name}`;
  writeFileSync(out, bad);
  console.log(`iteration ${i} (${f.startsWith(corpus) ? f.slice(corpus.length) : f}): ${finding} -> saved ${out}`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`${iterations} iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s: aof-check found ${invalid} invalid, ${disagreements} disagreements`);
process.exitCode = disagreements ? 1 : 0;
