import { readFileSync } from 'node:fs';
import { ByteSource } from '../../../src/util/byte-source.js';
import { FormatError, NewerVersionError } from '../../../src/util/errors.js';
import { readRdb } from '../../../src/codec/rdb/reader.js';

/** Seeded mutation fuzzing of the RDB reader: every outcome must be success, a FormatError or (a damaged version number) a NewerVersionError. */

export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: small, fast, reproducible.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export function mutate(data: Buffer, rnd: () => number): { data: Buffer; what: string } {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const kind = pick(5);
  const b = Buffer.from(data);
  if (kind === 0) {
    const flips = 1 + pick(4);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const p = pick(b.length);
      b[p] ^= 1 << pick(8);
      at.push(p);
    }
    return { data: b, what: `bit flips at ${at.join(',')}` };
  }
  if (kind === 1) {
    const p = pick(b.length);
    b[p] = pick(256);
    return { data: b, what: `byte ${p} set` };
  }
  if (kind === 2) {
    const n = pick(b.length);
    return { data: b.subarray(0, n), what: `truncated to ${n}` };
  }
  if (kind === 3) {
    const p = pick(b.length);
    const ins = Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256)));
    return { data: Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]), what: `${ins.length} bytes inserted at ${p}` };
  }
  const p = pick(b.length);
  const n = 1 + pick(16);
  return { data: Buffer.concat([b.subarray(0, p), b.subarray(p + n)]), what: `${n} bytes removed at ${p}` };
}

/** Runs the reader; returns null on success or a one-line FormatError / NewerVersionError, else the unexpected error. */
export async function runOne(data: Buffer, verifyChecksum: boolean, validateOnly = false): Promise<unknown> {
  try {
    for await (const _ of readRdb(ByteSource.fromBuffer(data, 'fuzz'), { verifyChecksum, validateOnly })) {
      // drain
    }
    return null;
  } catch (e) {
    if ((e instanceof FormatError || e instanceof NewerVersionError) && !e.message.includes('\n')) return null;
    return e;
  }
}

export async function fuzz(files: string[], iterations: number, seed: number): Promise<Array<{ file: string; what: string; error: string }>> {
  const rnd = prng(seed);
  const inputs = files.map((f) => ({ f, data: readFileSync(f) }));
  const failures: Array<{ file: string; what: string; error: string }> = [];
  for (let i = 0; i < iterations; i++) {
    const { f, data } = inputs[Math.floor(rnd() * inputs.length)]!;
    const m = mutate(data, rnd);
    const err = await runOne(m.data, rnd() < 0.5, rnd() < 0.5);
    if (err) failures.push({ file: f, what: m.what, error: err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err) });
  }
  return failures;
}
