// Fills a Redis Cluster with ~MB megabytes of string keys of random (incompressible) values,
// each key sent to its slot's master through `redis-cli --pipe`. Used by bench/cluster-set.sh.
// Usage: node bench/cluster-populate.mjs SEED_PORT MB [VALUE_BYTES=1000]
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { keySlot } from '../dist/restore/hash-slot.js';

const [seedPort, mb, valueBytes = '1000'] = process.argv.slice(2);
const size = Number(valueBytes);
const slots = new Array(16384);
const text = execFileSync('redis-cli', ['-p', seedPort, 'CLUSTER', 'NODES'], { encoding: 'utf8' });
const ports = [];
for (const line of text.trim().split('\n')) {
  const f = line.split(' ');
  if (!f[2].includes('master')) continue;
  const port = Number(f[1].split('@')[0].split(':')[1]);
  ports.push(port);
  for (const r of f.slice(8)) {
    const [a, b] = r.split('-').map(Number);
    for (let s = a; s <= (b ?? a); s++) slots[s] = port;
  }
}
const pipes = new Map(ports.map((p) => [p, spawn('redis-cli', ['-p', String(p), '--pipe'], { stdio: ['pipe', 'inherit', 'inherit'] })]));
const keys = Math.ceil((Number(mb) * 1024 * 1024) / (size + 20));
const value = (n) => randomBytes(Math.ceil((size * 3) / 4)).toString('base64').slice(0, size);
const batches = new Map(ports.map((p) => [p, []]));
const flush = async (p) => {
  const w = pipes.get(p).stdin;
  if (!w.write(Buffer.concat(batches.get(p)))) await new Promise((r) => w.once('drain', r));
  batches.set(p, []);
};
for (let i = 0; i < keys; i++) {
  const k = `bench:${i}`;
  const v = value(i);
  const p = slots[keySlot(Buffer.from(k))];
  batches.get(p).push(Buffer.from(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`));
  if (batches.get(p).length >= 512) await flush(p);
}
for (const p of ports) {
  await flush(p);
  pipes.get(p).stdin.end();
}
await Promise.all([...pipes.values()].map((c) => new Promise((r) => c.on('exit', r))));
console.log(`${keys} keys of ${size} bytes over ${ports.length} masters`);
