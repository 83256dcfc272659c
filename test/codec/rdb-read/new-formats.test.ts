import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeDump, encodeDump } from '../../../src/codec/rdb/dump.js';
import type { RdbKey } from '../../../src/codec/rdb/model.js';
import { decodeValueBytes } from '../../../src/codec/rdb/raw-value.js';
import { RdbDecoder } from '../../../src/codec/rdb/reader.js';
import { dumpRdb } from '../../../src/inspect/rdb-dump.js';
import { ByteSource } from '../../../src/util/byte-source.js';
import { NewerVersionError } from '../../../src/util/errors.js';
import { fuzz } from './fuzz-lib.js';

/**
 * The constructed RDB 14 / 15 / Valkey 81 / Enterprise / newer-version fixtures of fixtures/rdb-new
 * (each built by a gen-*.mjs there that documents its byte layout): rdb-dump prints exactly the
 * keys and values written beside each file (.jsonl, .resp), rdb-check accepts them, and every
 * damaged variant gives the one-line error with the offset and exit code its .error.json names.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(ROOT, 'fixtures/rdb-new');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tsredis-ops.js'), ...args], { maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
};
interface Expected {
  exit: number;
  offset: number;
  expect: string;
  allowNewer?: { offset: number; expect: string };
}
const names = readdirSync(DIR).filter((f) => f.endsWith('.rdb')).map((f) => f.slice(0, -4)).sort();
const side = (name: string, ext: string): Buffer | null => (existsSync(join(DIR, `${name}.${ext}`)) ? readFileSync(join(DIR, `${name}.${ext}`)) : null);
const good = names.filter((n) => !side(n, 'error.json'));
const bad = names.filter((n) => side(n, 'error.json'));

describe('constructed RDB 14/15, Valkey 81 and Enterprise fixtures', () => {
  it('has good and damaged fixtures for every new type and opcode', () => {
    for (const prefix of ['array_v14', 'stream_xnack_v14', 'hash_template_v15', 'valkey_081', 'valkey_081_path_hash', 'valkey_081_path_hash_corrupt', 'enterprise_opcodes', 'newer_redis_16', 'newer_valkey_082', 'gcra_v14']) {
      expect(names.filter((n) => n.startsWith(prefix)).length, prefix).toBeGreaterThan(0);
    }
    expect(good.length).toBeGreaterThanOrEqual(5);
    expect(bad.length).toBeGreaterThanOrEqual(15);
  });

  it('the files are what the generators beside them make', () => {
    const out = mkdtempSync(join(tmpdir(), 'tsredis-fixtures-'));
    try {
      for (const gen of readdirSync(DIR).filter((f) => /^gen-.*\.mjs$/.test(f))) {
        const r = spawnSync(process.execPath, [join(DIR, gen)], { env: { ...process.env, FIXTURE_OUT: out }, encoding: 'utf8' });
        expect(r.status, `${gen}: ${r.stderr}`).toBe(0);
      }
      const made = readdirSync(out).sort();
      expect(made).toEqual(readdirSync(DIR).filter((f) => !f.endsWith('.mjs')).sort());
      for (const f of made) expect(readFileSync(join(out, f)).equals(readFileSync(join(DIR, f))), f).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it.each(good)('%s: rdb-check exits 0, rdb-dump jsonl and resp print what is written beside it', (name) => {
    const file = join(DIR, `${name}.rdb`);
    const check = run('rdb-check', file);
    expect(check.code, check.err).toBe(0);
    expect(check.out.toString()).toContain('RDB looks OK');
    const jsonl = run('rdb-dump', file);
    expect(jsonl.code, jsonl.err).toBe(0);
    expect(jsonl.out.toString('utf8')).toBe(side(name, 'jsonl')!.toString('utf8'));
    const resp = side(name, 'resp');
    if (resp) {
      const r = run('rdb-dump', '--format', 'resp', file);
      expect(r.code, r.err).toBe(0);
      expect(r.out.equals(resp), `${name}: resp output differs`).toBe(true);
    }
  });

  it.each(bad)('%s: one line naming the offset, with the exit code expected; rdb-dump prints the keys before it', (name) => {
    const file = join(DIR, `${name}.rdb`);
    const e = JSON.parse(side(name, 'error.json')!.toString()) as Expected;
    for (const cmd of ['rdb-check', 'rdb-dump']) {
      const r = run(cmd, file);
      expect(r.code, `${cmd}: ${r.err}`).toBe(e.exit);
      const lines = r.err.trim().split('\n');
      expect(lines, r.err).toHaveLength(1);
      expect(lines[0]).toContain(`${file}: at byte ${e.offset}: `);
      expect(lines[0]).toContain(e.expect);
      // A newer version prints nothing without --allow-newer (the .jsonl beside it is what that flag prints).
      const before = e.allowNewer ? '' : side(name, 'jsonl')?.toString('utf8');
      if (cmd === 'rdb-dump' && before !== undefined) expect(r.out.toString('utf8')).toBe(before);
    }
  });

  it('--allow-newer prints the keys before the first unknown type and names its offset (exit 6)', () => {
    for (const name of ['newer_redis_16', 'newer_valkey_082']) {
      const file = join(DIR, `${name}.rdb`);
      const e = JSON.parse(side(name, 'error.json')!.toString()) as Expected;
      const r = run('rdb-dump', '--allow-newer', file);
      expect(r.code).toBe(6);
      expect(r.out.toString('utf8')).toBe(side(name, 'jsonl')!.toString('utf8'));
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`at byte ${e.allowNewer!.offset}: ${e.allowNewer!.expect}`);
      const c = run('rdb-check', '--allow-newer', '--json', file);
      expect(c.code).toBe(6);
      expect(JSON.parse(c.out.toString())).toMatchObject({ valid: false, reason: 'newer-version', error: { offset: e.allowNewer!.offset } });
    }
  });

  it('the library reader yields the keys before an unknown type, then throws NewerVersionError at its offset', async () => {
    const file = join(DIR, 'newer_redis_16.rdb');
    const dec = new RdbDecoder(ByteSource.fromBuffer(readFileSync(file), file), { allowNewer: true });
    const keys: string[] = [];
    let err: unknown = null;
    try {
      for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) for (const r of b) if (r.kind === 'key') keys.push(r.entry.key.toString());
    } catch (e) {
      err = e;
    }
    expect(keys).toEqual(['k1', 'k2']);
    expect(err).toBeInstanceOf(NewerVersionError);
    expect((err as NewerVersionError).offset).toBe(25);
  });

  it('fuzz (seeded): 3000 mutations of these files give a clean parse or a one-line error, never another exception', async () => {
    const failures = await fuzz(names.map((n) => join(DIR, `${n}.rdb`)), 3000, 0x18a);
    expect(failures.slice(0, 5)).toEqual([]);
  }, 120_000);

  it('templates reach every piece: rdb-dump cut into tiny pieces (worker threads) prints the same', async () => {
    for (const name of ['hash_template_v15', 'array_v14', 'stream_xnack_v14', 'valkey_081_update', 'valkey_081_path_hash']) {
      const bytes = readFileSync(join(DIR, `${name}.rdb`));
      for (const format of ['jsonl', 'resp'] as const) {
        const parts: Buffer[] = [];
        await dumpRdb(ByteSource.fromBuffer(bytes, name), { format, encoding: 'utf8', pieceBytes: 16 }, (c) => void parts.push(Buffer.from(c)));
        expect(Buffer.concat(parts).equals(side(name, format)!), `${name} ${format}`).toBe(true);
      }
    }
  });

  it('raw mode (restore, convert) carries _REF template hashes decoded: their bytes mean nothing alone', async () => {
    const file = join(DIR, 'hash_template_v15.rdb');
    const dec = new RdbDecoder(ByteSource.fromBuffer(readFileSync(file), file), { raw: true });
    const seen: Array<[string, number, boolean]> = [];
    for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) for (const r of b) if (r.kind === 'key') seen.push([r.entry.key.toString(), r.entry.rdbType, r.entry.value?.type === 'hash']);
    expect(seen).toEqual([['user:1', 30, true], ['user:2', 32, true], ['geo:1', 30, true], ['self:lp', 29, false], ['self:arr', 31, false]]);
  });
});

describe('Valkey RDB 81 path hashes (type 23)', () => {
  const file = join(DIR, 'valkey_081_path_hash.rdb');
  async function keys(opts: { raw?: boolean } = {}): Promise<RdbKey[]> {
    const dec = new RdbDecoder(ByteSource.fromBuffer(readFileSync(file), file), opts);
    const out: RdbKey[] = [];
    for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) for (const r of b) if (r.kind === 'key') out.push(r.entry);
    return out;
  }
  const t = (s: string) => Buffer.from(s);

  it('decode into the model: paths and fields in file order, an empty one, a TTL and a binary path', async () => {
    const ks = await keys();
    expect(ks.map((k) => [k.key.toString(), k.rdbType, k.value!.type, k.expireAtMs])).toEqual([
      ['k1', 0, 'string', null],
      ['ph:1', 23, 'pathhash', null],
      ['ph:empty', 23, 'pathhash', null],
      ['ph:ttl', 23, 'pathhash', 1893456000000],
    ]);
    expect(ks[1]!.value).toEqual({
      type: 'pathhash',
      value: {
        paths: [
          { path: t('/a'), fields: [[t('f1'), t('v1')]] },
          { path: t('/a/b'), fields: [[t('z'), t('last')], [t('n'), t('7')], [t('a'), t('')]] },
          { path: t('/b'), fields: [[t('f1'), t('other')]] },
        ],
      },
    });
    expect(ks[2]!.value).toEqual({ type: 'pathhash', value: { paths: [] } });
    expect(ks[3]!.value).toEqual({ type: 'pathhash', value: { paths: [{ path: Buffer.from([0, 0xff, 0x2f]), fields: [[t('k'), t('v')]] }] } });
  });

  it('a DUMP payload stamped 81 carries it to Valkey 9.2 and back; RDB 80 and every Redis version cannot hold it', async () => {
    for (const k of (await keys()).slice(1)) {
      const payload = encodeDump(k.value!, 81, k.key);
      expect(payload[0]).toBe(23);
      expect(payload.readUInt16LE(payload.length - 10)).toBe(81);
      const d = await decodeDump(payload);
      expect(d).toEqual({ value: k.value, rdbType: 23, version: 81 });
      for (const v of [80, 15, 12, 10]) expect(() => encodeDump(k.value!, v, k.key), String(v)).toThrow(`key "${k.key.toString()}": a DUMP payload for RDB ${v} cannot represent a Valkey path hash (VALKEY081, Valkey 9.2+)`);
    }
    // The stored bytes (raw mode, as restore reads a backup) decode alone, as a Valkey 81 value, to the same value.
    const raw = (await keys({ raw: true }))[1]!;
    expect(raw.rdbType).toBe(23);
    expect(await decodeValueBytes(23, raw.raw!, 81, 'ph:1')).toEqual((await keys())[1]!.value);
  });

  it('rdb-memory: one row per path hash with its field count, the path-hash encoding, and an estimate that grows with the data', () => {
    const r = run('rdb-memory', '--csv', file);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.toString().trim().split('\n').slice(1).map((l) => l.split(','));
    const by = new Map(rows.map((c) => [c[2], c]));
    expect([...by.keys()]).toEqual(['k1', 'ph:1', 'ph:empty', 'ph:ttl']);
    for (const k of ['ph:1', 'ph:empty', 'ph:ttl']) expect(by.get(k)!.slice(0, 2).concat(by.get(k)![4]!)).toEqual(['0', 'pathhash', 'path-hash']);
    expect(['ph:1', 'ph:empty', 'ph:ttl'].map((k) => Number(by.get(k)![5]))).toEqual([5, 0, 1]);
    // Longest element: "other" in ph:1 (5 bytes); the 3-byte binary path in ph:ttl.
    expect(['ph:1', 'ph:ttl'].map((k) => Number(by.get(k)![6]))).toEqual([5, 3]);
    const bytes = (k: string) => Number(by.get(k)![3]);
    expect(bytes('ph:empty')).toBeGreaterThan(0);
    expect(bytes('ph:ttl')).toBeGreaterThan(bytes('ph:empty'));
    expect(bytes('ph:1')).toBeGreaterThan(bytes('ph:ttl'));
    expect(by.get('ph:ttl')![7]).toBe('2030-01-01T00:00:00.000Z');
  });

  it('rdb-check counts them by type and encoding', () => {
    const r = run('rdb-check', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toContain('db 0: 4 keys (1 expiring, 0 already expired): string 1, pathhash 3');
    expect(r.out.toString()).toContain('encodings: string 1, path-hash 3');
  });

  it('rdb-dump --type pathhash selects them', () => {
    const r = run('rdb-dump', '--type', 'pathhash', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString().trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(['ph:1', 'ph:empty', 'ph:ttl']);
  });
});

describe('big RDB 14/15 values go through in steps', () => {
  // Built here (not a fixture file: several MB); layouts as in fixtures/rdb-new/gen-*.mjs.
  const N = 300_000;
  const len = (n: number): Buffer => (n < 64 ? Buffer.from([n]) : n < 16384 ? Buffer.from([0x40 | (n >> 8), n & 0xff]) : Buffer.from([0x80, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
  const str = (s: string): Buffer => Buffer.concat([len(Buffer.byteLength(s)), Buffer.from(s)]);
  function bigFile(dupAt = -1): { file: Buffer; dupOffset: number } {
    const fields = Array.from({ length: N / 3 }, (_, i) => `field:${String(i).padStart(6, '0')}`);
    const parts: Buffer[] = [Buffer.from('REDIS0015'), Buffer.from([0xf2]), len(7), len(fields.length), ...fields.map(str), Buffer.from([0xfe]), len(0)];
    parts.push(Buffer.from([28]), str('bigarr'), len(N), len(0));
    let at = parts.reduce((n, p) => n + p.length, 0);
    let dupOffset = -1;
    for (let i = 0; i < N; i++) {
      if (i === dupAt) dupOffset = at;
      const el = Buffer.concat([len(i === dupAt ? 0 : i * 2), len(i % 2), i % 2 ? Buffer.alloc(8, 1) : str(`e${i}`)]);
      parts.push(el);
      at += el.length;
    }
    parts.push(Buffer.from([32]), str('bighash'), len(7), ...fields.map((_, i) => str(`v${i}`)), Buffer.from([0xff]));
    const body = Buffer.concat(parts);
    return { file: Buffer.concat([body, Buffer.alloc(8)]), dupOffset }; // checksum 0: not checked
  }

  it('rdb-check and rdb-dump stream a 300k-element array and a 100k-field template hash; a late duplicate index is found at its offset', async () => {
    const { file } = bigFile();
    const dec = new RdbDecoder(ByteSource.fromStream((async function* () {
      for (let i = 0; i < file.length; i += 65536) yield file.subarray(i, i + 65536);
    })(), 'big.rdb'), { validateOnly: true });
    let keys = 0;
    for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) keys += b.filter((r) => r.kind === 'key').length;
    expect(keys).toBe(2);
    const parts: Buffer[] = [];
    await dumpRdb(ByteSource.fromBuffer(file, 'big.rdb'), { format: 'jsonl', encoding: 'utf8', pieceBytes: 1 << 20 }, (c) => void parts.push(Buffer.from(c)));
    const lines = Buffer.concat(parts).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: { elements?: Array<{ idx: string; val: string }>; fields?: Record<string, string> } });
    expect(lines.map((l) => l.key)).toEqual(['bigarr', 'bighash']);
    expect(lines[0]!.value.elements).toHaveLength(N);
    expect(lines[0]!.value.elements![N - 1]).toEqual({ idx: String((N - 1) * 2), val: '72340172838076673' });
    expect(lines[0]!.value.elements![N - 2]).toEqual({ idx: String((N - 2) * 2), val: `e${N - 2}` });
    expect(Object.keys(lines[1]!.value.fields!)).toHaveLength(N / 3);
    const dup = bigFile(N - 5);
    await expect(
      (async () => {
        const d = new RdbDecoder(ByteSource.fromBuffer(dup.file, 'dup.rdb'), { validateOnly: true });
        while (await d.nextBatch());
      })(),
    ).rejects.toThrow(`dup.rdb: at byte ${dup.dupOffset}: expected unique array indexes, found 0 twice`);
  }, 120_000);

  it('rdb-check streams a Valkey path hash of 300k paths path by path; a late duplicate path is found at its offset; rdb-dump prints it path by path', async () => {
    // Layout as in fixtures/rdb-new/gen-valkey-081.mjs: 23, key, LEN paths, per path STRING path, LEN fields, pairs.
    function pathFile(dupAt = -1): { file: Buffer; dupOffset: number } {
      const parts: Buffer[] = [Buffer.from('VALKEY081'), Buffer.from([0xfe]), len(0), Buffer.from([23]), str('bigph'), len(N)];
      let at = parts.reduce((n, p) => n + p.length, 0);
      let dupOffset = -1;
      for (let i = 0; i < N; i++) {
        if (i === dupAt) dupOffset = at;
        const p = Buffer.concat([str(`/p/${String(i === dupAt ? 0 : i).padStart(6, '0')}`), len(2), str('a'), str(`v${i}`), str('b'), str('')]);
        parts.push(p);
        at += p.length;
      }
      parts.push(Buffer.from([0xff]));
      return { file: Buffer.concat([...parts, Buffer.alloc(8)]), dupOffset };
    }
    const chunks = (file: Buffer) =>
      ByteSource.fromStream((async function* () {
        for (let i = 0; i < file.length; i += 65536) yield file.subarray(i, i + 65536);
      })(), 'bigph.rdb');
    const { file } = pathFile();
    const dec = new RdbDecoder(chunks(file), { validateOnly: true });
    let keys = 0;
    for (let b = await dec.nextBatch(); b; b = await dec.nextBatch()) keys += b.filter((r) => r.kind === 'key').length;
    expect(keys).toBe(1);
    const parts: Buffer[] = [];
    await dumpRdb(ByteSource.fromBuffer(file, 'bigph.rdb'), { format: 'jsonl', encoding: 'utf8', pieceBytes: 1 << 20 }, (c) => void parts.push(Buffer.from(c)));
    const line = JSON.parse(Buffer.concat(parts).toString('utf8')) as { type: string; value: { paths: Record<string, Record<string, string>> } };
    expect(line.type).toBe('pathhash');
    const paths = Object.keys(line.value.paths);
    expect(paths).toHaveLength(N);
    expect(line.value.paths[paths[N - 1]!]).toEqual({ a: `v${N - 1}`, b: '' });
    const resp: Buffer[] = [];
    await dumpRdb(ByteSource.fromBuffer(file, 'bigph.rdb'), { format: 'resp', encoding: 'utf8' }, (c) => void resp.push(Buffer.from(c)));
    const text = Buffer.concat(resp).toString('latin1');
    expect(text.split('$5\r\nPHSET\r\n$5\r\nbigph\r\n').length - 1).toBe(N);
    expect(text.endsWith(`$${String(N - 1).length + 1}\r\nv${N - 1}\r\n$1\r\nb\r\n$0\r\n\r\n`)).toBe(true);
    const dup = pathFile(N - 5);
    await expect(
      (async () => {
        const d = new RdbDecoder(chunks(dup.file), { validateOnly: true });
        while (await d.nextBatch());
      })(),
    ).rejects.toThrow(`bigph.rdb: at byte ${dup.dupOffset}: expected unique path hash paths, found "/p/000000" twice`);
  }, 120_000);
});
