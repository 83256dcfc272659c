// Differential fuzz of aof-check against the real redis-check-aof (after `npx tsc -p .`):
//   node bench/aof-check-vs-c.mjs [ITERATIONS=500] [SEED=1] [MORE.aof | MORE/appendonlydir ...]
// Damages single-file AOFs of the corpus (plain and RDB-preamble, and every file of the 7.0
// multi-part folders on its own), the multi-part folders as a whole (one file damaged or gone),
// and MORE, then runs both checkers, plain and with --fix, and prints every input where the report
// lines (redis-check-rdb's own lines aside), the exit code or the files after the fix differ
// (saved under /tmp). The corpus's corrupt cases are judged by the same. Known difference: a
// manifest that names a file with bytes that are not UTF-8 (a damaged manifest) is quoted with
// replacement characters in our report.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAof } from '../dist/aof/check.js';
import { applyCut } from '../dist/aof/cut.js';

const iterations = Number(process.argv[2] ?? 500);
let s = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const pick = (n) => Math.floor(rnd() * n);
if (spawnSync('redis-check-aof', ['--help']).error) throw new Error('redis-check-aof is missing: apt-get install redis-server');
const corpus = fileURLToPath(new URL('../../shared/corpus/aof/', import.meta.url));
const walk = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : /\.(aof|rdb)$/.test(n) ? [p] : []; });
const more = process.argv.slice(4);
const files = [...walk(corpus), ...more.filter((f) => statSync(f).isFile())].map((f) => ({ f, data: readFileSync(f) })).filter(({ data }) => data.length > 0);
const dirs = [...readdirSync(corpus).map((n) => join(corpus, n, 'appendonlydir')).filter((d) => existsSync(d)), ...more.filter((f) => statSync(f).isDirectory())];
console.log(`${files.length} files, ${dirs.length} multi-part folders`);
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
/** Where our fixes keep the originals (outside `dir`, whose files are compared). */
const backups = mkdtempSync(join(tmpdir(), 'aof-vs-c-backups-'));
const cRun = (args, stdin) => {
  const r = spawnSync('redis-check-aof', args, { cwd: dir, input: stdin, encoding: 'latin1', timeout: 60000 });
  return { lines: lines(r.stdout), status: r.status };
};
/** Report text as lines, redis-check-rdb's own aside (a byte quoted in a report may be a newline). */
const lines = (text) => text.split('\n').filter((l) => l !== '' && !rdbLine.test(l));
const same = (ours, c) => JSON.stringify(lines(ours.join('\n'))) === JSON.stringify(c);
/** A multi-part folder copy in `at` with one file damaged, emptied or gone (or the manifest damaged). */
function damageDir(src, at) {
  rmSync(at, { recursive: true, force: true });
  cpSync(src, at, { recursive: true });
  const names = readdirSync(at);
  const victim = join(at, names[pick(names.length)]);
  const r = pick(10);
  if (r === 0) rmSync(victim);
  else if (r === 1) writeFileSync(victim, '');
  else writeFileSync(victim, mutate(readFileSync(victim)));
}

/** Both tools' verdicts on `target` in `dir` (plain, then --fix on two copies); a finding or null. */
async function compare(target, prepare) {
  prepare(dir);
  const c = cRun([target]);
  const home = process.cwd();
  process.chdir(dir);
  try {
    let ours;
    try {
      ours = await checkAof(target);
    } catch (e) {
      // A manifest or layout we cannot use is an error of its own (the CLI exits 2 or 3): only the C tool's failure is compared.
      invalid++;
      return c.status !== 0 ? null : `check: redis-check-aof exit 0; aof-check threw ${e.message}`;
    }
    if (!ours.valid) invalid++;
    if (!same(ours.transcript, c.lines) || (ours.refusal ? 1 : 0) !== c.status) {
      return `check: redis-check-aof exit ${c.status} ${JSON.stringify(c.lines)}; aof-check exit ${ours.refusal ? 1 : 0} ${JSON.stringify(ours.transcript)}`;
    }
    const fix = await checkAof(target, { mode: 'fix' });
    if (fix.plan) await applyCut(fix.plan, { backupDir: mkdtempSync(join(backups, 'b-')) });
    const after = snapshot(dir);
    prepare(dir);
    const cf = cRun(['--fix', target], 'y\n');
    const afterC = snapshot(dir);
    if (!same(fix.transcript, cf.lines) || (fix.refusal ? 1 : 0) !== cf.status || after !== afterC) {
      return `fix: redis-check-aof exit ${cf.status} ${afterC} ${JSON.stringify(cf.lines)}; aof-check exit ${fix.refusal ? 1 : 0} ${after} ${JSON.stringify(fix.transcript)}`;
    }
    return null;
  } finally {
    process.chdir(home);
  }
}

/** Name and size of every file under `d` (what a fix may change), as one string. */
const snapshot = (d) => walkAll(d).map((f) => `${f.slice(d.length)}:${statSync(f).size}`).sort().join(',');
const walkAll = (d) => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walkAll(p) : [p]; });

let disagreements = 0;
let invalid = 0;
const t0 = Date.now();
for (let i = 0; i < iterations; i++) {
  let finding;
  let what;
  const multi = dirs.length > 0 && rnd() < 0.4;
  if (multi) {
    const src = dirs[pick(dirs.length)];
    what = src;
    const seed = s;
    // The same damage for every run on this input: re-seed before each copy.
    finding = await compare('appendonlydir/appendonly.aof.manifest', (d) => {
      s = seed;
      rmSync(d, { recursive: true, force: true });
      damageDir(src, join(d, 'appendonlydir'));
    });
    if (finding) cpSync(join(dir, 'appendonlydir'), `/tmp/aof-vs-c-${i}-appendonlydir`, { recursive: true });
  } else {
    const { f, data } = files[pick(files.length)];
    what = f;
    const name = f.endsWith('.rdb') ? 'input.rdb' : 'input.aof';
    const bad = mutate(data);
    finding = await compare(name, (d) => {
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d);
      writeFileSync(join(d, name), bad);
    });
    if (finding) writeFileSync(`/tmp/aof-vs-c-${i}-${name}`, bad);
  }
  if (!finding) continue;
  disagreements++;
  console.log(`iteration ${i} (${what.startsWith(corpus) ? what.slice(corpus.length) : what}): ${finding} -> saved /tmp/aof-vs-c-${i}-*`);
}
rmSync(dir, { recursive: true, force: true });
rmSync(backups, { recursive: true, force: true });
console.log(`${iterations} iterations in ${((Date.now() - t0) / 1000).toFixed(1)} s: aof-check found ${invalid} invalid, ${disagreements} disagreements`);
process.exitCode = disagreements ? 1 : 0;
