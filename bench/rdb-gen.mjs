// Writes RESP commands for the mixed part of the rdb bench dataset to stdout (for redis-cli --pipe):
// lists, small (listpack) and large (hashtable) hashes, zsets, int and string sets, streams with a
// consumer group. Deterministic (seeded) so runs are comparable. Usage: node rdb-gen.mjs SCALE [text]
const scale = Number(process.argv[2] ?? 1);
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const alpha = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
const word = (n) => { let s = ''; for (let i = 0; i < n; i++) s += alpha[(rnd() * alpha.length) | 0]; return s; };
import { once } from 'node:events';
let out = [];
let size = 0;
const cmd = async (...args) => {
  let s = `*${args.length}\r\n`;
  for (const a of args) { const t = String(a); s += `$${Buffer.byteLength(t)}\r\n${t}\r\n`; }
  out.push(s); size += s.length;
  if (size > 1 << 20) await flush();
};
// Respect backpressure: redis-cli --pipe reads slower than we generate.
async function flush() { const ok = process.stdout.write(out.join('')); out = []; size = 0; if (!ok) await once(process.stdout, 'drain'); }
const N = (n) => Math.max(1, Math.round(n * scale));
if (process.argv[3] === 'text') { // the string keys, with text values (see rdb-bench.sh VALUES=text)
  for (let k = 0; k < N(3000000); k += 100) {
    const args = ['MSET']; for (let i = k; i < k + 100; i++) args.push(`str:${i}`, word(120)); await cmd(...args);
  }
}
for (let k = 0; k < N(30000); k++) { // lists: quicklist of listpack nodes
  const args = ['RPUSH', `list:${k}`]; for (let i = 0; i < 300; i++) args.push(word(20 + ((rnd() * 20) | 0))); await cmd(...args);
}
for (let k = 0; k < N(20000); k++) { // small hashes: listpack
  const args = ['HSET', `hash:small:${k}`]; for (let i = 0; i < 100; i++) args.push(`field:${i}`, word(30)); await cmd(...args);
}
for (let k = 0; k < N(4000); k++) { // large hashes: hashtable
  for (let c = 0; c < 4; c++) { const args = ['HSET', `hash:big:${k}`]; for (let i = 0; i < 250; i++) args.push(`f:${c * 250 + i}`, word(30)); await cmd(...args); }
}
for (let k = 0; k < N(20000); k++) { // small zsets: listpack
  const args = ['ZADD', `zset:small:${k}`]; for (let i = 0; i < 100; i++) args.push((rnd() * 1e6).toFixed(3), `m:${word(12)}`); await cmd(...args);
}
for (let k = 0; k < N(2000); k++) { // large zsets: skiplist
  const args = ['ZADD', `zset:big:${k}`]; for (let i = 0; i < 1000; i++) args.push((rnd() * 1e6).toFixed(3), `m:${word(12)}`); await cmd(...args);
}
for (let k = 0; k < N(20000); k++) { // int sets: intset
  const args = ['SADD', `set:int:${k}`]; for (let i = 0; i < 200; i++) args.push((rnd() * 1e9) | 0); await cmd(...args);
}
for (let k = 0; k < N(5000); k++) { // string sets: hashtable
  const args = ['SADD', `set:str:${k}`]; for (let i = 0; i < 300; i++) args.push(word(16)); await cmd(...args);
}
for (let k = 0; k < N(2000); k++) { // streams with a consumer group and pending entries
  for (let i = 0; i < 500; i++) await cmd('XADD', `stream:${k}`, '*', 'sensor', String(i), 'value', word(24));
  await cmd('XGROUP', 'CREATE', `stream:${k}`, 'g1', '0');
  await cmd('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '50', 'STREAMS', `stream:${k}`, '>');
}
for (let k = 0; k < N(50000); k++) await cmd('SET', `ttl:${k}`, word(40), 'PX', String(3600000 + k));
await flush();
