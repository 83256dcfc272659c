// An RDB 15 with one N-element array (int/string/double elements), one template hash of N/10 fields
// (HASH_TMPL_ARRAY_REF) and 100k small template hashes: big values of the new types for
// rdb-check / rdb-dump. Usage: node bench/rdb-new-bigvalues.mjs 1000000 /tmp/big-v15.rdb
import { writeFileSync } from 'node:fs';
import { bytes, header, len, rdbFile, selectDb, str, f64le, i64le } from '../fixtures/rdb-new/lib.mjs';
const N = Number(process.argv[2] ?? 1000000);
// One array of N elements (mixed tags), one ARRAY_REF template hash of N/10 fields... and 100k small template keys.
const els = [];
for (let i = 0; i < N; i++) els.push(Buffer.concat([len(i * 3), len(i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 2), i % 3 === 0 ? i64le(i) : i % 3 === 1 ? str(`e${i}`) : f64le(i + 0.25)]));
const fieldsN = N / 10;
const fields = Array.from({ length: fieldsN }, (_, i) => `f${String(i).padStart(7, '0')}`);
const parts = [header('REDIS', 15), Buffer.concat([bytes(0xf2), len(0), len(fieldsN), ...fields.map(str)]), Buffer.concat([bytes(0xf2), len(1), len(3), str('age'), str('name'), str('email')]), selectDb(0),
  Buffer.concat([bytes(28), str('bigarr'), len(N), len(0), ...els]),
  Buffer.concat([bytes(32), str('bighash'), len(0), ...fields.map((f, i) => str(`v${i}`))]),
];
for (let i = 0; i < 100000; i++) parts.push(Buffer.concat([bytes(32), str(`user:${i}`), len(1), str(String(i % 90 + 10)), str(`name${i}`), str(`u${i}@example.com`)]));
writeFileSync(process.argv[3], rdbFile(parts));
